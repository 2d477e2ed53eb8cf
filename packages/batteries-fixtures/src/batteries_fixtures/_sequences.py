"""PostgreSQL sequences after a load: moved past the loaded keys, or rewound after a dry run.

Every sequence a loaded column's default draws from counts: ``serial`` and identity columns,
and a ``DEFAULT nextval('...')`` whether or not the sequence is ``OWNED BY`` the column (the
catalog's dependencies say which, ``_reflection``). A sequence shared by several columns is moved
past the largest key of them all.

A sequence only moves forward (backward for a descending one): one that is already past the
keys stays where it is, so keys handed out before (to rows deleted since, or to another table
that shares the sequence) are not handed out again.

``setval`` and ``nextval`` are not undone by a rollback: moving runs last, on the path that
commits; a dry run puts back the sequences it drew values from, unless another session drew from
one meanwhile (then rewinding it would hand out keys already used).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from batteries_fixtures._reflection import SequenceRef
from batteries_fixtures._schema import TableInfo

__all__ = ["SavedSequence", "move_past_keys", "restore", "save"]


@dataclass(frozen=True)
class SavedSequence:
    """A sequence as a dry run found it: its ``last_value``, ``is_called`` and increment."""

    name: str
    value: int
    called: bool
    increment: int


def _users(infos: Iterable[TableInfo]) -> dict[SequenceRef, list[tuple[TableInfo, str]]]:
    """The columns drawing from each sequence, by sequence, in name order."""
    users: dict[SequenceRef, list[tuple[TableInfo, str]]] = {}
    for info in infos:
        for key, ref in info.sequences.items():
            users.setdefault(ref, []).append((info, key))
    return dict(sorted(users.items(), key=lambda item: item[0].name))


async def move_past_keys(connection: AsyncConnection, infos: Iterable[TableInfo]) -> None:
    """Move every sequence the tables' defaults draw from past their largest key.

    One statement per sequence; nothing happens to one whose next value is past them already.
    """
    preparer = connection.dialect.identifier_preparer
    for ref, columns in _users(infos).items():
        up = ref.increment > 0
        tops = ", ".join(
            f"(SELECT {'MAX' if up else 'MIN'}({preparer.quote(info.table.c[key].name)}) "
            f"FROM {preparer.format_table(info.table)})"
            for info, key in columns
        )
        # A numeric key rounds by less than one step: the value is still past every key.
        await connection.execute(
            text(
                f"SELECT setval(CAST(:sequence AS regclass), target, false) FROM ("
                f"SELECT CAST({'GREATEST' if up else 'LEAST'}({tops}) AS bigint) + :step "
                "AS target, CASE WHEN is_called THEN last_value + :step ELSE last_value END "
                f"AS next FROM {ref.name}) AS s "
                f"WHERE target IS NOT NULL AND target {'>' if up else '<'} next"
            ),
            {"sequence": ref.name, "step": ref.increment},
        )


async def save(connection: AsyncConnection, infos: Iterable[TableInfo]) -> list[SavedSequence]:
    """Where the sequences of the tables' defaults stand, for a dry run to put back."""
    saved: list[SavedSequence] = []
    for ref in _users(infos):
        state: Any = (
            await connection.exec_driver_sql(f"SELECT last_value, is_called FROM {ref.name}")
        ).one()
        saved.append(SavedSequence(ref.name, int(state[0]), bool(state[1]), ref.increment))
    return saved


async def restore(
    connection: AsyncConnection, saved: list[SavedSequence], drawn: Mapping[str, int]
) -> None:
    """Put back each sequence ``saved`` that this load drew ``drawn[name]`` values from.

    Only when the sequence stands exactly where those draws left it: another session drew
    from it otherwise.
    """
    for sequence in saved:
        count = drawn.get(sequence.name, 0)
        if not count:
            continue
        state: Any = (
            await connection.exec_driver_sql(f"SELECT last_value FROM {sequence.name}")
        ).one()
        # The first draw returns last_value itself when is_called is false.
        expected = sequence.value + (count - (0 if sequence.called else 1)) * sequence.increment
        if int(state[0]) != expected:
            continue
        await connection.execute(
            text("SELECT setval(CAST(:sequence AS regclass), :value, :called)"),
            {"sequence": sequence.name, "value": sequence.value, "called": sequence.called},
        )
