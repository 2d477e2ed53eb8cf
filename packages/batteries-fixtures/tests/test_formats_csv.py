from __future__ import annotations

import io
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table
from sqlalchemy.dialects import sqlite

from batteries_fixtures import FixtureFileError, FixtureFormatError
from batteries_fixtures.formats import MISSING, FormatContext, ValueType, get_format

FORMAT = get_format("csv")
METADATA = MetaData()
Table("owner", METADATA, Column("id", Integer, primary_key=True))
Table(
    "t",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("s", String),
    Column("raw", String),
    Column("n", Integer),
    Column("f", Integer),
    Column("b", Integer),
    Column("doc", String),
    Column("owner_id", Integer, ForeignKey("owner.id")),
)
TYPES: dict[str, ValueType] = {
    "id": "integer",
    "s": "string",
    "raw": "text",
    "n": "integer",
    "f": "number",
    "b": "boolean",
    "doc": "document",
    "owner_id": "integer",
}
CONTEXT = FormatContext(
    tables=dict(METADATA.tables),
    natural_keys={"owner": ("name",)},
    value_types={"t": TYPES, "owner": {"id": "integer"}},
    dialect=sqlite.dialect(),
    table="t",
)


def write(records: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = FORMAT.writer(out, CONTEXT)
    for record in records:
        writer.write(record)
    writer.close()
    return out.getvalue()


def read(text: str, path: str = "dir/t.csv") -> list[tuple[str, Any, dict[str, Any]]]:
    records = FORMAT.read(io.BytesIO(text.encode()), path, CONTEXT)
    return [(r.table, r.pk, r.fields) for r in records]


def test_cells_take_the_json_value_of_their_column() -> None:
    text = (
        "id,s,raw,n,f,b,doc,owner_id\n"
        '1,,"",12,1.5,true,"{""a"": [1, null]}","[""ann""]"\n'
        '2,12,"{""$raw"": ""x""}",abc,NaN,false,"""text""",7\n'
    )
    assert read(text) == [
        ("t", 1, {"s": None, "raw": "", "n": 12, "f": 1.5, "b": True,
                  "doc": {"a": [1, None]}, "owner_id": ["ann"]}),
        ("t", 2, {"s": "12", "raw": {"$raw": "x"}, "n": "abc", "f": "NaN", "b": False,
                  "doc": "text", "owner_id": 7}),
    ]  # fmt: skip


def test_the_table_is_the_file_name_and_stdin_has_none() -> None:
    assert read("id\n1\n", "odd%2Fname.csv.gz")[0][0] == "odd/name"
    with pytest.raises(FixtureFileError, match=r"named after its table \(TABLE\.csv\)"):
        read("id\n1\n", "-")


def test_a_header_without_the_key_gives_records_without_pk() -> None:
    assert read("s\nx\n") == [("t", MISSING, {"s": "x"})]


def test_blank_lines_and_crlf() -> None:
    assert read('id,s\r\n\r\n1,a\r\n\n2,"b\r\nc"\r\n') == [
        ("t", 1, {"s": "a"}),
        ("t", 2, {"s": "b\r\nc"}),
    ]


@pytest.mark.parametrize("chunk", [1, 2, 3, 7])
def test_rows_cut_anywhere_by_the_chunks_read(monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    monkeypatch.setattr("batteries_fixtures._readers._CHUNK", chunk)
    monkeypatch.setattr("batteries_fixtures._formats.csv._TRIM_AT", 5)
    text = 'id,s\r\n1,"a""b"\r\n2,""\r\n3,"x,\ny"\r\n4,\r\n5,""""'
    assert read(text) == [
        ("t", 1, {"s": 'a"b'}),
        ("t", 2, {"s": ""}),
        ("t", 3, {"s": "x,\ny"}),
        ("t", 4, {"s": None}),
        ("t", 5, {"s": '"'}),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('id,s\n1,x\n2,"y" z\n', "line 3 column 6: ' ' after a quoted value; a comma or"),
        ("id,s\n1,\rx\n", "line 2 column 3: a carriage return outside quotes"),
        ("id,doc\n1,{nope\n", "line 2 (record 0) column 'doc': not a JSON document"),
        ("id,f\n1,1e999\n", "line 2 (record 0) column 'f': the number 1e999 is too large"),
        (",s\n", "line 1: the header has an empty column name"),
    ],
)
def test_errors_name_the_line(text: str, expected: str) -> None:
    with pytest.raises(FixtureFormatError) as info:
        read(text)
    assert expected in str(info.value)


def test_a_value_that_would_read_back_otherwise_is_refused_on_write() -> None:
    with pytest.raises(FixtureFormatError, match="'12' would read back as a integer"):
        write([{"table": "t", "pk": 1, "fields": {"n": "12"}}])
    with pytest.raises(FixtureFormatError, match="has no CSV form in a column of string values"):
        write([{"table": "t", "pk": 1, "fields": {"s": 5}}])


def test_an_empty_table_still_has_its_header() -> None:
    assert write([]) == "id,s,raw,n,f,b,doc,owner_id\n"


_CELLS: dict[str, Any] = {
    "s": st.none() | st.text(),
    "raw": st.none() | st.text() | st.builds(lambda t: {"$raw": t}, st.text()),
    "n": st.none() | st.integers() | st.text(alphabet='ab, \n"é'),  # SQLite's text in it
    "f": st.none() | st.floats(allow_nan=False, allow_infinity=False) | st.just("NaN"),
    "b": st.none() | st.booleans(),
    "doc": st.none()
    | st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
        max_leaves=6,
    ),
    "owner_id": st.none() | st.integers() | st.lists(st.text(), min_size=1, max_size=2),
}


@settings(max_examples=300, deadline=None)
@given(st.lists(st.fixed_dictionaries(_CELLS), min_size=1, max_size=4))
def test_written_rows_read_back_as_the_same_values(rows: list[dict[str, Any]]) -> None:
    records = [
        {"table": "t", "pk": i, "fields": {key: fields[key] for key in _CELLS}}
        for i, fields in enumerate(rows)
    ]
    assert read(write(records)) == [("t", r["pk"], r["fields"]) for r in records]
