"""Codecs of values asyncpg or SQLAlchemy would change: PostgreSQL's text, SQLite's stored text."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import ARRAY, JSON, Column, Date, DateTime, Integer, Interval, Text, Time
from sqlalchemy.dialects import postgresql, sqlite

from batteries_fixtures._codecs import codec_for
from batteries_fixtures._pg_types import PgTextType
from batteries_fixtures._raw import RawInt, RawText

PG = postgresql.asyncpg.dialect()
LITE = sqlite.aiosqlite.dialect()


def codec(type_: Any, dialect: Any = PG) -> Any:
    return codec_for(Column("c", type_), dialect)


@pytest.mark.parametrize(
    ("type_", "value", "raw"),
    [
        # asyncpg would send date.max/min and datetime.max/min as infinity / -infinity.
        (Date(), "9999-12-31", "9999-12-31"),
        (Date(), "0001-01-01", "0001-01-01"),
        (DateTime(), "9999-12-31T23:59:59.999999", "9999-12-31T23:59:59.999999"),
        (DateTime(timezone=True), "0001-01-01T00:00:00+00:00", "0001-01-01T00:00:00+00:00"),
        (Date(), "infinity", "infinity"),
        (Date(), "0044-03-15 BC", "0044-03-15 BC"),
        (Date(), "10000-01-01", "10000-01-01"),
        (DateTime(), "-infinity", "-infinity"),
        (DateTime(), "0044-03-15 12:00:00 BC", "0044-03-15 12:00:00 BC"),
        (DateTime(timezone=True), "9999-12-31T23:00:00-05:00", "9999-12-31T23:00:00-05:00"),
        (Time(), "24:00:00", "24:00:00"),
        (Interval(), "P1M", "P1M"),
        (PgTextType("point"), "(1,2)", "(1,2)"),
        (postgresql.INET(), {"$raw": "10.0.0.1"}, "10.0.0.1"),
        (ARRAY(Integer), {"$raw": "[0:1]={1,2}"}, "[0:1]={1,2}"),
        (ARRAY(Date), ["infinity", None, ["2021-01-01"]], '{"infinity",NULL,{"2021-01-01"}}'),
        (ARRAY(Text), ['a"b\\', None], None),  # natural items go as a list, in binary
        (postgresql.HSTORE(), {"a": "1", "b": None}, '"a"=>"1", "b"=>NULL'),
        (JSON(), {"$raw": '{"a": 2.50}'}, '{"a": 2.50}'),
    ],
)
def test_values_python_cannot_hold_go_as_postgres_text(type_: Any, value: Any, raw: Any) -> None:
    decoded = codec(type_).decode(value)
    if raw is None:
        assert type(decoded) is not RawText
    else:
        assert type(decoded) is RawText
        assert decoded == raw


def test_ordinary_dates_keep_their_python_values() -> None:
    assert codec(Date()).decode("2021-01-01") == date(2021, 1, 1)
    aware = codec(DateTime(timezone=True)).decode("2021-01-01T02:00:00+02:00")
    assert aware == datetime(2021, 1, 1, tzinfo=UTC)
    assert codec(ARRAY(Integer)).decode([[1, None], [3, 4]]) == [[1, None], [3, 4]]


@pytest.mark.parametrize(
    ("type_", "value", "reason"),
    [
        (Date(), "someday", "is not an ISO 8601 date"),
        (DateTime(), "2021-01-01 10:00:00+02 BC", "is not an ISO 8601 datetime without"),
        (DateTime(), "2021-01-01T10:00:00+02:00", "has a UTC offset"),
        (DateTime(timezone=True), "2021-01-01T10:00:00", "has no UTC offset"),
        (Interval(), 5, "expected the value as PostgreSQL's text"),
        (postgresql.INET(), "a\x00b", "NUL character"),
        (ARRAY(Integer), "1,2", "expected a list"),
        (postgresql.HSTORE(), {"a": 1}, "hstore values are strings or null"),
        (JSON(), {"$raw": 5}, "holds a JSON document's text"),
    ],
)
def test_malformed_values_are_refused_with_a_reason(type_: Any, value: Any, reason: str) -> None:
    with pytest.raises((TypeError, ValueError), match=reason):
        codec(type_).decode(value)


@pytest.mark.parametrize(
    ("stored", "written"),
    [
        ('{"a": 1, "b": [1, 2]}', {"a": 1, "b": [1, 2]}),  # json.dumps' own text: the document
        ('{"a": 2.50}', {"$raw": '{"a": 2.50}'}),
        ('{"a":1}', {"$raw": '{"a":1}'}),
        ('{"a": 1, "a": 2}', {"$raw": '{"a": 1, "a": 2}'}),
        ("null", {"$json": None}),
        ('{"$raw": 1}', {"$json": {"$raw": 1}}),  # a document that looks like the wrapper
    ],
)
def test_json_keeps_its_exact_text(stored: str, written: Any) -> None:
    assert codec(JSON()).encode(stored) == written


@pytest.mark.parametrize(
    ("type_", "stored", "written"),
    [
        (DateTime(), "2021-01-01 00:00:00.000000", "2021-01-01T00:00:00.000000"),
        (DateTime(timezone=True), "2021-01-01 00:00:00.000000", "2021-01-01T00:00:00.000000+00:00"),
        (DateTime(), "2021-01-01 00:00:00", {"$raw": "2021-01-01 00:00:00"}),
        (DateTime(), "2021-01-01T00:00:00.000000", {"$raw": "2021-01-01T00:00:00.000000"}),
        (DateTime(), 1609459200, {"$raw": 1609459200}),
        (Date(), "2021-01-01", "2021-01-01"),
        (Date(), "2021-1-1", {"$raw": "2021-1-1"}),
        (Time(), "10:00:00.000000", "10:00:00.000000"),
        (Time(), "10:00", {"$raw": "10:00"}),
        (JSON(), 5, 5),  # NUMERIC affinity stored the number
    ],
)
def test_sqlite_writes_what_sqlalchemy_did_not_store_as_stored(
    type_: Any, stored: Any, written: Any
) -> None:
    assert codec(type_, LITE).encode(stored) == written


def test_sqlite_stores_raw_values_in_their_storage_class() -> None:
    assert type(codec(DateTime(), LITE).decode({"$raw": 1609459200})) is RawInt
    assert type(codec(DateTime(), LITE).decode({"$raw": "2021-01-01 00:00"})) is RawText
    with pytest.raises(TypeError, match="ISO 8601"):
        codec(DateTime(), LITE).decode({"$raw": [1]})
