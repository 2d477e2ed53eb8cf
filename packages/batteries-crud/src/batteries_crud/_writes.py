"""Statements of the bulk writes: executemany batches and ``INSERT ... ON CONFLICT``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Executable, Result
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from batteries_crud._filters import coerce_value, parse_key
from batteries_crud._model_info import ModelInfo
from batteries_crud.exceptions import CRUDError, InvalidFilterError

__all__ = [
    "dialect_name",
    "in_input_order",
    "require_conflict_values",
    "rowcount",
    "rows_by_shape",
    "upsert_columns",
    "upsert_statement",
]


def dialect_name(session: AsyncSession) -> str:
    """The name of the database ``session`` talks to (``"postgresql"``, ``"sqlite"``...)."""
    bind = session.bind or session.sync_session.get_bind()
    return bind.dialect.name


def rows_by_shape(rows: Iterable[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Group ``rows`` by their keys, in first-seen order: one executemany per group."""
    # A Core executemany compiles one statement for the keys of the first row: rows with
    # other keys (optional fields left out) go in their own executemany.
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        shapes.setdefault(tuple(row), []).append(row)
    return list(shapes.values())


def rowcount(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE touched."""
    return int(getattr(result, "rowcount", 0))


def upsert_columns(
    info: ModelInfo,
    given: Sequence[dict[str, Any]],
    conflict: Sequence[str] | None,
    update: Sequence[str] | None,
) -> tuple[list[str], list[str]]:
    """The checked conflict target (default: the primary key) and the fields to overwrite.

    Without ``update``, the fields to overwrite are those given in any row, other than the
    conflict target and the primary key.
    """
    target = list(conflict) if conflict else list(info.pk_keys)
    for key in target:
        parse_key(info, key)
    if update is None:
        fields = {k for item in given for k in item} - set(target) - set(info.pk_keys)
        changed = sorted(fields)
    else:
        changed = [parse_key(info, key)[0] for key in update]
    return target, changed


def upsert_statement(
    info: ModelInfo, dialect: str, target: Sequence[str], changed: Sequence[str]
) -> Executable:
    """``INSERT ... ON CONFLICT (target) DO UPDATE SET changed ... RETURNING`` the rows."""
    insert_ = _dialect_insert(info, dialect)
    set_ = {key: insert_.excluded[info.columns[key].name] for key in changed}
    for key, now in info.onupdate.items():
        set_.setdefault(key, now())
    if not set_:
        # DO NOTHING would return no row for an existing key: a no-op update returns it.
        first = target[0]
        set_[first] = insert_.excluded[info.columns[first].name]
    statement: Executable = (
        insert_.on_conflict_do_update(index_elements=[info.columns[k] for k in target], set_=set_)
        .returning(info.model)
        .execution_options(populate_existing=True)
    )
    return statement


def require_conflict_values(
    info: ModelInfo, rows: Iterable[dict[str, Any]], target: Sequence[str]
) -> None:
    """Refuse a row without a value for every conflict field."""
    for row in rows:
        missing = [k for k in target if k not in row]
        if missing:
            msg = (
                f"upsert on table {info.name!r} needs a value for every conflict field "
                f"({', '.join(target)}); missing {', '.join(missing)}: give them, or pass "
                f"conflict=[...] naming a unique constraint's fields"
            )
            raise InvalidFilterError(msg, table=info.name, field=missing[0], valid=target)


def in_input_order(
    info: ModelInfo, returned: Iterable[Any], rows: Sequence[dict[str, Any]], target: Sequence[str]
) -> list[Any]:
    """The ``returned`` objects of an upsert in the order of the input ``rows``."""
    # An ordered RETURNING sorts by newly generated keys, which updated rows do not get:
    # match the rows back to the input by their conflict target, which is unique.
    by_target = {tuple(getattr(obj, k) for k in target): obj for obj in returned}
    return [by_target[tuple(coerce_value(info, k, row[k]) for k in target)] for row in rows]


def _dialect_insert(info: ModelInfo, dialect: str) -> Any:
    if dialect == "postgresql":
        return postgresql.insert(info.model)
    if dialect == "sqlite":
        return sqlite.insert(info.model)
    msg = (
        f"upsert needs INSERT ... ON CONFLICT, which batteries-crud supports on "
        f"PostgreSQL and SQLite, not {dialect}: use get_or_create or update_or_create"
    )
    raise CRUDError(msg, table=info.name)
