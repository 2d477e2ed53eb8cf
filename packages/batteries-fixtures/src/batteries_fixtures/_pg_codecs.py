"""PostgreSQL codecs for values asyncpg's binary forms would lose or cannot carry.

The rule: a value keeps its natural JSON form where one is exact (numbers, text, ISO dates);
otherwise it is PostgreSQL's own output text, read with a cast to text in the dump's SELECT and
parsed back by the database on load (see :mod:`batteries_fixtures._raw`). The dump's
transaction fixes the settings that text depends on (:data:`DUMP_SETTINGS`).

- dates and timestamps: ISO 8601 as elsewhere for years 1 to 9999; ``infinity``,
  ``-infinity``, BC dates (``0044-03-15 BC``) and years past 9999 as PostgreSQL writes them.
  asyncpg reads infinity as ``date.max``/``datetime.max`` and writes those back as infinity,
  so such values are read as text, and ``9999-12-31`` or ``0001-01-01`` are loaded as text;
- ``interval`` as ISO 8601 (``P1Y2M3DT4H5M6S``: months and days stay apart);
- ``hstore`` as a JSON object of strings (or null);
- ``json`` as the document when re-serialising it gives its stored text, else its exact text
  (``{"$raw": "{'a': 2.50}"}``, with JSON's quotes);
- arrays as JSON lists (nested for several dimensions); an array whose lower bounds are not 1
  as its text (``{"$raw": "[0:1]={1,2}"}``);
- every other type (network, bit strings, money, ranges, text search, geometry, ``xml``,
  ``pg_lsn``, snapshots, ``reg*``, ``citext``, ``"char"``, an extension's types): its text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import ARRAY, Text, Time, case, cast, func, literal_column, null, type_coerce
from sqlalchemy import types as sqltypes
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.sqltypes import JSON

from batteries_fixtures._codecs import (
    Codec,
    _describe,
    _encode_aware,
    _encode_iso,
    _encode_naive,
    _encode_time,
    _expect,
    _identity,
    resolve_type,
)
from batteries_fixtures._json_text import json_text_codec
from batteries_fixtures._pg_types import PgTextType
from batteries_fixtures._raw import RawText, array_literal, raw_of, wrap_raw

__all__ = ["DUMP_SETTINGS", "LOAD_SETTINGS", "TEXT_CODEC", "pg_codec"]

DUMP_SETTINGS = (
    "SET LOCAL DateStyle = 'ISO, YMD'",
    "SET LOCAL IntervalStyle = 'iso_8601'",
    "SET LOCAL TimeZone = 'UTC'",
    "SET LOCAL extra_float_digits = 1",  # shortest text that reads back as the same double
)
"""Settings of a dump's transaction: the output text of dates, intervals and floats."""

LOAD_SETTINGS = ("SET LOCAL xmloption = content",)
"""Settings of a load's transaction: ``xml`` values may be documents or fragments."""

_Coder = Callable[[sqltypes.TypeEngine[Any], Dialect], Codec]

# SQLAlchemy types whose values go as PostgreSQL's text (the docs' format table shows each).
_TEXT_TYPES: tuple[type[sqltypes.TypeEngine[Any]], ...] = (
    postgresql.INTERVAL,
    postgresql.INET,
    postgresql.CIDR,
    postgresql.MACADDR,
    postgresql.MACADDR8,
    postgresql.MONEY,
    postgresql.BIT,
    postgresql.TSVECTOR,
    postgresql.TSQUERY,
    postgresql.REGCLASS,
    postgresql.REGCONFIG,
    postgresql.CITEXT,
    postgresql.ranges.AbstractRange,
    postgresql.ranges.AbstractMultiRange,
    sqltypes.Interval,
)


def pg_codec(type_: sqltypes.TypeEngine[Any], dialect: Dialect, coder: _Coder) -> Codec | None:
    """The PostgreSQL-specific codec of ``type_`` (resolved), or ``None`` for the common one."""
    if isinstance(type_, sqltypes.ARRAY):
        return _array_codec(coder(_item_type(type_, dialect), dialect))
    if isinstance(type_, postgresql.HSTORE):
        return _hstore_codec(type_, dialect)
    if isinstance(type_, JSON) and not isinstance(type_, postgresql.JSONB):
        return json_text_codec(type_, dialect, read=_as_text, cast_on_load=True)
    if isinstance(type_, (*_TEXT_TYPES, PgTextType)):
        return TEXT_CODEC
    if isinstance(type_, postgresql.OID):
        return Codec("int", _identity, _decode_oid)
    if isinstance(type_, sqltypes.DateTime):
        return _datetime_codec(aware=bool(type_.timezone))
    if isinstance(type_, sqltypes.Date):
        return _DATE
    if isinstance(type_, sqltypes.Time):
        return _time_codec(aware=bool(type_.timezone))
    return None


def _item_type(type_: sqltypes.ARRAY[Any], dialect: Dialect) -> sqltypes.TypeEngine[Any]:
    return resolve_type(type_.item_type, dialect)


def _as_text(column: ColumnElement[Any]) -> ColumnElement[Any]:
    return cast(column, Text)


# ---------------------------------------------------------------- text


def _decode_text(value: Any) -> RawText:
    if type(value) is not str:
        inner = raw_of(value)
        if type(inner) is not str:
            _expect(value, str, "the value as PostgreSQL's text")
        value = inner
    if "\x00" in value:
        msg = "PostgreSQL cannot store the NUL character (\\u0000) in text"
        raise ValueError(msg)
    return RawText(value)


TEXT_CODEC = Codec(
    "text",
    _identity,
    _decode_text,
    read=_as_text,
    encode_text=_identity,
    decode_text=_decode_text,
    raw=True,
    binary=False,
)
"""Values as PostgreSQL's own text: cast to text on dump, parsed by the database on load."""


_OID_HIGH = 2**32 - 1


def _decode_oid(value: Any) -> int:
    _expect(value, int, "an integer")
    if not 0 <= value <= _OID_HIGH:
        msg = f"oid {value} is out of range [0, {_OID_HIGH}]"
        raise ValueError(msg)
    return int(value)


def _hstore_codec(type_: postgresql.HSTORE, dialect: Dialect) -> Codec:
    parse = type_.result_processor(dialect, None)
    serialize = type_.bind_processor(dialect)
    assert parse is not None
    assert serialize is not None

    def encode(text: str) -> dict[str, str | None]:
        return dict(parse(text))

    def decode(value: Any) -> RawText:
        if type(value) is not dict or raw_of(value) is not None:
            return _decode_text(value)
        for key, item in value.items():
            if item is not None and type(item) is not str:
                msg = f"hstore values are strings or null, got {_describe(item)} for {key!r}"
                raise TypeError(msg)
        return _decode_text(serialize(value))

    return Codec(
        "hstore",
        encode,
        decode,
        read=_as_text,
        encode_text=encode,
        decode_text=decode,
        raw=True,
        binary=False,
    )


# ---------------------------------------------------------------- dates and times


def _between(low: str, high: str) -> Callable[[ColumnElement[Any]], ColumnElement[bool]]:
    """The test of a value between two SQL literals.

    Literals, not parameters: asyncpg would send ``9999-12-31`` as infinity. Compared untyped:
    SQLAlchemy's ``DOMAIN`` (a domain over date) has no operators of its own.
    """
    bounds: tuple[ColumnElement[Any], ColumnElement[Any]] = (
        literal_column(low),
        literal_column(high),
    )

    def inside(column: ColumnElement[Any]) -> ColumnElement[bool]:
        return type_coerce(column, sqltypes.NULLTYPE).between(*bounds)

    return inside


def _guard(inside: Callable[[ColumnElement[Any]], ColumnElement[bool]]) -> tuple[Any, Any]:
    """``read`` and ``special`` of a type whose values outside ``inside`` asyncpg would lose."""

    def read(column: ColumnElement[Any]) -> ColumnElement[Any]:
        return case((inside(column), column), else_=null())

    def special(column: ColumnElement[Any]) -> ColumnElement[Any]:
        return case((inside(column), null()), else_=cast(column, Text))

    return read, special


_DATE_SPECIAL = re.compile(r"-?infinity|\d{4,}-\d\d-\d\d( BC)?")
_NAIVE_SPECIAL = re.compile(r"-?infinity|\d{4,}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d(\.\d{1,6})?)?( BC)?")
_AWARE_SPECIAL = re.compile(
    r"-?infinity|\d{4,}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d(\.\d{1,6})?)?"
    r"(Z|[+-]\d\d(:?\d\d(:?\d\d)?)?)( BC)?"
)
_TIME_SPECIAL = re.compile(r"24:00(:00(\.0{1,6})?)?")
_AWARE_TIME_SPECIAL = re.compile(r"24:00(:00(\.0{1,6})?)?([+-]\d\d(:?\d\d(:?\d\d)?)?)")
_MAX_YEAR = 9999
_DATE_EDGES = (date.min, date.max)
_NAIVE_EDGES = (datetime.min, datetime.max)
_AWARE_EDGES = (datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC))


def _special(value: Any, pattern: re.Pattern[str], what: str) -> RawText:
    """``value`` as PostgreSQL's text when it is one of the forms Python cannot hold."""
    if type(value) is not str:
        inner = raw_of(value)
        if type(inner) is str:
            value = inner
        else:
            _expect(value, str, what)
    if pattern.fullmatch(value):
        return RawText(value)
    msg = f"{_describe(value)} is not {what}"
    raise ValueError(msg)


def _decode_date(value: Any) -> date | RawText:
    try:
        parsed = date.fromisoformat(value)
    except (TypeError, ValueError):
        return _special(value, _DATE_SPECIAL, _DATE_WHAT)
    year = parsed.year
    if (year == 1 or year == _MAX_YEAR) and parsed in _DATE_EDGES:
        return RawText(parsed.isoformat())  # asyncpg would send it as -infinity/infinity
    return parsed


_DATE_WHAT = "an ISO 8601 date (YYYY-MM-DD), infinity, -infinity or a BC date (0044-03-15 BC)"


def _iso_text(decode: Callable[[Any], Any]) -> Callable[[Any], str]:
    """JSON value to the database's input text, by way of ``decode`` (which checks it)."""

    def decode_text(value: Any) -> str:
        decoded = decode(value)
        return decoded if isinstance(decoded, RawText) else str(decoded.isoformat())

    return decode_text


def _guarded(
    kind: str,
    encode: Callable[[Any], Any],
    decode: Callable[[Any], Any],
    guard: tuple[Any, Any],
    encode_text: Callable[[str], Any],
) -> Codec:
    """The codec of a date or time type: Python values inside the guard, text outside it."""
    read, special = guard
    return Codec(
        kind,
        encode,
        decode,
        read=read,
        special=special,
        encode_text=encode_text,
        decode_text=_iso_text(decode),
        raw=True,
    )


# PostgreSQL's ISO text of a date is ISO 8601's.
_DATE = _guarded(
    "date",
    _encode_iso,
    _decode_date,
    _guard(_between("DATE '0001-01-01'", "DATE '9999-12-31'")),
    _identity,
)


def _datetime_codec(*, aware: bool) -> Codec:
    if aware:
        read, special = _guard(
            _between(
                "TIMESTAMPTZ '0001-01-01 00:00:00+00'",
                "TIMESTAMPTZ '9999-12-31 23:59:59.999999+00'",
            )
        )
        pattern, edges, encode = _AWARE_SPECIAL, _AWARE_EDGES, _encode_aware
        what = "an ISO 8601 datetime with a UTC offset, infinity, -infinity or a BC datetime"
    else:
        read, special = _guard(
            _between("TIMESTAMP '0001-01-01 00:00:00'", "TIMESTAMP '9999-12-31 23:59:59.999999'")
        )
        pattern, edges, encode = _NAIVE_SPECIAL, _NAIVE_EDGES, _encode_naive
        what = "an ISO 8601 datetime without offset, infinity, -infinity or a BC datetime"

    # The common path is a parse and a few attribute tests: it runs once per value.
    def decode_aware(value: Any) -> datetime | RawText:
        try:
            parsed = datetime.fromisoformat(value)
        except (TypeError, ValueError):
            return _special(value, pattern, what)
        if parsed.tzinfo is None:
            msg = f"{value!r} has no UTC offset, but the column stores aware datetimes: add one"
            raise ValueError(msg)
        try:
            parsed = parsed.astimezone(UTC)
        except OverflowError:  # before year 1 or after 9999 in UTC: PostgreSQL holds it
            return RawText(value)
        year = parsed.year
        if (year == 1 or year == _MAX_YEAR) and parsed in edges:
            return RawText(parsed.isoformat())  # asyncpg would send it as -infinity/infinity
        return parsed

    def decode_naive(value: Any) -> datetime | RawText:
        try:
            parsed = datetime.fromisoformat(value)
        except (TypeError, ValueError):
            return _special(value, pattern, what)
        if parsed.tzinfo is not None:
            msg = f"{value!r} has a UTC offset, but the column stores naive datetimes: remove it"
            raise ValueError(msg)
        year = parsed.year
        if (year == 1 or year == _MAX_YEAR) and parsed in edges:
            return RawText(parsed.isoformat())  # asyncpg would send it as -infinity/infinity
        return parsed

    decode = decode_aware if aware else decode_naive

    def encode_text(text: str) -> str:
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:  # infinity, BC, a year past 9999: as PostgreSQL wrote it
            return text
        return encode(parsed)

    kind = "datetime-aware" if aware else "datetime-naive"
    return _guarded(kind, encode, decode, (read, special), encode_text)


def _time_codec(*, aware: bool) -> Codec:
    # PostgreSQL's times reach 24:00:00, which Python's cannot hold: read as text.
    pattern = _AWARE_TIME_SPECIAL if aware else _TIME_SPECIAL
    what = f"an ISO 8601 time (HH:MM:SS.ffffff{'+HH:MM' if aware else ''}) or 24:00:00"

    def decode(value: Any) -> time | RawText:
        try:
            parsed = time.fromisoformat(value)
        except (TypeError, ValueError):
            return _special(value, pattern, what)
        if not aware and parsed.utcoffset() is not None:
            msg = f"{value!r} has a UTC offset, but the column stores times without one"
            raise ValueError(msg)
        return parsed

    def encode_text(text: str) -> str:
        try:
            return _encode_time(time.fromisoformat(text))
        except ValueError:  # 24:00:00
            return text

    guard = _guard(lambda column: cast(column, Time) < _MIDNIGHT)
    return _guarded("time", _encode_time, decode, guard, encode_text)


_MIDNIGHT: ColumnElement[Any] = literal_column("TIME '24:00:00'")


# ---------------------------------------------------------------- arrays


def _array_codec(item: Codec) -> Codec:
    # Items that lose in binary (dates, text types) are read as text[]: nested lists of text.
    as_text = item.raw
    encode_item = (item.encode_text or item.encode) if as_text else item.encode
    decode_item = item.decode_text if as_text else item.decode
    assert decode_item is not None

    def unusual(column: ColumnElement[Any]) -> ColumnElement[bool]:
        lower = func.array_lower(column, 1)
        dims = func.array_dims(column)
        return (lower != 1) | ((func.array_ndims(column) > 1) & dims.op("!~")(_DEFAULT_DIMS))

    def read(column: ColumnElement[Any]) -> ColumnElement[Any]:
        value = cast(column, ARRAY(Text)) if as_text else column
        return case((unusual(column), null()), else_=value)

    def special(column: ColumnElement[Any]) -> ColumnElement[Any]:
        return case((unusual(column), cast(column, Text)), else_=null())

    def encode(value: list[Any]) -> list[Any]:
        return [
            None if v is None else encode(v) if type(v) is list else encode_item(v) for v in value
        ]

    def decode_list(value: list[Any]) -> list[Any]:
        return [
            None if v is None else decode_list(v) if type(v) is list else decode_item(v)
            for v in value
        ]

    def decode(value: Any) -> Any:
        if type(value) is not list:
            if type(raw_of(value)) is not str:
                _expect(value, list, 'a list (or {"$raw": "[0:1]={1,2}"})')
            return _decode_text(value)
        if as_text:
            return RawText(array_literal(value, decode_item))
        return decode_list(value)

    return Codec(
        f"array[{item.kind}]",
        encode,
        decode,
        read=read,
        special=special,
        encode_text=wrap_raw,
        raw=True,
        binary=item.binary,
    )


_DEFAULT_DIMS = r"^(\[1:[0-9]+\])+$"
