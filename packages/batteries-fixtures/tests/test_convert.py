"""The converter's fast path gives the full path's rows and errors, value for value."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect

from batteries_fixtures._convert import Converter
from batteries_fixtures._readers import MISSING, RawRecord
from batteries_fixtures._schema import Schema, _table_info

DIALECTS: dict[str, Dialect] = {
    "sqlite": sqlite.pysqlite.dialect(),
    "postgresql": postgresql.asyncpg.dialect(),  # type: ignore[no-untyped-call]
}


# A storage format of its own: the converter must keep SQLAlchemy's processor for it.
CUSTOM_STORAGE = sqlite.DATETIME(
    storage_format="%(year)04d-%(month)02d-%(day)02d %(hour)02d:%(minute)02d:%(second)02d"
)  # type: ignore[no-untyped-call]


def _schema(dialect: Dialect) -> Schema:
    metadata = MetaData()
    parent = Table(
        "parent",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("code", String(10), nullable=False),
        info={"natural_key": ["code"]},
    )
    child = Table(
        "child",
        metadata,
        Column("id", BigInteger, primary_key=True),
        Column("parent_id", ForeignKey("parent.id")),
        Column("small", SmallInteger),
        Column("count", Integer, nullable=False),
        Column("name", String(5), nullable=False),
        Column("body", Text),
        Column("flag", Boolean),
        Column("price", Numeric(6, 2)),
        Column("wide", Numeric(20, 4)),
        Column("free", Numeric),
        Column("at", DateTime(timezone=True)),
        Column("naive", DateTime),
        Column("stamp", CUSTOM_STORAGE),
        Column("day", Date),
        Column("ratio", Float),
        Column("doc", JSON),
    )
    tables = {t.name: _table_info(t, None, dialect) for t in (parent, child)}
    return Schema(tables=tables, dialect=dialect)


SCHEMAS = {name: _schema(dialect) for name, dialect in DIALECTS.items()}
KEYS = [c.key for c in SCHEMAS["sqlite"].tables["child"].table.columns if c.key != "id"]

# Values each column's codec takes, refuses or reads in some other way than the plain case.
TRICKY: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    7,
    32767,
    32768,
    2**31 - 1,
    2**31,
    2**63 - 1,
    2**63,
    1.5,
    -0.0,
    1e16,
    "",
    "abc",
    "abcde",
    "abcdef",
    "a\x00b",
    "é\u2028",
    "12.34",
    "-0.00",
    "1234.56",
    "12345.67",
    "1.234",
    "1.50",
    "1e2",
    "NaN",
    "١٢.٣٤",  # Arabic-Indic digits: Decimal reads them, the plain pattern must not
    "1234567890123456.0001",
    "2024-02-29T23:59:58.123456+00:00",
    "2024-02-29T23:59:58+01:00",
    "2024-02-29T23:59:58",
    "2024-02-29 23:59:58.5-07:30",
    "0001-01-01T00:00:00+01:00",
    "2024-02-30T00:00:00+00:00",
    "2024-02-29",
    [1],
    ["x"],
    [],
    {"a": 1},
    {"$json": None},
]


# Per column, values its codec takes (mostly) and the nearest ones it does not: a record is
# then often plain in every column, so the fast path is taken and checked value by value.
_DATES = [
    "2024-02-29T23:59:58.123456+00:00",
    "2024-02-29T23:59:58+01:00",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59.999999-01:00",
    "2024-02-29T23:59:58",
    "2024-02-29T23:59:58,5+00:00",
    # The shape of a dump's UTC text, each with one thing off:
    "2024-02-29T23:59:58,123456+00:00",
    "2024-02-29T23:59:58.123456-00:00",
    "2024-02-29t23:59:58.123456+00:00",
    "2024-02-29 23:59:58.123456+00:00",
    "2024-02-30T23:59:58.123456+00:00",
    "2024-02-29T24:00:00.000000+00:00",
    "2024-02-29T23:60:00.000000+00:00",
    "2024-02-29T23:59:58.12345a+00:00",
    "2024-02-29T23:59:58.123456+00:0\u0660",
    "\u0662\u0660\u0662\u0664-02-29T23:59:58.123456+00:00",
    "2024-02-29T23:59:58.123456Z+0000",
    "0001-01-01T00:00:00.000000+00:00",
    "9999-12-31T23:59:59.999999+00:00",
]
PLAUSIBLE: dict[str, list[Any]] = {
    "parent_id": [None, 1, 2**31, ["abc"], "1"],
    "small": [None, 7, 32767, 32768, -32769, True],
    "count": [0, 2**31 - 1, 2**31, -(2**31) - 1, None, 1.0],
    "name": ["", "abcde", "abcdef", "a\x00b", "é\u2028", 5, None],
    "body": [None, "", "x" * 300, "a\x00b"],
    "flag": [None, True, False, 1, 0],
    "price": [
        None,
        "12.34",
        "-0.00",
        "1234.56",
        "12345.67",
        "1.234",
        "1.50",
        "0.5",
        "1e2",
        "NaN",
        "١٢.٣٤",
        12,
        1.5,
        "+1.00",
        " 1.00",
        "1_000.00",
    ],
    "wide": [None, "1234567890123456.0001", "1234567890123.4567", "0.0001", "-12"],
    "free": [None, "1.5", "1e-400", "NaN", "Infinity"],
    "at": [None, *_DATES],
    "naive": [None, *_DATES],
    "stamp": [None, *_DATES],
    "day": [None, "2024-02-29", "2024-02-30", "2024-02-29T00:00:00"],
    "ratio": [None, 1.5, -0.0, 1e16, "NaN", "Infinity", 2**53 + 1, 3],
    "doc": [None, {"a": 1}, [], {"$json": None}, "text", 1.5],
}

VALID: dict[str, list[Any]] = {
    "parent_id": [None, 1],
    "small": [None, -32768, 32767],
    "count": [0, 2**31 - 1, -(2**31)],
    "name": ["", "abcde", "é\u2028"],
    "body": [None, "", "x" * 300],
    "flag": [None, True, False],
    "price": [None, "12.34", "-0.00", "1234.56", "0.5", "-9999.99"],
    "wide": [None, "1234567890123456.0001", "0.0001"],
    "free": [None, "1.5", "-0.000001"],
    "at": [None, "2024-02-29T23:59:58.123456+00:00", "2024-02-29T23:59:58+01:00"],
    "naive": [None, "2024-02-29T23:59:58", "0001-01-01T00:00:00"],
    "stamp": [None, "2024-02-29T23:59:58.5"],
    "day": [None, "2024-02-29"],
    "ratio": [None, 1.5, 1e16, 3],
    "doc": [None, {"a": 1}, [], "text"],
}


@st.composite
def records(draw: st.DrawFn) -> RawRecord:
    # A record every codec takes, then up to three of its values swapped for nearby ones.
    fields = {key: draw(st.sampled_from(VALID[key])) for key in KEYS}
    for key in draw(st.lists(st.sampled_from(KEYS), max_size=3)):
        fields[key] = draw(st.sampled_from(PLAUSIBLE[key] if draw(st.booleans()) else TRICKY))
    if draw(st.booleans()):  # now and then a field missing, or one the table does not have
        fields.pop(draw(st.sampled_from(KEYS)))
    if draw(st.integers(0, 9)) == 0:
        fields["unknown"] = 1
    pk = draw(st.sampled_from([1, 2**40, None, MISSING, "1", {"id": 1}, [1]]))
    return RawRecord("f.json", 3, 4, "child", pk, fields)


def _outcome(call: Any) -> tuple[str, Any]:
    try:
        row = call()
    except Exception as exc:  # the message is what a user sees: it must be the same
        return type(exc).__name__, str(exc)
    return "row", [(type(v), repr(v)) for v in row]  # repr: NaN equals itself


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
@settings(max_examples=300, deadline=None, derandomize=True)
@given(record=records())
def test_fast_rows_are_the_full_paths_rows(dialect: str, record: RawRecord) -> None:
    converter = Converter(
        SCHEMAS[dialect].tables["child"], SCHEMAS[dialect], 0, ignore_unknown=False
    )
    fast = _outcome(lambda: converter.row(record, 2))
    full = _outcome(lambda: converter.driver_row(converter.convert(record, 2)))
    assert fast == full


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_every_value_in_every_column_alike(dialect: str) -> None:
    """Each tricky value alone in an otherwise plain record: the fast path's only doubt."""
    converter = Converter(
        SCHEMAS[dialect].tables["child"], SCHEMAS[dialect], 0, ignore_unknown=False
    )
    plain = {key: VALID[key][-1] for key in KEYS}
    checked = 0
    for key in KEYS:
        for value in [*VALID[key], *PLAUSIBLE[key], *TRICKY]:
            for pk in (1, 2**40, None):
                record = RawRecord("f.json", 3, 4, "child", pk, plain | {key: value})
                fast = _outcome(lambda r=record: converter.row(r, 2))
                full = _outcome(lambda r=record: converter.driver_row(converter.convert(r, 2)))
                assert fast == full, (key, value, pk)
                checked += fast[0] == "row"
    assert checked > 500  # most of them are rows, not errors


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_plain_records_take_the_fast_path(dialect: str) -> None:
    """The fast path is taken at all (the property above would pass with none)."""
    converter = Converter(
        SCHEMAS[dialect].tables["child"], SCHEMAS[dialect], 0, ignore_unknown=False
    )
    values = dict.fromkeys(KEYS) | {"count": 3, "name": "abc"}
    values |= {"price": "12.34", "at": "2024-02-29T23:59:58.123456+00:00", "flag": True}
    record = RawRecord("f.json", 0, 1, "child", 5, values)
    calls: list[Any] = []
    converter.convert = lambda *args: calls.append(args)  # type: ignore[method-assign,assignment]
    row = converter.row(record, 0)
    assert calls == []
    assert row[0] == 5
    stored_at = row[converter.keys.index("at")]
    assert stored_at == (
        "2024-02-29 23:59:58.123456"
        if dialect == "sqlite"
        else datetime.fromisoformat("2024-02-29T23:59:58.123456+00:00")
    )
