"""The one place where database integrity errors become :class:`ConflictError`."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import ForeignKeyConstraint, Index, Table, UniqueConstraint
from sqlalchemy.exc import IntegrityError

from batteries_crud._model_info import ModelInfo
from batteries_crud.exceptions import ConflictError, ConflictKind

__all__ = ["translate_integrity_error"]

_SQLSTATES: dict[str, ConflictKind] = {
    "23505": "unique",
    "23503": "foreign_key",
    "23502": "not_null",
    "23514": "check",
}
_SQLITE = re.compile(r"(UNIQUE|FOREIGN KEY|NOT NULL|CHECK) constraint failed(?::\s*(.*))?")
_SQLITE_KINDS: dict[str, ConflictKind] = {
    "UNIQUE": "unique",
    "FOREIGN KEY": "foreign_key",
    "NOT NULL": "not_null",
    "CHECK": "check",
}
_ADVICE: dict[ConflictKind, str] = {
    "unique": "a row with the same {what} already exists; use another value or update that row",
    "foreign_key": "{what} refers to a row that does not exist, or a row other rows refer to "
    "was deleted; create or keep the referenced row first",
    "not_null": "{what} must not be null; give it a value",
    "check": "a value breaks the check constraint; fix the value",
    "unknown": "the database refused the write; see the chained error",
}


def _driver_error(exc: IntegrityError) -> tuple[Any, Any]:
    orig = exc.orig
    # asyncpg's own exception (with sqlstate and constraint_name) hides behind SQLAlchemy's
    # DBAPI adapter as its __cause__.
    return orig, getattr(orig, "__cause__", None)


def _constraint_columns(tables: dict[str, Table], name: str) -> tuple[str, tuple[str, ...]] | None:
    for table in tables.values():
        for constraint in table.constraints:
            if constraint.name == name:
                return table.name, tuple(c.name for c in getattr(constraint, "columns", ()))
        for index in table.indexes:
            if index.name == name:
                return table.name, tuple(c.name for c in index.columns if hasattr(c, "name"))
    return None


def _unique_name(table: Table, columns: tuple[str, ...]) -> str | None:
    wanted = set(columns)
    if {c.name for c in table.primary_key.columns} == wanted:
        return str(table.primary_key.name) if table.primary_key.name else None
    for item in [*table.constraints, *table.indexes]:
        if isinstance(item, UniqueConstraint | Index) and {c.name for c in item.columns} == wanted:
            return str(item.name) if item.name else None
    return None


def translate_integrity_error(info: ModelInfo, exc: IntegrityError) -> ConflictError:
    """Build the :class:`ConflictError` for ``exc``, naming kind, constraint and columns."""
    orig, cause = _driver_error(exc)
    table = info.name
    kind: ConflictKind = "unknown"
    constraint: str | None = None
    columns: tuple[str, ...] = ()
    sqlstate = getattr(cause, "sqlstate", None) or getattr(orig, "sqlstate", None)
    if sqlstate in _SQLSTATES:
        kind = _SQLSTATES[sqlstate]
        constraint = getattr(cause, "constraint_name", None)
        if constraint:
            found = _constraint_columns(dict(info.table.metadata.tables), constraint)
            if found is not None:
                table, columns = found
        elif kind == "not_null" and getattr(cause, "column_name", None):
            columns = (str(cause.column_name),)
            table = str(getattr(cause, "table_name", None) or table)
    else:
        match = _SQLITE.search(str(orig))
        if match is not None:
            kind = _SQLITE_KINDS[match.group(1)]
            detail = (match.group(2) or "").strip()
            if kind in ("unique", "not_null") and detail:
                pairs = [part.strip().rsplit(".", 1) for part in detail.split(",")]
                table = pairs[0][0] if len(pairs[0]) == 2 else table
                columns = tuple(pair[-1] for pair in pairs)
                if kind == "unique" and table in info.table.metadata.tables:
                    constraint = _unique_name(info.table.metadata.tables[table], columns)
            elif kind == "check" and detail:
                constraint = detail
            elif kind == "foreign_key":
                # SQLite does not say which key failed: name the model's foreign keys.
                columns = tuple(
                    c.name
                    for fk in info.table.constraints
                    if isinstance(fk, ForeignKeyConstraint)
                    for c in fk.columns
                )
    what = ", ".join(columns) if columns else "value"
    named = f" (constraint {constraint})" if constraint else ""
    message = f"Conflict on table {table!r}{named}: " + _ADVICE[kind].format(what=what)
    return ConflictError(message, table=table, kind=kind, constraint=constraint, columns=columns)
