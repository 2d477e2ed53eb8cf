from __future__ import annotations

import gzip
import io
import re
import sys
from pathlib import Path

import pytest

from batteries_fixtures import FixtureFileError, FixtureFormatError
from batteries_fixtures._compression import codec_for, strip_codec
from batteries_fixtures._formats import (
    RecordWriter,
    format_for_file,
    format_named,
    read_records,
    suffixes_of,
)
from batteries_fixtures._outputs import Parts, open_output
from batteries_fixtures._sources import expand_sources, open_source
from batteries_models import extra_requirement

RECORDS = [{"table": "t", "pk": i, "fields": {"s": "é\n" * i}} for i in range(50)]


def _write(path: Path) -> None:
    with open_output(path) as stream:
        writer = RecordWriter(stream, "jsonl")
        for record in RECORDS:
            writer.write(record)
        writer.close()


def _read(path: Path) -> list[object]:
    with open_source(path) as (stream, name):
        return [r.fields for r in read_records(stream, name)]


@pytest.mark.parametrize("suffix", [".gz", ".bz2", ".xz", ".zst"])
def test_every_codec_round_trips_and_detects_truncation(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"rows.jsonl{suffix}"
    _write(path)
    assert _read(path) == [r["fields"] for r in RECORDS]
    data = path.read_bytes()
    for cut in (len(data) - 1, len(data) // 2, 3):
        broken = tmp_path / f"cut{suffix}"
        broken.write_bytes(data[:cut])
        with pytest.raises(FixtureFormatError) as caught:
            _read(broken)
        assert str(broken) in str(caught.value)
        assert "\n" not in str(caught.value)


def test_garbage_is_a_corrupt_file_error(tmp_path: Path) -> None:
    path = tmp_path / "rows.json.gz"
    path.write_bytes(b"this is not gzip at all")
    with pytest.raises(FixtureFormatError, match=r"rows\.json\.gz: not valid gzip data"):
        _read(path)


def test_concatenated_gzip_members_are_one_file(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"table": "a"}\n') + gzip.compress(b'{"table": "b"}\n'))
    with open_source(path) as (stream, name):
        assert [r.table for r in read_records(stream, name)] == ["a", "b"]


def test_missing_zstandard_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "zstandard", None)
    path = tmp_path / "rows.json.zst"
    # batteries-fixtures[zstd] alone, fastapi-batteries[zstd] where the meta-package is installed
    hint = re.escape(f"pip install '{extra_requirement('batteries-fixtures', 'zstd')}'")
    with pytest.raises(FixtureFileError, match=hint) as caught:
        _write(path)
    assert "\n" not in str(caught.value)
    assert not list(tmp_path.iterdir())  # no temporary file left behind
    path.write_bytes(b"\x28\xb5\x2f\xfd")
    with pytest.raises(FixtureFileError, match=hint):
        _read(path)


def test_format_comes_from_the_name_inside_the_compression_suffix() -> None:
    assert codec_for("A.JSONL.GZ") is not None
    assert codec_for("a.json") is None
    assert strip_codec("a.jsonl.zst") == "a.jsonl"
    assert type(format_for_file("a.jsonl.xz")).name == "jsonl"
    assert type(format_for_file("A.JSON.BZ2")).name == "json"
    assert type(format_for_file("a.yml.gz")).name == "yaml"
    assert format_for_file("a.txt.gz") is None


def test_folder_expands_to_sorted_fixture_files(tmp_path: Path) -> None:
    for name in [
        "b.json",
        "a.jsonl.gz",
        ".hidden.json",
        "notes.txt",
        "c.ndjson",
        "d.yaml",
        "e.csv",
    ]:
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "sub.json").mkdir()
    expanded = expand_sources([tmp_path, "-"], lambda: suffixes_of(None))
    names = [Path(p).name for p in expanded[:-1]]  # type: ignore[arg-type]
    assert names == ["a.jsonl.gz", "b.json", "c.ndjson", "d.yaml", "e.csv"]
    assert expanded[-1] == "-"
    only_yaml = expand_sources([tmp_path], lambda: suffixes_of(format_named("yaml", {})))
    assert [Path(p).name for p in only_yaml] == ["d.yaml"]  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
@pytest.mark.parametrize("indent", [None, 4])
@pytest.mark.parametrize("sizes", [(0, 0), (0, 3, 0, 2), (1,), (2, 0, 1)])
def test_fragments_joined_give_the_bytes_of_one_writer(
    fmt: str, indent: int | None, sizes: tuple[int, ...]
) -> None:
    tables = [[{"table": f"t{i}", "pk": j} for j in range(n)] for i, n in enumerate(sizes)]
    whole = io.StringIO()
    writer = RecordWriter(whole, fmt, indent)  # type: ignore[arg-type]
    for records in tables:
        for record in records:
            writer.write(record)
    writer.close()

    parts = Parts()
    for i, records in enumerate(tables):
        with parts.open(f"t{i}") as stream:
            fragment = RecordWriter(stream, fmt, indent, fragment=True)  # type: ignore[arg-type]
            for record in records:
                fragment.write(record)
            fragment.close()
    joined = io.StringIO()
    writer = RecordWriter(joined, fmt, indent)  # type: ignore[arg-type]
    for i, records in enumerate(tables):
        writer.append(lambda s, skip, i=i: parts.copy(f"t{i}", s, skip), len(records))
    writer.close()
    parts.close()
    assert joined.getvalue() == whole.getvalue()
