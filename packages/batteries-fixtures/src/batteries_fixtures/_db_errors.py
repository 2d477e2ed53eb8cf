"""Turn what the database refused into a fixture error that names the table and constraint."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import (
    Column,
    PrimaryKeyConstraint,
    UniqueConstraint,
    exists,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from batteries_fixtures._convert import EXISTS, FILE, RECORD, SAME, SHAPE, Converter
from batteries_fixtures._schema import Schema, TableInfo
from batteries_fixtures.exceptions import FixtureConnectionError, FixtureIntegrityError
from batteries_models import Database, mask_url

__all__ = ["connection_lost", "first_line", "integrity_error", "locate_clash"]

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


def connection_lost(
    db: Database | AsyncConnection, table: str | None, *, committing: bool
) -> FixtureConnectionError:
    """The one-line error for a connection that died under a load."""
    url = db.masked_url if isinstance(db, Database) else mask_url(db.engine.url)
    where = f"while writing table {table!r}" if table else "while loading"
    if committing:
        msg = (
            f"The connection to {url} was lost while committing the load; the server "
            "may or may not have committed it: check the data, then load again (a merge is safe "
            "to repeat)"
        )
        return FixtureConnectionError(msg, table=table, committed=None)
    msg = f"The connection to {url} was lost {where}; nothing was written"
    return FixtureConnectionError(msg, table=table, committed=False)


async def locate_clash(
    connection: AsyncConnection,
    error: FixtureIntegrityError,
    converter: Converter,
    files: list[str],
    exc: IntegrityError,
) -> FixtureIntegrityError:
    """``error`` naming the record that broke a unique constraint, when one can be found.

    Runs in the load's transaction, after the failed statement was undone: the staging table
    still holds every record. First a value two records of the fixture give, then a value a
    row stored under another key already has.
    """
    info = converter.info
    if error.constraint is None:
        return error
    columns = _unique_columns(info, error.constraint) or _driver_columns(info, exc)
    if not columns:
        return error
    s = converter.staging
    written = [s.c[SAME] == 0]
    for key in columns:
        written.append(s.c[key].is_not(None))
        if key in converter.data_keys:  # a stored row keeps the columns its record leaves out
            position = converter.data_keys.index(key) + 1
            written.append(or_(func.substr(s.c[SHAPE], position, 1) == "1", s.c[EXISTS] == 0))
    values = [s.c[k] for k in columns]
    order = (s.c[FILE], s.c[RECORD])
    numbered = select(
        s.c[FILE],
        s.c[RECORD],
        *values,
        func.row_number().over(partition_by=values, order_by=order).label("n"),
        func.first_value(s.c[FILE]).over(partition_by=values, order_by=order).label("f"),
        func.first_value(s.c[RECORD]).over(partition_by=values, order_by=order).label("r"),
    ).where(*written)
    inner = numbered.subquery()
    query = select(inner).where(inner.c.n == 2).order_by(inner.c[FILE], inner.c[RECORD]).limit(1)
    found: Any = (await connection.execute(query)).first()
    if found is not None:
        also = f"as {files[found.f]} record {found.r} does"
    else:
        t = info.table
        others = [t.c[k].is_distinct_from(s.c[k]) for k in converter.pk_keys]
        other_key = or_(*others) if others else true()  # no primary key: any stored row
        taken = exists().where(*(t.c[k] == s.c[k] for k in columns), other_key)
        query = select(s.c[FILE], s.c[RECORD], *values).where(*written, taken)
        found = (await connection.execute(query.order_by(*order).limit(1))).first()
        also = "as a row already stored under another key does"
    if found is None:
        return error
    path, record = files[found[0]], found[1]
    shown = ", ".join(f"{k}={v!r}" for k, v in zip(columns, found[2:], strict=False))
    msg = (
        f"{path} record {record}: table {info.name!r} {shown} breaks unique constraint "
        f"{error.constraint!r} {also}; nothing was written"
    )
    return FixtureIntegrityError(
        mask_url(msg),
        table=info.name,
        constraint=error.constraint,
        path=path,
        record=record,
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
