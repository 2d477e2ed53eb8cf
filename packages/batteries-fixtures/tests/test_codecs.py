from __future__ import annotations

import enum
import math
import uuid
from datetime import UTC, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import (
    ARRAY,
    JSON,
    BigInteger,
    Column,
    DateTime,
    Enum,
    Float,
    Integer,
    LargeBinary,
    Numeric,
    SmallInteger,
    String,
    Time,
    Uuid,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime

from batteries_fixtures._codecs import codec_for

PG = postgresql.dialect()
LITE = sqlite.dialect()


class Mood(enum.Enum):
    HAPPY = "h"
    SAD = "s"


def codec(type_: Any, dialect: Any = PG) -> Any:
    return codec_for(Column("c", type_), dialect)


@pytest.mark.parametrize(
    ("type_", "value", "encoded"),
    [
        (BigInteger(), 2**63 - 1, 2**63 - 1),
        (Numeric(20, 4), Decimal("-1.2300"), "-1.2300"),
        (Float(), 0.1, 0.1),
        (Float(), math.inf, "Infinity"),
        (LargeBinary(), b"\x00\xff", "AP8="),
        (Uuid(), uuid.UUID(int=1), "00000000-0000-0000-0000-000000000001"),
        (Enum(Mood), Mood.SAD, "SAD"),
        (Time(), time(1, 2, 3), "01:02:03.000000"),
        (DateTime(), datetime(2024, 1, 1, 0, 0, 0, 5), "2024-01-01T00:00:00.000005"),
        (AutoString(), "é🦄", "é🦄"),
        (ARRAY(Integer), [1, None, 3], [1, None, 3]),
    ],
)
def test_values_round_trip_through_their_codec(type_: Any, value: Any, encoded: Any) -> None:
    c = codec(type_)
    assert c.encode(value) == encoded
    assert c.decode(encoded) == value


@pytest.mark.parametrize("type_", [DateTime(timezone=True), UTCDateTime()])
def test_aware_datetimes_are_written_in_utc_and_need_an_offset(type_: Any) -> None:
    c = codec(type_)
    paris = datetime(2024, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    assert c.encode(paris) == "2024-06-01T10:00:00.000000+00:00"
    assert c.encode(datetime(2024, 6, 1, 10, 0)) == "2024-06-01T10:00:00.000000+00:00"  # SQLite
    assert c.decode("2024-06-01T12:00:00+02:00") == datetime(2024, 6, 1, 10, tzinfo=UTC)
    with pytest.raises(ValueError, match="no UTC offset"):
        c.decode("2024-06-01T12:00:00")


def test_naive_datetimes_refuse_an_offset() -> None:
    with pytest.raises(ValueError, match="has a UTC offset"):
        codec(DateTime()).decode("2024-06-01T12:00:00+00:00")


def test_json_null_and_wrapper_lookalikes_are_wrapped() -> None:
    c = codec(JSON())
    assert c.is_json
    assert c.encode(None) == {"$json": None}
    assert c.encode({"$json": 1}) == {"$json": {"$json": 1}}
    assert c.encode({"$json": 1, "other": 2}) == {"$json": 1, "other": 2}
    assert c.decode({"$json": None}) is JSON.NULL
    assert c.decode({"$json": {"$json": 1}}) == {"$json": 1}
    assert c.decode([None, {"a": None}]) == [None, {"a": None}]


@pytest.mark.parametrize(
    ("type_", "dialect", "value", "reason"),
    [
        (Integer(), PG, 2**31, "out of range"),
        (SmallInteger(), LITE, -(2**15) - 1, "out of range"),
        (Integer(), PG, True, "expected an integer"),
        (Numeric(), PG, 1.5, "decimal as text"),
        (Numeric(), LITE, "1234567890.1234567", "SQLite cannot store exactly"),
        (String(3), PG, "abcd", "longer than the column's 3"),
        (String(), PG, "a\x00b", "NUL"),
        (LargeBinary(), PG, "not base64!", "not valid base64"),
        (Uuid(), PG, 12, "a UUID as text"),
        (Enum(Mood), PG, "h", "not a member of Mood"),
        (Enum("a", "b", name="ab"), PG, "c", "not one of a, b"),
        (Float(), PG, "1.5", "a number"),
        (ARRAY(Integer), PG, "1,2", "a list"),
        # Values a database would store as something else.
        (Numeric(), LITE, "NaN", "turns NaN into NULL"),
        (Numeric(), LITE, "Infinity", "finite numbers only"),
        (Numeric(), LITE, "1e1000000", "outside the range SQLite can store"),
        (Numeric(), LITE, "1e-400", "outside the range SQLite can store"),
        (Numeric(), PG, "sNaN", "allowed: NaN, Infinity, -Infinity"),
        (Numeric(), PG, "-NaN", "allowed: NaN, Infinity, -Infinity"),
        (Numeric(10, 2), PG, "Infinity", "allowed: NaN"),
        (Numeric(), PG, "1e200000", "outside PostgreSQL's numeric range"),
        (Numeric(10, 2), PG, "1.005", "3 digits after the decimal point"),
        (Numeric(10, 2), LITE, "123456789", "9 digits before the decimal point"),
        (Numeric(10, 2, asdecimal=False), PG, 1.005, "3 digits after the decimal point"),
        (Float(), LITE, "NaN", "turns it into NULL"),
        (Float(), LITE, -0.0, "turns it into 0.0"),
        (Float(), PG, 2**53 + 1, "not exactly representable"),
        (Float(), PG, 10**400, "not exactly representable"),
        (DateTime(timezone=True), LITE, "9999-12-31T23:00:00-05:00", "out of range"),
        (Time(), PG, "12:00:00+05:00", "has a UTC offset"),
        (postgresql.JSONB(), PG, {"a": ["x\x00"]}, "jsonb cannot store the NUL"),
    ],
)
def test_bad_values_are_refused_with_a_reason(
    type_: Any, dialect: Any, value: Any, reason: str
) -> None:
    with pytest.raises((TypeError, ValueError), match=reason):
        codec(type_, dialect).decode(value)


def test_sqlite_arrays_fall_back_to_their_variant() -> None:
    variant = ARRAY(String).with_variant(JSON(), "sqlite")
    assert codec(variant, LITE).kind == "json"
    assert codec(variant, PG).kind == "array[str]"


@pytest.mark.parametrize(
    ("type_", "dialect", "value", "encoded"),
    [
        (Numeric(10, 2), PG, "12345678.50", "12345678.50"),  # a trailing zero is not rounded
        (Numeric(10, 2), LITE, "-0.10", "-0.10"),
        (Numeric(10, 2), PG, "1E+3", "1E+3"),
        (Numeric(), PG, "NaN", "NaN"),
        (Numeric(), PG, "-Infinity", "-Infinity"),
        (Numeric(10, 2), PG, "NaN", "NaN"),
        (Numeric(), LITE, "123456789012345", "123456789012345"),
        (Float(), PG, "NaN", "NaN"),
        (Float(), PG, -0.0, -0.0),
        (Float(), LITE, "Infinity", "Infinity"),
        (Float(), PG, 2**53, 2.0**53),
    ],
)
def test_values_each_database_stores_exactly_are_kept(
    type_: Any, dialect: Any, value: Any, encoded: Any
) -> None:
    c = codec(type_, dialect)
    assert repr(c.encode(c.decode(value))) == repr(encoded)  # repr tells -0.0 from 0.0
