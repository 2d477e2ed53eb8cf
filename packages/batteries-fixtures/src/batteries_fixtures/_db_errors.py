"""Turn what the database refused into a fixture error that names the table and constraint."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Column, PrimaryKeyConstraint, UniqueConstraint, select, tuple_
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from batteries_fixtures._records import NaturalRef, Row, TableRows, freeze
from batteries_fixtures._schema import Schema, TableInfo
from batteries_fixtures.exceptions import FixtureConnectionError, FixtureIntegrityError
from batteries_models import Database, mask_url

__all__ = ["connection_lost", "first_line", "integrity_error", "locate_clash"]

_CHUNK = 500
_PG_KEY = re.compile(r"Key \((.+?)\)=\(")


def first_line(exc: BaseException) -> str:
    """The first line of the driver's message (or of ``exc``), or its type when it is empty."""
    orig = getattr(exc, "orig", None) or exc
    text_ = str(orig).strip().splitlines()
    return text_[0] if text_ else type(orig).__name__


def integrity_error(
    exc: IntegrityError, table: str | None, schema: Schema
) -> FixtureIntegrityError:
    """A :class:`FixtureIntegrityError` naming the table, constraint and detail of ``exc``."""
    cause = getattr(exc.orig, "__cause__", None)
    constraint = getattr(cause, "constraint_name", None)
    table = getattr(cause, "table_name", None) or table
    detail = getattr(cause, "detail", None)
    message = first_line(exc)
    if constraint is None:
        constraint = _sqlite_constraint(message, schema)
    parts = [f"The database refused the fixture: {message}"]
    if table:
        parts.append(f"table {table!r}")
    if constraint:
        parts.append(f"constraint {constraint!r}")
    if detail:
        parts.append(str(detail).replace("\n", " "))
    msg = "; ".join(parts) + "; nothing was written"
    return FixtureIntegrityError(mask_url(msg), table=table, constraint=constraint)


def _sqlite_constraint(message: str, schema: Schema) -> str | None:
    """SQLite names columns (``UNIQUE constraint failed: t.a, t.b``); find the constraint."""
    kind, _, rest = message.partition(" constraint failed: ")
    if not rest:
        return None
    if kind in ("UNIQUE", "PRIMARY KEY"):
        names = [part.strip() for part in rest.split(",")]
        table_name = names[0].rsplit(".", 1)[0]
        columns = {n.rsplit(".", 1)[-1] for n in names}
        info = schema.tables.get(table_name)
        if info is not None:
            for constraint in info.table.constraints:
                cols = {c.name for c in getattr(constraint, "columns", [])}
                if cols == columns and constraint.name:
                    return str(constraint.name)
            for index in info.table.indexes:
                if index.unique and {c.name for c in index.columns} == columns and index.name:
                    return str(index.name)
        return rest
    return rest


def connection_lost(db: Database, table: str | None, *, committing: bool) -> FixtureConnectionError:
    """The one-line error for a connection that died under a load."""
    where = f"while writing table {table!r}" if table else "while loading"
    if committing:
        msg = (
            f"The connection to {db.masked_url} was lost while committing the load; the server "
            "may or may not have committed it: check the data, then load again (a merge is safe "
            "to repeat)"
        )
        return FixtureConnectionError(msg, table=table, committed=None)
    msg = f"The connection to {db.masked_url} was lost {where}; nothing was written"
    return FixtureConnectionError(msg, table=table, committed=False)


async def locate_clash(
    db: Database, error: FixtureIntegrityError, rows: TableRows | None, exc: IntegrityError
) -> FixtureIntegrityError:
    """``error`` naming the record that broke a unique constraint, when one can be found.

    The transaction is gone by now, so this looks at the fixture's rows and at what the
    database held before the load: a value given twice in the fixture, or a value another
    stored row (one with a different primary key) already has.
    """
    if rows is None or error.constraint is None:
        return error
    columns = _unique_columns(rows.info, error.constraint) or _driver_columns(rows.info, exc)
    if not columns:
        return error
    clash = _clash_in_fixture(rows.rows, columns)
    if clash is None:
        try:
            clash = await _clash_in_database(db, rows, columns)
        except (SQLAlchemyError, OSError):  # the error we already have is worth more
            return error
    if clash is None:
        return error
    row, other = clash
    shown = ", ".join(f"{k}={row.values[k]!r}" for k in columns)
    also = f"as {other} does" if other else "as a row already stored under another key does"
    msg = (
        f"{row.where()}: table {rows.info.name!r} {shown} breaks unique constraint "
        f"{error.constraint!r} {also}; nothing was written"
    )
    return FixtureIntegrityError(
        mask_url(msg),
        table=rows.info.name,
        constraint=error.constraint,
        path=row.path,
        record=row.index,
        field=columns[0],
    )


def _unique_columns(info: TableInfo, name: str) -> list[str]:
    for constraint in info.table.constraints:
        if constraint.name == name and isinstance(
            constraint, UniqueConstraint | PrimaryKeyConstraint
        ):
            return [c.key for c in constraint.columns]
    for index in info.table.indexes:
        if index.name == name and index.unique:
            return [c.key for c in index.columns if isinstance(c, Column)]
    return []


def _driver_columns(info: TableInfo, exc: IntegrityError) -> list[str]:
    """Columns of a unique violation the models do not name, as the driver names them.

    PostgreSQL's detail says ``Key (a, b)=(...)``, SQLite's message ``failed: t.a, t.b``.
    """
    detail = str(getattr(getattr(exc.orig, "__cause__", None), "detail", None) or "")
    found = _PG_KEY.match(detail)
    if found:
        names = [n.strip().strip('"') for n in found.group(1).split(",")]
    else:
        _, _, rest = first_line(exc).partition("UNIQUE constraint failed: ")
        names = [n.strip().rsplit(".", 1)[-1] for n in rest.split(",")] if rest else []
    by_name = {c.name: c.key for c in info.table.columns}
    return [by_name[n] for n in names] if names and all(n in by_name for n in names) else []


def _comparable(row: Row, columns: list[str]) -> tuple[Any, ...] | None:
    """The row's values of ``columns``, or ``None`` when one is unknown or NULL (never clashes)."""
    values = tuple(row.values.get(k) for k in columns)
    if any(v is None or isinstance(v, NaturalRef) for v in values):
        return None
    if any(k not in row.values for k in columns):
        return None
    return values


def _clash_in_fixture(rows: list[Row], columns: list[str]) -> tuple[Row, str] | None:
    seen: dict[Any, Row] = {}
    for row in rows:
        values = _comparable(row, columns)
        if values is None:
            continue
        key = freeze(list(values))
        first = seen.get(key)
        if first is not None:
            return row, first.where()
        seen[key] = row
    return None


async def _clash_in_database(
    db: Database, rows: TableRows, columns: list[str]
) -> tuple[Row, str] | None:
    info = rows.info
    table = info.table
    pk_keys = [c.key for c in info.pk]
    wanted: dict[tuple[Any, ...], Row] = {}
    for row in rows.rows:
        values = _comparable(row, columns)
        if values is not None:
            wanted.setdefault(values, row)
    keys = list(wanted)
    async with db.connect() as connection:
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start : start + _CHUNK]
            condition = tuple_(*(table.c[k] for k in columns)).in_(chunk)
            selected = [*(table.c[k] for k in columns), *(table.c[k] for k in pk_keys)]
            result = await connection.execute(select(*selected).where(condition))
            for stored in result:
                found = wanted.get(tuple(stored[: len(columns)]))
                if found is None:
                    continue
                stored_pk = tuple(stored[len(columns) :])
                own_pk = tuple(found.values.get(k) for k in pk_keys)
                if not found.exists or own_pk != stored_pk:
                    return found, ""
    return None
