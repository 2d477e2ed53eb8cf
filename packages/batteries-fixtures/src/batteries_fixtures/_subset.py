"""Subset dumps: ``--where TABLE:SQL`` limits a table's rows, ``--with-related`` adds their parents.

Each limited table gets one SQL condition on its own rows (the table is never aliased, so the
user's SQL may name its columns bare or as ``table.column``); the dump, its row count and the
dangling-reference check all select ``FROM table WHERE <condition>``. The condition is the
user's SQL, OR'ed, with ``--with-related``, with "some dumped row points at this row" for every
foreign key into the table: an ``EXISTS`` over a CTE of the values that foreign key holds in the
rows dumped from the referencing table, which is itself limited the same way. So the closure is
computed by the database, in the statement that reads the rows, and nothing is written: a dump
stays one ``READ ONLY`` snapshot (PostgreSQL refuses ``CREATE TEMP TABLE`` in one, and a hot
standby refuses it always), and it works the same on every connection of ``--jobs``.

Foreign keys that form a cycle between limited tables (a self-reference, ``team -> member ->
team``) cannot be unrolled: each such group of tables gets one recursive CTE that holds, tagged
by foreign key, the values the referencing rows hold; ``UNION`` drops the rows already found, so
it ends on cyclic data. PostgreSQL lets a recursive term name the CTE only once, so several
foreign keys are read through one ``LATERAL``; SQLite takes one recursive ``SELECT`` per key.

Only foreign-key values come from rows; the SQL text is the user's condition, table and column
names quoted by SQLAlchemy, and tags that are our own integers: no value is written into SQL.
Children are not followed (a table's rows do not bring the rows that point at them), as Django's
``dumpdata`` does not follow reverse relations: limit those tables with a ``--where`` of their own.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Collection, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    CTE,
    Column,
    ColumnElement,
    ForeignKeyConstraint,
    Select,
    and_,
    cast,
    exists,
    false,
    literal_column,
    null,
    or_,
    select,
    true,
    union,
    union_all,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from batteries_fixtures._db_errors import first_line
from batteries_fixtures._graph import Edge, strongly_connected
from batteries_fixtures._schema import Schema, TableInfo
from batteries_fixtures.exceptions import FixtureSchemaError
from batteries_models import mask_url

__all__ = ["Subset", "check_where", "parse_where", "plan_subset", "refused"]

Condition = ColumnElement[bool]


def parse_where(items: Iterable[str]) -> dict[str, str]:
    """``TABLE:SQL`` options as ``{table: sql}``; the table is what comes before the first ``:``.

    Raises:
        FixtureSchemaError: An item has no ``:``, no table or no SQL, or a table comes twice.
    """
    where: dict[str, str] = {}
    for item in items:
        table, colon, sql = item.partition(":")
        table = table.strip()
        if not colon or not table or not sql.strip():
            msg = (
                f"--where {item!r} is not TABLE:SQL: give the table, a colon and a condition "
                "on its rows, e.g. --where \"book:published >= '2024-01-01'\""
            )
            raise FixtureSchemaError(msg, table=table or None)
        if table in where:
            msg = (
                f"--where names table {table!r} twice: give one condition, joining both with "
                "AND or OR"
            )
            raise FixtureSchemaError(msg, table=table)
        where[table] = sql
    return where


@dataclass(frozen=True)
class Subset:
    """Which rows of each table a dump holds.

    Attributes:
        tables: Every table the dump holds, pulled-in parents included.
        filters: The condition on the rows of each limited table (absent: every row).
        where: The user's SQL by table.
        related: Rows pointed at are added (so no foreign key of the dump dangles).
        excluded: The tables ``--exclude`` leaves out (``related`` never adds them).
    """

    tables: list[str]
    filters: dict[str, Condition] = field(default_factory=dict)
    where: dict[str, str] = field(default_factory=dict)
    related: bool = False
    excluded: frozenset[str] = frozenset()

    def rows(self, name: str) -> Condition | None:
        """The condition on ``name``'s rows, ``None`` when every row is dumped."""
        return self.filters.get(name)

    def kept(self, schema: Schema, name: str, columns: Sequence[Column[Any]]) -> CTE:
        """The values of ``columns`` in ``name``'s dumped rows, as a CTE of its own (``k0``...).

        A CTE, not a subquery: the condition names the table unaliased, so it must be read in a
        scope of its own, also when the table points at itself.
        """
        statement = select(*(c.label(f"k{i}") for i, c in enumerate(columns)))
        condition = self.rows(name)
        if condition is not None:
            statement = statement.where(condition)
        return only(statement, schema.tables[name]).cte(f"_kept_{_safe(name)}")


def plan_subset(
    schema: Schema,
    chosen: Sequence[str],
    where: Mapping[str, str],
    *,
    related: bool,
    excluded: Collection[str] = (),
) -> Subset:
    """The tables and row conditions of a dump of ``chosen`` limited by ``where``.

    With ``related``, every table the chosen ones point at (transitively, but never an
    ``excluded`` one) is dumped too, with the rows that dumped rows point at; a table with a
    ``--where`` gets those rows besides its own. A chosen table without ``--where`` is whole.

    Raises:
        FixtureSchemaError: A ``--where`` names a table the dump does not hold.
    """
    inside = dict.fromkeys(chosen)
    if related:
        pending = list(chosen)
        while pending:
            for fk in _foreign_keys(schema.tables[pending.pop()]):
                parent = fk.referred_table.fullname
                if parent in schema.tables and parent not in inside and parent not in excluded:
                    inside[parent] = None
                    pending.append(parent)
    for name, sql in where.items():
        if name not in inside:
            why = "--exclude leaves it out" if name in excluded else "the dump leaves it out"
            msg = (
                f"--where names table {name!r}, but {why}: dump that table too, or drop the --where"
            )
            raise FixtureSchemaError(msg, table=name)
        if not sql.strip():
            msg = f"--where of table {name!r} is empty: give a condition on its rows"
            raise FixtureSchemaError(msg, table=name)
    limited = set(where) | (set(inside) - set(chosen))
    closure = _Closure(schema, list(inside), limited, where, related=related)
    filters = {name: closure.member(name) for name in sorted(limited)}
    return Subset(list(inside), filters, dict(where), related, frozenset(excluded))


async def check_where(connection: AsyncConnection, schema: Schema, subset: Subset) -> None:
    """Have the database plan each ``--where`` on its table (``LIMIT 0``: no row is read).

    Raises:
        FixtureSchemaError: The database refuses one, naming the table and what it said.
    """
    for name, sql in sorted(subset.where.items()):
        info = schema.tables[name]
        probe: Select[Any] = select(literal_column("1")).select_from(info.table)
        probe = only(probe.where(user_condition(sql)).limit(0), info)
        try:
            await connection.execute(probe)
        except DBAPIError as exc:
            msg = (
                f"The database refused the --where of table {name!r}: {first_line(exc)}; "
                "it runs as written on the table's rows, in your database's SQL"
            )
            raise FixtureSchemaError(mask_url(msg), table=name) from exc


@asynccontextmanager
async def refused(subset: Subset) -> AsyncIterator[None]:
    """An error the database raises while a ``--where`` runs, as one line naming them."""
    try:
        yield
    except DBAPIError as exc:
        if not subset.where or exc.connection_invalidated or isinstance(exc.orig, OSError):
            raise
        named = ", ".join(sorted(subset.where))
        msg = f"The database refused a --where while dumping (tables {named}): {first_line(exc)}"
        raise FixtureSchemaError(mask_url(msg), table=min(subset.where)) from exc


def only(statement: Select[Any], info: TableInfo) -> Select[Any]:
    """``statement`` reading ``info``'s own rows, not those of its ``INHERITS`` children."""
    return statement.with_hint(info.table, "ONLY", "postgresql") if info.only else statement


def not_null(columns: Iterable[Column[Any]]) -> Condition:
    """Every column is set: a foreign key with a NULL part points at nothing (MATCH SIMPLE)."""
    return and_(*(c.is_not(None) for c in columns))


def user_condition(sql: str) -> Condition:
    """The user's SQL as one condition: verbatim, parenthesised, and safe from a ``--`` comment.

    Not ``text()``, whose ``:name`` parameters would turn ``' :x'``-like text into binds, and
    untyped: a Boolean would read ``WHERE (...) = 1`` on SQLite, false for ``flags & 4``.
    """
    return literal_column(f"(\n{sql}\n)")


@dataclass(frozen=True)
class _Key:
    """One foreign key of the closure: rows of ``child`` point at rows of ``parent``."""

    tag: int
    child: str
    parent: str
    columns: tuple[Column[Any], ...]  # the child's, in key order
    referred: tuple[Column[Any], ...]  # the parent's, in the same order


class _Closure:
    """Builds the condition of each limited table, CTEs shared (each one rendered once)."""

    def __init__(
        self,
        schema: Schema,
        inside: list[str],
        limited: set[str],
        where: Mapping[str, str],
        *,
        related: bool,
    ) -> None:
        self._schema = schema
        self._limited = limited
        self._where = where
        self._into: dict[str, list[_Key]] = {name: [] for name in inside}
        tags = itertools.count()
        if related:
            held = set(inside)
            for child in sorted(held):
                for fk in _foreign_keys(schema.tables[child]):
                    parent = fk.referred_table.fullname
                    if parent in limited and parent in held:
                        pairs = list(fk.elements)
                        self._into[parent].append(
                            _Key(
                                tag=next(tags),
                                child=child,
                                parent=parent,
                                columns=tuple(e.parent for e in pairs),
                                referred=tuple(e.column for e in pairs),
                            )
                        )
        keys = [k for keys in self._into.values() for k in keys]
        # Keys between limited tables, by the group of tables that point at each other.
        between = [Edge(k.child, k.parent, k.tag) for k in keys if k.child in limited]
        self._group: dict[str, int] = {}
        for number, group in enumerate(strongly_connected(sorted(limited), between)):
            for name in group:
                self._group[name] = number
        self._cyclic = {
            k.tag
            for k in keys
            if k.child in limited and self._group[k.child] == self._group[k.parent]
        }
        self._keys = keys
        self._refs: dict[int, CTE | None] = {}
        self._recursive: dict[int, CTE | None] = {}
        self._names = itertools.count()

    def member(self, name: str) -> Condition:
        """The condition of ``name``'s dumped rows, on the unaliased table."""
        terms = self._terms(name)
        if not terms:
            return false()
        return terms[0] if len(terms) == 1 else or_(*terms)

    def _terms(self, name: str, *, outside_group: bool = False) -> list[Condition]:
        """What brings rows of ``name`` into the dump, OR'ed; none: no row.

        ``outside_group``: only what brings rows from outside the table's cycle (the start of
        its recursive CTE).
        """
        terms: list[Condition] = []
        if name in self._where:
            terms.append(user_condition(self._where[name]))
        for key in self._into[name]:
            if outside_group and key.tag in self._cyclic:
                continue
            refs = self._values(key)
            if refs is None:
                continue
            matches = [refs.c[f"k{i}"] == column for i, column in enumerate(key.referred)]
            terms.append(exists().select_from(refs).where(*matches))
        return terms

    def _values(self, key: _Key) -> CTE | None:
        """The values ``key`` holds in the dumped rows of its child (``None``: no row)."""
        if key.tag in self._refs:
            return self._refs[key.tag]
        if key.tag in self._cyclic:
            recursive = self._cycle(self._group[key.child])
            found: CTE | None = None
            if recursive is not None:
                found = (
                    select(
                        *(
                            recursive.c[_slot(key, i)].label(f"k{i}")
                            for i in range(len(key.columns))
                        )
                    )
                    .where(recursive.c.fk == _tag(key))
                    .cte(self._name())
                )
        else:
            child = self._schema.tables[key.child]
            statement = select(*(c.label(f"k{i}") for i, c in enumerate(key.columns))).where(
                not_null(key.columns)
            )
            if key.child in self._limited:
                statement = statement.where(self.member(key.child))
            found = only(statement, child).cte(self._name())
        self._refs[key.tag] = found
        return found

    def _cycle(self, group: int) -> CTE | None:
        """The recursive CTE of one cycle's keys: ``(fk, slots...)``, one slot per column."""
        if group in self._recursive:
            return self._recursive[group]
        inner = [k for k in self._keys if k.tag in self._cyclic and self._group[k.child] == group]
        slots = [(k, i) for k in inner for i in range(len(k.columns))]

        def row(key: _Key, values: Sequence[ColumnElement[Any]]) -> list[ColumnElement[Any]]:
            given = dict(zip((_slot(key, i) for i in range(len(values))), values, strict=True))
            columns: list[ColumnElement[Any]] = [_tag(key).label("fk")]
            for k, i in slots:
                name = _slot(k, i)
                # Typed NULLs: PostgreSQL types a recursive CTE's columns from its first term.
                value = given.get(name, cast(null(), k.columns[i].type))
                columns.append(value.label(name))
            return columns

        starts = []
        for key in inner:
            start = self._terms(key.child, outside_group=True)
            if not start:
                continue
            statement = select(*row(key, key.columns)).where(or_(*start), not_null(key.columns))
            starts.append(only(statement, self._schema.tables[key.child]))
        if not starts:  # nothing outside the cycle brings a row into it
            self._recursive[group] = None
            return None
        first = starts[0]
        if len(starts) > 1:  # SQLAlchemy makes a recursive CTE of one SELECT: select the union
            first = select(*union(*starts).subquery("_starts").c)
        found = first.cte(self._name(), recursive=True)
        steps: list[Select[Any]] = []
        for arriving in inner:
            table = self._schema.tables[arriving.parent]
            reached = [
                found.c[_slot(arriving, i)] == column for i, column in enumerate(arriving.referred)
            ]
            for leaving in (k for k in inner if k.child == arriving.parent):
                step = select(*row(leaving, leaving.columns)).where(
                    found.c.fk == _tag(arriving), *reached, not_null(leaving.columns)
                )
                steps.append(only(step, table))
        if len(steps) == 1:
            found = found.union(steps[0].select_from(found))
        elif self._schema.dialect.name == "postgresql":
            # One reference to the CTE: each row of it runs every step through LATERAL.
            lateral = union_all(*steps).lateral("_step")
            found = found.union(select(*lateral.c).select_from(found).join(lateral, true()))
        else:
            found = found.union(*(step.select_from(found) for step in steps))
        self._recursive[group] = found
        return found

    def _name(self) -> str:
        return f"_subset_{next(self._names)}"


def _foreign_keys(info: TableInfo) -> list[ForeignKeyConstraint]:
    return sorted(info.table.foreign_key_constraints, key=lambda fk: [c.key for c in fk.columns])


def _slot(key: _Key, index: int) -> str:
    return f"s{key.tag}_{index}"


def _tag(key: _Key) -> ColumnElement[Any]:
    return literal_column(str(key.tag))


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in name)
