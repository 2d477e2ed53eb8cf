"""The one place where database errors become typed errors.

Integrity errors become :class:`ConflictError` (naming the constraint, its table and columns),
errors about a value the database cannot take become :class:`InvalidValueError`. Everything
else (a lost connection, a syntax error) is left alone: it is not the caller's input.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import ForeignKeyConstraint, Index, Table, UniqueConstraint
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, StatementError

from batteries_crud._model_info import ModelInfo
from batteries_crud.exceptions import ConflictError, ConflictKind, InvalidValueError

__all__ = ["invalid_value_error", "translate_integrity_error"]

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


def _driver_error(exc: DBAPIError) -> tuple[Any, Any]:
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


def _referencing(info: ModelInfo) -> list[tuple[str, tuple[str, ...]]]:
    """The tables (and their columns) whose foreign keys refer to ``info``'s table."""
    found: list[tuple[str, tuple[str, ...]]] = []
    for table in info.table.metadata.tables.values():
        for fk in table.foreign_key_constraints:
            if fk.referred_table is info.table:
                found.append((table.name, tuple(c.name for c in fk.columns)))
    return found


def _still_referenced(
    info: ModelInfo, exc: IntegrityError, kind: ConflictKind, table: str, columns: tuple[str, ...]
) -> ConflictError | None:
    """The conflict of a delete that rows of other tables still refer to, or ``None``.

    The database says "foreign key" (PostgreSQL names the referencing constraint; SQLite names
    nothing), or, when the ORM first tried to detach the children through a relationship,
    "not null" on the children's key column.
    """
    referencing = _referencing(info)
    if kind == "not_null":
        referencing = [(t, c) for t, c in referencing if t == table and set(columns) <= set(c)]
    elif kind == "foreign_key" and table != info.name:
        referencing = [(t, c) for t, c in referencing if t == table] or referencing
    elif kind != "foreign_key":
        return None
    if not referencing:
        return None
    names = ", ".join(f"{t!r} ({', '.join(c)})" for t, c in referencing)
    message = (
        f"Conflict on table {info.name!r}: rows of {names} still refer to the row; "
        f"delete them or point them elsewhere first"
    )
    first_table, first_columns = referencing[0]
    constraint = None
    if kind == "foreign_key" and table == first_table:
        constraint = getattr(_driver_error(exc)[1], "constraint_name", None)
    return ConflictError(
        message,
        table=first_table,
        kind="foreign_key",
        constraint=constraint,
        columns=first_columns,
    )


def invalid_value_error(info: ModelInfo, exc: BaseException) -> InvalidValueError | None:
    """The :class:`InvalidValueError` for a driver error about a value, or ``None``.

    Values are checked before any SQL is sent; this catches what those checks cannot see (a
    NUMERIC overflow, a NUL inside a JSON document) so that it is still the caller's error.
    The driver rarely says which field: ``field`` is then empty.
    """
    if isinstance(exc, DBAPIError) and not isinstance(exc, IntegrityError):
        orig, cause = _driver_error(exc)
        sqlstate = str(getattr(cause, "sqlstate", None) or getattr(orig, "sqlstate", None) or "")
        # Class 22 is SQL's "data exception"; asyncpg's own DataError (a ValueError) is a
        # value it could not encode for a query argument.
        if not (
            isinstance(exc, DataError) or sqlstate.startswith("22") or isinstance(cause, ValueError)
        ):
            return None
        reason = str(cause or orig)
    elif isinstance(exc, StatementError) and not isinstance(exc, DBAPIError):
        # A type's bind processor failed on the value (a float column given 10**400).
        if not isinstance(exc.orig, ValueError | TypeError | OverflowError):
            return None
        reason = str(exc.orig)
    elif isinstance(exc, OverflowError | UnicodeEncodeError):
        reason = str(exc)  # sqlite3 raises these itself, unwrapped
    else:
        return None
    # One line, and short: the driver may quote the whole offending value.
    lines = reason.strip().splitlines()
    reason = lines[0][:200] if lines else type(exc).__name__
    msg = f"Invalid value for table {info.name!r}: the database refused it ({reason})"
    return InvalidValueError(msg, table=info.name, field="", reason=reason)


def translate_integrity_error(
    info: ModelInfo, exc: IntegrityError, *, deleting: bool = False
) -> ConflictError:
    """Build the :class:`ConflictError` for ``exc``, naming kind, constraint and columns.

    With ``deleting``, a foreign-key (or the ORM's not-null) failure means other rows still
    refer to the deleted one: the error names their table.
    """
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
        # PostgreSQL 18 names NOT NULL constraints, which the metadata does not know.
        if not columns and kind == "not_null" and getattr(cause, "column_name", None):
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
    if deleting:
        referenced = _still_referenced(info, exc, kind, table, columns)
        if referenced is not None:
            return referenced
    what = ", ".join(columns) if columns else "value"
    named = f" (constraint {constraint})" if constraint else ""
    message = f"Conflict on table {table!r}{named}: " + _ADVICE[kind].format(what=what)
    return ConflictError(message, table=table, kind=kind, constraint=constraint, columns=columns)
