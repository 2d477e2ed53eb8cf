"""Tables without a primary key, as Django dumps them: every column, rows in column order.

A dump writes such a table's records without ``pk`` and orders its rows by every column in
table order (NULLs first, text by bytes, as for keys), then, on PostgreSQL, by the row's text, so
rows that compare equal but read differently (``1.0`` and ``1.00``) still come out in one order.

A load appends their records: there is no key to find a stored row by. ``--append`` and
``--truncate`` do what they say; a merge (the default) loads such a table only while it is
empty, and otherwise refuses: it cannot tell which stored rows the records are, so merging
twice would store every row twice.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Text, cast, exists, select
from sqlalchemy import types as sqltypes
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from batteries_fixtures._codecs import resolve_type
from batteries_fixtures._schema import TableInfo
from batteries_fixtures.exceptions import FixtureSchemaError

__all__ = ["order_by", "refuse_merge"]

# Types PostgreSQL orders as SQLite does; anything else is ordered by its text there.
_NATIVE = (
    sqltypes.Integer,
    sqltypes.Numeric,
    sqltypes.Boolean,
    sqltypes.Date,
    sqltypes.DateTime,
    sqltypes.Time,
    sqltypes._Binary,
)


def order_by(info: TableInfo, dialect: Dialect) -> list[ColumnElement[Any]]:
    """ORDER BY clauses that give a table without a primary key the same row order every time."""
    postgres = dialect.name == "postgresql"
    clauses: list[ColumnElement[Any]] = []
    for column in info.columns:
        resolved = resolve_type(column.type, dialect)
        value: ColumnElement[Any] = column
        if postgres:
            if isinstance(resolved, sqltypes.Enum) or not isinstance(
                resolved, (*_NATIVE, sqltypes.String)
            ):
                # An enum sorts by declaration there, json not at all: their text sorts.
                value = cast(column, Text)
            if isinstance(resolved, sqltypes.String | sqltypes.Enum) or value is not column:
                value = value.collate("C")
        clauses.append(value.asc().nulls_first())
    if postgres:
        clauses.append(cast(info.table.table_valued(), Text).collate("C").asc())
    return clauses


async def refuse_merge(connection: AsyncConnection, info: TableInfo) -> None:
    """Refuse to merge into a table without a primary key that already holds rows."""
    if (await connection.execute(select(exists().select_from(info.table)))).scalar():
        msg = (
            f"Table {info.name!r} has no primary key, so a merge cannot tell which of its "
            "stored rows the fixture's records are: load with --truncate to replace its rows, "
            "or --append to add the records to them"
        )
        raise FixtureSchemaError(msg, table=info.name)
