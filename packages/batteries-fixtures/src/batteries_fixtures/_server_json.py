"""PostgreSQL writes a table's dump records itself: one text expression per row, COPY'd out.

The Python encoder (each column's codec, then ``RecordWriter``) stays the definition of the
format; the server only takes a table whose every column has an expression known to give the
encoder's exact text for the column's stored type (checked in the catalog, so a domain or a
model that disagrees with the database goes to Python): ``to_json`` escapes text as
``json.dumps(ensure_ascii=False)`` does; integers, booleans and UUIDs print alike; ``to_char``
writes the codecs' ISO 8601; ``encode(..., 'base64')`` is the codecs' base64 without line
breaks. Values that print otherwise in Python (a numeric that asyncpg reads as ``1E+4``, a
timestamp outside Python's years 1 to 9999) are looked for with one query first: if a table
holds one, the whole table takes the Python path. Floats, JSON, arrays, times and the rest
always do. The rows come out of ``COPY ... TO STDOUT`` in CSV form with a delimiter and a
quote character that JSON text never holds raw (control characters are escaped), so each
line is exactly one record's text.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Text,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy import types as sqltypes
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.schema import Column as SAColumn

from batteries_fixtures._codecs import resolve_type
from batteries_fixtures._formats import RecordWriter
from batteries_fixtures._schema import TableInfo
from batteries_fixtures._target import Progress

__all__ = ["copy_records"]

# Neither appears raw in JSON text, so COPY's CSV output never quotes a line.
_DELIMITER = "\x01"
_QUOTE = "\x02"

# The function the Python encoder writes keys and strings with.
encode_json_string: Callable[[str], str] = json.encoder.encode_basestring
_Column = SAColumn[Any]
_Text = ColumnElement[str]


async def copy_records(
    connection: AsyncConnection,
    info: TableInfo,
    writer: RecordWriter,
    order_by: list[ColumnElement[Any]],
    *,
    total: int,
    progress: Progress | None,
) -> int | None:
    """Write ``info``'s rows through ``writer`` with one ``COPY``; ``None`` if it cannot.

    ``None`` (nothing written) when the connection is not asyncpg's inside a transaction, a
    column has no exact expression, or a stored value would print otherwise.
    """
    if connection.dialect.driver != "asyncpg" or not writer.flat:
        return None
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    if not driver.is_in_transaction():  # the snapshot is a transaction's: never outside one
        return None
    stored = await _stored_types(connection, info)
    built = _record_expression(info, stored, connection)
    if built is None:
        return None
    line, guards = built
    table = info.table
    query = select(line).select_from(table).order_by(*order_by)
    if info.only:  # INHERITS children hold rows of their own, dumped as their own table
        query = query.with_hint(table, "ONLY", "postgresql")
    if guards:
        outside = select(literal(1)).select_from(table).where(~and_(*guards)).limit(1)
        if info.only:
            outside = outside.with_hint(table, "ONLY", "postgresql")
        if (await connection.execute(outside)).first() is not None:
            return None
    sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    count = 0
    pending = b""

    async def take(data: bytes | bytearray) -> None:
        nonlocal count, pending
        if pending:
            data = pending + data
        end = data.rfind(b"\n") + 1
        pending = bytes(data[end:])
        if not end:
            return
        text = (data if end == len(data) else data[:end]).decode("utf-8")
        lines = text.count("\n")
        writer.write_lines(text, lines)
        count += lines
        if progress is not None:
            progress(info.name, count, max(total, count))

    await driver.copy_from_query(sql, output=take, format="csv", delimiter=_DELIMITER, quote=_QUOTE)
    if pending:  # COPY ends every row with a newline: never expected
        msg = f"COPY of table {info.name!r} ended inside a row"
        raise RuntimeError(msg)
    return count


async def _stored_types(connection: AsyncConnection, info: TableInfo) -> dict[str, tuple[str, str]]:
    """Each column's stored type in the catalog, by column name: (type name, type kind)."""
    name = connection.dialect.identifier_preparer.format_table(info.table)
    found = await connection.execute(
        text(
            "SELECT a.attname, t.typname, CAST(t.typtype AS TEXT) FROM pg_attribute a "
            "JOIN pg_type t ON t.oid = a.atttypid "
            "WHERE a.attrelid = CAST(:name AS regclass) AND a.attnum > 0 AND NOT a.attisdropped"
        ),
        {"name": name},
    )
    rows: list[Any] = list(found)
    return {str(row[0]): (str(row[1]), str(row[2])) for row in rows}


def _record_expression(
    info: TableInfo, stored: dict[str, tuple[str, str]], connection: AsyncConnection
) -> tuple[_Text, list[ColumnElement[bool]]] | None:
    """The record's text as one expression, and the conditions under which it is exact."""
    guards: list[ColumnElement[bool]] = []
    values: dict[str, _Text] = {}
    for column in info.columns:
        found = _value_expression(column, info, stored.get(column.name), connection)
        if found is None:
            return None
        value, guard = found
        if guard is not None:
            guards.append(or_(column.is_(None), guard))
        values[column.key] = value
    pk_keys = info.pk_keys
    parts: list[str | _Text] = [f'{{"table": {encode_json_string(info.name)}']
    if len(pk_keys) == 1:
        parts += [', "pk": ', values[pk_keys[0]]]
    elif pk_keys:  # an object, as json.dumps writes one
        parts.append(', "pk": {')
        for i, key in enumerate(pk_keys):
            parts += [("" if i == 0 else ", ") + encode_json_string(key) + ": ", values[key]]
        parts.append("}")
    # else: a table without a primary key, whose records have no "pk"
    parts.append(', "fields": {')
    first = True
    for column in info.columns:
        if column.key in pk_keys:
            continue
        parts.append(("" if first else ", ") + encode_json_string(column.key) + ": ")
        value = values[column.key]
        parts.append(func.coalesce(value, "null") if column.nullable else value)
        first = False
    parts.append("}}")
    return _concatenate(parts), guards


def _concatenate(parts: list[str | _Text]) -> _Text:
    """One ``concat(...)``: a chain of ``||`` copies the text once per operator, twice as slow."""
    merged: list[str | _Text] = []
    for part in parts:  # neighbouring constants as one literal
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        else:
            merged.append(part)
    elements: list[Any] = [literal(p, Text) if isinstance(p, str) else p for p in merged]
    while len(elements) > _MAX_ARGUMENTS:  # PostgreSQL functions take at most 100
        elements = [
            func.concat(*elements[i : i + _MAX_ARGUMENTS])
            for i in range(0, len(elements), _MAX_ARGUMENTS)
        ]
    return func.concat(*elements)


_MAX_ARGUMENTS = 100


# Dates and timestamps: their codecs read the column itself inside years 1 to 9999, the range
# these expressions are used in (outside it the table takes the Python path).
_GUARDED = frozenset({"datetime-aware", "datetime-naive", "date"})
_DATETIME = 'YYYY-MM-DD"T"HH24:MI:SS.US'
# The years Python's datetime holds: outside them the Python path decides what happens. SQL
# literals, not parameters: asyncpg sends datetime.max and date.max as 'infinity'.
_FIRST, _LAST = "0001-01-01 00:00:00", "9999-12-31 23:59:59.999999"


def _between(column: _Column, first: str, last: str, type_name: str) -> ColumnElement[bool]:
    return column.between(
        literal_column(f"CAST('{first}' AS {type_name})"),
        literal_column(f"CAST('{last}' AS {type_name})"),
    )


def _value_expression(
    column: _Column,
    info: TableInfo,
    stored: tuple[str, str] | None,
    connection: AsyncConnection,
) -> tuple[_Text, ColumnElement[bool] | None] | None:
    """How the server writes ``column``'s non-null values, and when that is exact."""
    if stored is None:
        return None
    type_name, type_kind = stored
    codec = info.codecs[column.key]
    kind = codec.kind
    if codec.read is not None and kind not in _GUARDED:
        return None  # Python reads another expression of it: not the column's plain value
    resolved = resolve_type(column.type, connection.dialect)

    def quoted(inner: _Text) -> _Text:  # NULL stays NULL (concat() would give "")
        return literal('"', Text) + inner + literal('"', Text)

    def text_of(value: Any) -> _Text:
        return cast(value, Text)

    builders: dict[str, tuple[frozenset[str], Callable[[], tuple[_Text, Any]]]] = {
        "int": (frozenset({"int2", "int4", "int8"}), lambda: (text_of(column), None)),
        "bool": (frozenset({"bool"}), lambda: (text_of(column), None)),  # true, false
        "str": (frozenset({"text", "varchar"}), lambda: (_json_text(column), None)),
        "uuid": (frozenset({"uuid"}), lambda: (quoted(text_of(column)), None)),
        "decimal": (
            frozenset({"numeric"}),
            lambda: (quoted(text_of(column)), _decimal_prints_alike(column)),
        ),
        "datetime-aware": (
            frozenset({"timestamptz"}),
            lambda: (
                quoted(func.to_char(func.timezone("UTC", column), _DATETIME + '"+00:00"')),
                _between(column, _FIRST + "+00", _LAST + "+00", "timestamptz"),
            ),
        ),
        "datetime-naive": (
            frozenset({"timestamp"}),
            lambda: (
                quoted(func.to_char(column, _DATETIME)),
                _between(column, _FIRST, _LAST, "timestamp"),
            ),
        ),
        "date": (
            frozenset({"date"}),
            lambda: (
                quoted(func.to_char(column, "YYYY-MM-DD")),
                _between(column, "0001-01-01", "9999-12-31", "date"),
            ),
        ),
        "bytes": (
            frozenset({"bytea"}),
            lambda: (quoted(func.translate(func.encode(column, "base64"), "\n", "")), None),
        ),
    }
    if kind == "enum" and isinstance(resolved, sqltypes.Enum) and resolved.enum_class is None:
        if type_name in {"text", "varchar"} or type_kind == "e":
            return _json_text(column), None
        return None
    found = builders.get(kind)
    if found is None or type_name not in found[0]:
        return None
    expression, guard = found[1]()
    return expression, guard


def _json_text(column: _Column) -> _Text:
    return cast(func.to_json(cast(column, Text)), Text)


def _decimal_prints_alike(column: _Column) -> ColumnElement[bool]:
    """Whether asyncpg's ``Decimal`` of the value prints as the server's text.

    asyncpg gives ``1E+4`` for an integer ending in a zero base-10000 digit (``10000``), and
    ``str(Decimal)`` switches to exponents below 1e-6 (``1E-7``, ``0E-7``); NaN prints alike,
    infinities are left to Python.
    """
    scale = func.scale(column)
    finite = and_(
        or_(scale > 0, column == 0, func.mod(column, 10000) != 0),
        or_(
            func.abs(column) >= literal(Decimal("0.000001"), sqltypes.Numeric()),
            and_(column == 0, scale <= 6),
        ),
    )
    return case((scale.is_(None), cast(column, Text) == "NaN"), else_=finite)
