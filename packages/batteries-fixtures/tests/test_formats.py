from __future__ import annotations

import io
import json
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from batteries_fixtures import FixtureFileError, FixtureFormatError
from batteries_fixtures._formats import RecordWriter, format_for_file, read_records

RECORDS = [{"table": "t", "pk": i, "fields": {"name": f"n{i}", "s": "é\n"}} for i in range(5)]


def write(fmt: str, records: list[dict[str, object]], indent: int | None = None) -> str:
    buffer = io.StringIO()
    writer = RecordWriter(buffer, fmt, indent)  # type: ignore[arg-type]
    for record in records:
        writer.write(record)
    writer.close()
    return buffer.getvalue()


def read(text: str | bytes, chunk: int | None = None) -> list[dict[str, object]]:
    data = text.encode() if isinstance(text, str) else text
    return [
        {"table": r.table, "pk": r.pk, "fields": r.fields}
        for r in read_records(io.BytesIO(data), "f.json")
    ]


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
@pytest.mark.parametrize("indent", [None, 2])
def test_written_records_read_back(fmt: str, indent: int | None) -> None:
    text = write(fmt, RECORDS, indent)
    assert read(text) == RECORDS
    if fmt == "json":
        assert json.loads(text) == RECORDS


def test_json_has_one_record_per_line_and_an_empty_dump_is_a_list() -> None:
    assert write("json", RECORDS[:2]).splitlines()[1:3] == [
        json.dumps(RECORDS[0], ensure_ascii=False) + ",",
        json.dumps(RECORDS[1], ensure_ascii=False),
    ]
    assert write("json", []) == "[]\n"
    assert read("[]") == []


def test_records_across_chunk_boundaries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("batteries_fixtures._readers._CHUNK", 7)
    monkeypatch.setattr("batteries_fixtures._readers._TRIM_AT", 10)
    many = RECORDS * 20
    assert read(write("json", many)) == many
    assert read(write("jsonl", many)) == many


def test_positions_are_exact_after_the_buffer_is_trimmed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("batteries_fixtures._readers._CHUNK", 5)
    monkeypatch.setattr("batteries_fixtures._readers._TRIM_AT", 3)
    text = write("json", RECORDS).replace('"pk": 3,', '"pk": 3')
    with pytest.raises(FixtureFormatError) as info:
        read(text)
    assert (info.value.line, info.value.record) == (5, 3)
    assert "line 5 column" in str(info.value)


def test_format_for_file() -> None:
    assert type(format_for_file("a.jsonl")).name == "jsonl"
    assert type(format_for_file("a.NDJSON")).name == "jsonl"
    assert type(format_for_file("a.json")).name == "json"
    assert format_for_file("a") is None


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("[1]", "record 0 at line 1 column 2 is not a JSON object"),
        ('[{"table": "t"} {"table": "t"}]', "expected ',' or ']' after record 0"),
        ('[{"table": "t"}] x', "unexpected text after the closing ']'"),
        ('[{"table": "t"},', "without the closing ']'"),
        ('{"table": "t"}\n{"table": ', "line 2 column"),
        ('[{"table": "t", "model": "x"}]', "unknown key 'model'"),
        ('[{"pk": 1}]', "no 'table' string"),
        ('[{"table": "t", "fields": []}]', "'fields' of table 't' must be an object"),
    ],
)
def test_malformed_files_say_where(text: str, fragment: str) -> None:
    with pytest.raises(FixtureFormatError, match=r"^f\.json: ") as info:
        read(text)
    assert fragment in str(info.value)


def test_encodings() -> None:
    bom = b"\xef\xbb\xbf"
    assert read(bom + b'[{"table": "t", "pk": 1}]') == [{"table": "t", "pk": 1, "fields": {}}]
    assert read(bom + b'{"table": "t", "pk": 1}\n') == [{"table": "t", "pk": 1, "fields": {}}]
    with pytest.raises(FixtureFileError, match="UTF-16"):
        read('[{"table": "t"}]'.encode("utf-16-le"))
    with pytest.raises(FixtureFileError, match="not valid UTF-8 at byte 12"):
        read(b'[{"table": "\xff"}]')


NOT_STORABLE = {
    "NaN": ("NaN", "NaN is not JSON"),
    "-Infinity": ("-Infinity", "-Infinity is not JSON"),
    "overflow": ("1e400", "too large for a double"),
    "401 digits": ("9" * 401 + ".5", "too large for a double"),
    "underflow": ("1E-400", "stored as 0"),
    "underflow without exponent": ("0." + "0" * 400 + "1", "stored as 0"),
    "int-str limit": ("1" * 5000, "more digits than Python converts"),
    "deep nesting": ("[" * 10_000 + "]" * 10_000, "nested more than 500 levels"),
    "lone surrogate": ('"\\ud800"', "lone surrogate \\ud800"),
}


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
@pytest.mark.parametrize("case", list(NOT_STORABLE))
def test_values_python_reads_but_no_database_stores_are_refused(
    fmt: str, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small chunks: the value is cut across reads, and must still be judged whole.
    monkeypatch.setattr("batteries_fixtures._readers._CHUNK", 97)
    token, fragment = NOT_STORABLE[case]
    good = '{"table": "t", "pk": 1, "fields": {"x": 1e300, "y": "e123", "z": "\\ud83d\\ude00"}}'
    bad = '{"table": "t", "pk": 2, "fields": {"x": ' + token + "}}"
    text = f"[{good},\n{bad}]" if fmt == "json" else f"{good}\n{bad}\n"
    with pytest.raises(FixtureFormatError) as info:
        read(text)
    assert (info.value.record, info.value.line) == (1, 2)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)
    assert read(text.replace(token, "1.5"))[0]["fields"] == {"x": 1e300, "y": "e123", "z": "😀"}


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_the_depth_limit_does_not_depend_on_the_recursion_limit(fmt: str) -> None:
    def record(depth: int) -> str:  # the record and its fields object are 2 levels
        body = "[" * (depth - 2) + "]" * (depth - 2)
        return '{"table": "t", "pk": 1, "fields": {"x": ' + body + "}}"

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(50_000)  # as a test runner or library may have done
    try:
        assert read(f"[{record(500)}]" if fmt == "json" else record(500))
        with pytest.raises(FixtureFormatError, match="nested more than 500 levels"):
            read(f"[{record(501)}]" if fmt == "json" else record(501))
    finally:
        sys.setrecursionlimit(limit)


TRICKY: list[object] = [
    1e16,
    0.1,
    -0.0,
    1e-7,
    1.5e300,
    float("nan"),
    float("inf"),
    2**63 - 1,
    -(2**63),
    2**200,
    "é ü 漢字 🐍",
    "\x00\x01\x1f\x7f\u2028\u2029\ufeff",
    '"quoted" \\ back \n\r\t\b\f',
    None,
    True,
    {"$json": [1, {"nested": "é", "n": None}]},
    [],
    {},
]


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
@pytest.mark.parametrize("indent", [None, 2])
def test_writer_bytes_equal_json_dumps_on_tricky_values(fmt: str, indent: int | None) -> None:
    records = [
        {"table": "t", "pk": i, "fields": {"value": value, "é": [value]}}
        for i, value in enumerate(TRICKY)
    ]
    if fmt == "jsonl":
        expected = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        indent = None
    else:
        texts = [json.dumps(r, ensure_ascii=False, indent=indent) for r in records]
        expected = "[\n" + ",\n".join(texts) + "\n]\n"
    assert write(fmt, records, indent) == expected


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None)
@given(
    pk=st.one_of(st.integers(), st.text(), st.dictionaries(st.text(), _SCALARS, max_size=2)),
    fields=st.dictionaries(st.text(), _VALUES, max_size=6),
)
def test_writer_bytes_equal_json_dumps_on_any_record(pk: object, fields: dict[str, object]) -> None:
    record = {"table": "t", "pk": pk, "fields": fields}
    assert write("jsonl", [record]) == json.dumps(record, ensure_ascii=False) + "\n"
    natural = {"table": "t", "fields": fields}  # natural_primary: no pk key
    assert write("jsonl", [natural]) == json.dumps(natural, ensure_ascii=False) + "\n"
    odd = {"fields": fields, "table": "t"}  # any other shape goes to the stdlib encoder
    assert write("jsonl", [odd]) == json.dumps(odd, ensure_ascii=False) + "\n"


def test_plugins_that_cannot_be_used_say_which_and_what_to_do(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from importlib.metadata import EntryPoint

    from batteries_fixtures import _formats
    from batteries_fixtures.formats import get_format, installed_formats

    group = "batteries_fixtures.formats"
    broken = {
        "gone": EntryPoint("gone", "no_such_module_here:Format", group),
        "notone": EntryPoint("notone", "json:dumps", group),
    }
    monkeypatch.setattr(_formats, "_entry_points", lambda: broken)
    assert installed_formats() == ["csv", "django", "gone", "json", "jsonl", "notone", "yaml"]
    with pytest.raises(FixtureFormatError) as info:
        get_format("gone")
    assert str(info.value) == (
        "The fixture format 'gone' (entry point gone = no_such_module_here:Format) cannot be "
        "imported: ModuleNotFoundError: No module named 'no_such_module_here'; reinstall or "
        "uninstall that package"
    )
    with pytest.raises(FixtureFormatError, match=r"is <function dumps .*>, not a subclass of "):
        get_format("notone")
    # Built-in suffixes never import a plugin; an unknown one has to.
    assert type(format_for_file("a.yaml")).name == "yaml"
    with pytest.raises(FixtureFormatError, match="'gone'"):
        format_for_file("a.toml")
