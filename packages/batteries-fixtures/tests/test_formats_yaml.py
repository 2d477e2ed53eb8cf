from __future__ import annotations

import io
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import sqlite

from batteries_fixtures import FixtureFormatError
from batteries_fixtures.formats import FormatContext, get_format

FORMAT = get_format("yaml")
CONTEXT = FormatContext(tables={}, natural_keys={}, value_types={}, dialect=sqlite.dialect())


def read(text: str) -> list[tuple[str, Any, dict[str, Any]]]:
    records = FORMAT.read(io.BytesIO(text.encode()), "f.yaml", CONTEXT)
    return [(r.table, r.pk, r.fields) for r in records]


def write(records: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = FORMAT.writer(out, CONTEXT)
    for record in records:
        writer.write(record)
    writer.close()
    return out.getvalue()


def error(text: str) -> str:
    with pytest.raises(FixtureFormatError) as info:
        read(text)
    assert "\n" not in str(info.value)
    return str(info.value)


def test_a_list_a_stream_of_documents_and_merge_keys() -> None:
    listed = read("- {table: t, pk: 1, fields: {a: x}}\n- {table: t, pk: 2}\n")
    assert listed == [("t", 1, {"a": "x"}), ("t", 2, {})]
    documents = read("---\ntable: t\npk: 1\n---\n- {table: t, pk: 2}\n- {table: t, pk: 3}\n")
    assert [pk for _, pk, _ in documents] == [1, 2, 3]
    merged = read(
        "- {table: t, pk: 1, fields: &base {a: 1, b: 2}}\n"
        "- table: t\n  pk: 2\n  fields:\n    <<: *base\n    b: 3\n"
    )
    assert merged[1] == ("t", 2, {"a": 1, "b": 3})
    assert read("[]\n") == []


def test_plain_scalars_are_yaml_1_2_core_schema() -> None:
    values = (
        "[yes, no, on, NO, true, False, 012, 0o12, 0x1F, 1_000, 1:20, 1e3, .5, ~, '', 2024-01-02]"
    )
    ((_, _, fields),) = read(f"- {{table: t, fields: {{v: {values}}}}}\n")
    assert fields["v"] == [
        "yes", "no", "on", "NO", True, False, 12, 10, 31, "1_000", "1:20", 1000.0, 0.5,
        None, "", "2024-01-02",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "f.yaml: the file is empty; expected a YAML list of records"),
        ("- {table: t, fields: {a: .nan}}\n", "line 1 column 26: .nan is not a number"),
        ("- {table: t, fields: {a: 1e999}}\n", "line 1 column 26: the number 1e999 is too large"),
        ("- {table: t, fields: {1: x}}\n", "line 1 column 23: a mapping key must be a string"),
        ("- {table: t, fields: {a: !!binary aGk=}}\n", "the tag !!binary is not allowed"),
        ("- {table: t, fields: {a: !!timestamp 2024-01-01}}\n", "the tag !!timestamp is not"),
        ("- {table: t, fields: {a: !!set {x}}}\n", "the tag !!set is not allowed"),
        ("- {table: t, fields: {a: !local x}}\n", "the tag !local is not allowed"),
        ("- {table: t, pk: 1, oops: 2}\n", "record 0 (line 1) has unknown key 'oops'"),
        ("- just text\n", "record 0 (line 1) is not a mapping of table, pk and fields"),
        ("- {table: t\n", "f.yaml: invalid YAML at line 2 column 1:"),
        ("- {table: *nope}\n", "found undefined alias 'nope'"),
    ],
)
def test_errors_name_the_place(text: str, expected: str) -> None:
    assert expected in error(text)


def test_records_are_read_one_at_a_time() -> None:
    """The first record comes out while most of the file is still unread."""
    body = "".join(f"- {{table: t, pk: {i}, fields: {{a: {'x' * 100}}}}}\n" for i in range(20000))

    class Counting(io.BytesIO):
        consumed = 0

        def read(self, size: int | None = -1) -> bytes:
            data = super().read(size)
            Counting.consumed += len(data)
            return data

    stream = Counting(body.encode())
    records = iter(FORMAT.read(stream, "f.yaml", CONTEXT))
    assert next(records).pk == 0
    assert Counting.consumed < len(body) // 10


_TRICKY = st.sampled_from(
    ["yes", "No", "on", "null", "~", "", "1e3", "0o7", "012", "1:20", "2024-01-01", ".inf",
     "true", "- x", "#c", "a: b", "  lead", "trail ", "multi\nline\n", "\x01", "é 🦄", "'", '"']
)  # fmt: skip
_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
    | _TRICKY,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(min_size=1) | _TRICKY.filter(bool), _VALUES, max_size=5))
def test_what_is_written_reads_back_the_same_here_and_in_pyyaml(fields: dict[str, Any]) -> None:
    record = {"table": "t", "pk": 1, "fields": fields}
    text = write([record])
    assert read(text) == [("t", 1, fields)]
    # Any YAML 1.1 reader (PyYAML's safe_load) reads the same values: nothing is left plain
    # that it would take for a boolean, a date or a number.
    assert yaml.safe_load(text) == [record]
