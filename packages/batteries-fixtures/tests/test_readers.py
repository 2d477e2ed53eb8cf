"""The reader parses with orjson where it can, and must read exactly what the stdlib reads."""

from __future__ import annotations

import io
import json
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from batteries_fixtures import FixtureFormatError, _readers
from batteries_fixtures._formats import RecordWriter
from batteries_fixtures._readers import MISSING, RawRecord, read_records

BOM = "\ufeff"


def read(text: str) -> list[RawRecord]:
    return list(read_records(io.BytesIO(text.encode()), "f.json"))


def same(a: Any, b: Any) -> bool:
    """Equal with the same types all the way down (1 is not 1.0, floats by their repr)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return repr(a) == repr(b)
    return bool(a == b)


def dump(fmt: str, records: list[dict[str, Any]], indent: int | None = None) -> str:
    buffer = io.StringIO()
    writer = RecordWriter(buffer, fmt, indent)  # type: ignore[arg-type]
    for record in records:
        writer.write(record)
    writer.close()
    return buffer.getvalue()


def test_dump_shaped_files_are_parsed_without_the_stdlib_decoder() -> None:
    records = [{"table": "t", "pk": i, "fields": {"name": f"n{i}", "x": 1.5}} for i in range(50)]

    class NoStdlib:
        def decode(self, text: str) -> Any:
            raise AssertionError(text)

        raw_decode = decode

    with mock.patch.object(_readers, "_DECODER", NoStdlib()):
        for fmt in ("json", "jsonl"):
            got = read(dump(fmt, records))
            assert [(r.pk, r.fields) for r in got] == [(r["pk"], r["fields"]) for r in records]
            assert [r.line for r in got] == [i + (2 if fmt == "json" else 1) for i in range(50)]


BIG_INTS = [2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1, 10**100, -(10**4000)]
FLOATS = [0.0, -0.0, 5e-324, 1e19, -1e19, 1.7976931348623157e308, 2.2250738585072014e-308]


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("bom", ["", BOM])
def test_values_orjson_reads_differently_come_from_the_stdlib(
    fmt: str, newline: str, bom: str
) -> None:
    # orjson reads integers beyond 64 bits as floats and too-small numbers as 0.0.
    records = [
        {"table": "t", "pk": number, "fields": {"v": [number, {"w": number}]}}
        for number in [*BIG_INTS, *FLOATS]
    ]
    text = bom + dump(fmt, records).replace("\n", newline)
    got = read(text)
    assert [r.line for r in got] == [i + (2 if fmt == "json" else 1) for i in range(len(records))]
    for record, raw in zip(records, got, strict=True):
        assert same(raw.pk, record["pk"])
        assert same(raw.fields, record["fields"])


@pytest.mark.parametrize(
    "text",
    [
        '[\n{"table": "t", "pk": 1,\n "fields": {}},\n{"table": "t", "pk": 2}\n]',  # split
        '[\n  {\n    "table": "t",\n    "pk": 1\n  },\n  {"table": "t", "pk": 2}\n]',  # indented
        '[\n{"table": "t", "pk": 1}, {"table": "t", "pk": 2}\n]',  # two on a line
        '[\n\t{"table": "t", "pk": 1}  ,  \n\n {"table": "t", "pk": 2}]',  # spaces, ']' after
        '[{"table": "t", "pk": 1},\r\n{"table": "t", "pk": 2}\r\n]\r\n',  # CRLF
    ],
)
def test_json_lists_in_other_layouts(text: str) -> None:
    got = read(text)
    assert [(r.index, r.table, r.pk) for r in got] == [(0, "t", 1), (1, "t", 2)]
    lines = text.split("\n")
    starts = [next(i for i, line in enumerate(lines) if f'"pk": {n}' in line) for n in (1, 2)]
    starts[0] = next(i for i in range(starts[0], -1, -1) if "{" in lines[i])
    assert [r.line for r in got] == [s + 1 for s in starts]


def test_a_line_longer_than_the_span_is_read_whole() -> None:
    long = {"table": "t", "pk": 1, "fields": {"x": "a" * 5000}}
    text = dump("json", [long, {"table": "t", "pk": 2}])
    with mock.patch.object(_readers, "_FAST_SPAN", 64), mock.patch.object(_readers, "_CHUNK", 97):
        got = read(text)
    assert [(r.pk, r.line) for r in got] == [(1, 2), (2, 3)]
    assert got[0].fields == long["fields"]


def test_errors_in_dump_shaped_files_name_line_column_and_record() -> None:
    records = [{"table": "t", "pk": i} for i in range(6)]
    text = dump("json", records).replace('"pk": 3}', '"pk": 3 x}')
    with pytest.raises(FixtureFormatError) as info:
        read(text)
    assert (info.value.line, info.value.column, info.value.record) == (5, 24, 3)
    assert str(info.value).startswith("f.json: invalid JSON at line 5 column 24: ")
    text = dump("json", records).replace('"pk": 3}', '"pk": 3},')
    with pytest.raises(FixtureFormatError, match=r"record 4 at line 5 column 25 is not a JSON"):
        read(text)
    with pytest.raises(FixtureFormatError, match=r"ends inside record 1 \(started at line 3\)"):
        read(dump("json", records)[:40])


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_the_depth_limit_holds_where_orjson_would_go_deeper(fmt: str) -> None:
    # orjson reads up to 1024 levels; the limit is 500 on every path.
    body = "[" * 599 + "]" * 599
    records = [{"table": "t", "pk": 1}, {"table": "t", "pk": 2, "fields": {"x": "@"}}]
    text = dump(fmt, records).replace('"@"', body)
    with pytest.raises(FixtureFormatError, match=r"record 1 .* nested more than 500 levels"):
        read(text)


# ---------------------------------------------------------------- equivalence with json.loads

MARK = "\ue000"  # numbers are written as raw text where the document holds MARK<n>MARK
texts = st.text(st.characters(exclude_categories=["Cs", "Co"]), max_size=12)
number_texts = st.one_of(
    st.integers(-(10**30), 10**30).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.builds(
        lambda m, f, e: f"{m}.{f}e{e}",
        st.integers(-(10**20), 10**20),
        st.integers(0, 10**25),
        st.integers(-280, 280),
    ),
    st.sampled_from(["-0", "0.0", "-0.0", "1E+2", "0.1000000000000000055511151231257827"]),
)
leaves = st.one_of(st.none(), st.booleans(), texts, number_texts.map(lambda n: ("num", n)))
values = st.recursive(
    leaves,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(texts, inner, max_size=4)),
    max_leaves=12,
)
records_st = st.lists(
    st.fixed_dictionaries(
        {"table": texts.filter(bool)},
        optional={"pk": values, "fields": st.dictionaries(texts, values, max_size=5)},
    ),
    max_size=8,
)
LAYOUTS = ["jsonl", "json-dump", "json-indented", "json-one-line", "json-mixed"]


def render(records: list[dict[str, Any]], layout: str, rng: st.DataObject) -> str:
    numbers: list[str] = []

    def mark(value: Any) -> Any:
        if isinstance(value, tuple):
            numbers.append(value[1])
            return f"{MARK}{len(numbers) - 1}{MARK}"
        if isinstance(value, dict):
            return {k: mark(v) for k, v in value.items()}
        if isinstance(value, list):
            return [mark(v) for v in value]
        return value

    marked = [mark(r) for r in records]
    if layout == "jsonl":
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in marked)
    elif layout == "json-dump":
        text = dump("json", marked)
    elif layout == "json-indented":
        text = dump("json", marked, indent=2)
    elif layout == "json-one-line":
        text = json.dumps(marked, ensure_ascii=False)
    else:
        parts = [
            json.dumps(r, ensure_ascii=False, indent=rng.draw(st.sampled_from([None, 1])))
            for r in marked
        ]
        seps = [rng.draw(st.sampled_from([",\n", ", ", " ,\n\n", ",\n  "])) for _ in parts]
        text = "[\n" + "".join(p + s for p, s in zip(parts, seps, strict=True))
        text = (text[: -len(seps[-1])] if parts else text) + "\n]\n"
    for i, number in enumerate(numbers):
        text = text.replace(f'"{MARK}{i}{MARK}"', number, 1)
    return text


@settings(derandomize=True, max_examples=100, deadline=None)
@given(
    records=records_st,
    layout=st.sampled_from(LAYOUTS),
    crlf=st.booleans(),
    bom=st.booleans(),
    chunk=st.sampled_from([7, 61, 1 << 20]),
    span=st.sampled_from([40, 1 << 16]),
    rng=st.data(),
)
def test_the_reader_reads_what_json_loads_reads(
    records: list[dict[str, Any]],
    layout: str,
    crlf: bool,
    bom: bool,
    chunk: int,
    span: int,
    rng: st.DataObject,
) -> None:
    text = render(records, layout, rng)
    if crlf:
        text = text.replace("\n", "\r\n")
    if layout == "jsonl":
        expected = [json.loads(line) for line in text.split("\n") if line.strip()]
    else:
        expected = json.loads(text)
    if bom:
        text = BOM + text
    with (
        mock.patch.object(_readers, "_CHUNK", chunk),
        mock.patch.object(_readers, "_FAST_SPAN", span),
    ):
        if not expected and layout == "jsonl":
            with pytest.raises(FixtureFormatError, match="empty"):
                read(text)
            return
        got = read(text)
    assert len(got) == len(expected)
    for index, (raw, record) in enumerate(zip(got, expected, strict=True)):
        assert (raw.index, raw.table) == (index, record["table"])
        assert same(raw.pk, record["pk"]) if "pk" in record else raw.pk is MISSING
        assert same(raw.fields, record.get("fields", {}))
    if layout == "jsonl":
        lines = [i + 1 for i, line in enumerate(text.split("\n")) if line.strip(BOM + " \r")]
        assert [raw.line for raw in got] == lines
    elif layout == "json-dump":
        assert [raw.line for raw in got] == [i + 2 for i in range(len(got))]


def test_a_huge_record_is_not_parsed_again_for_every_chunk() -> None:
    # The stdlib path parses a record cut by the end of the buffer again from its start.
    calls = []
    decoder = _readers._DECODER

    class Counting:
        def raw_decode(self, text: str, pos: int) -> Any:
            calls.append(pos)
            return decoder.raw_decode(text, pos)

    huge = {"table": "t", "pk": 1, "fields": {"x": ["a" * 10] * 2000}}
    text = "[\n" + json.dumps(huge, indent=1) + ",\n" + json.dumps(huge, indent=1) + "\n]"
    with (
        mock.patch.object(_readers, "_DECODER", Counting()),
        mock.patch.object(_readers, "_CHUNK", 64),
    ):
        got = read(text)
    assert [r.fields for r in got] == [huge["fields"]] * 2
    assert len(calls) < 40  # a 64-character chunk per attempt took about 1,000
