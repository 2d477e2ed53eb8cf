"""Every format carries the same records: a dump in YAML, CSV or a plugin's format, loaded into an
empty database, gives back the JSON dump byte for byte (the hard schema, every PostgreSQL type).
Bad YAML and CSV are one line naming the file and the place, and nothing is written.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, text
from typer.testing import CliRunner

from backends import Backend
from batteries_fixtures import FixtureFileError, FixtureFormatError, dump, load
from batteries_fixtures.cli import app
from batteries_models import Database
from test_fixtures_natural_keys import _contents, _seed
from test_fixtures_roundtrip import _fresh, _seeded
from test_fixtures_types import _pg_rows, _pg_seeded, _pg_wipe

HERE = Path(__file__).parent
runner = CliRunner()

# format, where the dump goes (a folder for CSV), whether the dump is split
LAYOUTS = [
    ("yaml", "fixture.yaml", False),
    ("yaml", "fixture.yml.gz", False),
    ("csv", "tables", True),
    ("jsonseq", "fixture.json-seq", False),  # a plugin: tests-integration/plugins/
]


@pytest.mark.parametrize(("fmt", "name", "split"), LAYOUTS)
async def test_a_dump_in_any_format_loads_back_to_the_same_json_dump(
    database: Database, schema: ModuleType, tmp_path: Path, fmt: str, name: str, split: bool
) -> None:
    await _seeded(database, schema)
    reference = tmp_path / "reference.json"
    await dump(database, reference, models=schema.MODELS)
    target = tmp_path / name
    report = await dump(database, target, format=fmt, split=split, models=schema.MODELS)
    assert report.format == fmt
    await _fresh(database, schema)
    # No --format on load: the suffix says which (a folder of .csv files, a .yml.gz file).
    loaded = await load(database, target, models=schema.MODELS)
    assert loaded.inserted == report.rows
    again = tmp_path / "again.json"
    await dump(database, again, models=schema.MODELS)
    assert again.read_bytes() == reference.read_bytes()


NATURAL_DATA: dict[str, Any] = {
    "author": [
        {"id": 7, "name": "ann", "mentor_id": 9},  # a mentor that comes later
        {"id": 9, "name": "bob", "mentor_id": None},
    ],
    "tag": [{"id": 3, "name": "red"}, {"id": 4, "name": "blue"}],
    "book": [{"id": 5, "author_id": 7, "title": "x"}, {"id": 6, "author_id": 9, "title": "x"}],
    "book_tag": [{"book_id": 5, "tag_id": 4}, {"book_id": 6, "tag_id": 3}],
    "profile": [{"author_id": 9, "bio": "about bob"}],
    "review": [{"id": 1, "book_id": 6, "stars": 4}],
    "pin": [{"id": 1, "tag_name": "red"}],
}


@pytest.mark.parametrize(("fmt", "name", "split"), LAYOUTS[1:3])
async def test_natural_keys_survive_yaml_and_csv_under_other_keys(
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    fmt: str,
    name: str,
    split: bool,
) -> None:
    """Nested natural keys, in primary keys too, loaded into a database that hands out others."""
    monkeypatch.syspath_prepend(str(HERE))
    ns = importlib.import_module("natural_schema")
    await database.create_all(ns.metadata)
    async with database.connect() as connection:
        await _seed(connection, ns, NATURAL_DATA)
        before = await _contents(connection, ns)
    target = tmp_path / name
    await dump(database, target, format=fmt, split=split, models=ns.metadata, natural_primary=True)
    await database.drop_all(ns.metadata)
    await database.create_all(ns.metadata)
    async with database.connect() as connection:
        await connection.execute(insert(ns.author).values(name="burnt"))  # other keys now
    await load(database, target, models=ns.metadata)
    async with database.connect() as connection:
        after = await _contents(connection, ns)
    assert after == {**before, "author": before["author"] | {("burnt", None)}}


@pytest.mark.parametrize(
    ("fmt", "name", "split"), [("yaml", "all.yaml", False), ("csv", "t", True)]
)
async def test_every_postgres_type_survives_yaml_and_csv(
    backend: Backend, database: Database, tmp_path: Path, fmt: str, name: str, split: bool
) -> None:
    if not backend.has_postgres_types:
        pytest.skip("PostgreSQL's own types (domains, ranges, network, geometry...)")
    before = await _pg_seeded(database)
    reference = tmp_path / "reference.json"
    await dump(database, reference)
    await dump(database, tmp_path / name, format=fmt, split=split)
    await _pg_wipe(database)
    await load(database, tmp_path / name)
    assert await _pg_rows(database) == before
    again = tmp_path / "again.json"
    await dump(database, again)
    assert again.read_bytes() == reference.read_bytes()


# ---------------------------------------------------------------- the command line

_NOTE = MetaData()
_NOTE_TABLE = Table(
    "note",
    _NOTE,
    Column("id", Integer, primary_key=True),
    Column("body", String(50), nullable=True),
)


def _notes(backend: Backend, *rows: tuple[int, str | None]) -> None:
    async def run() -> None:
        database = Database(backend.url)
        await database.create_all(_NOTE)
        if rows:
            async with database.connect() as connection:
                await connection.execute(
                    _NOTE_TABLE.insert(), [{"id": i, "body": body} for i, body in rows]
                )
        await database.dispose()

    asyncio.run(run())


def _stored(backend: Backend) -> list[tuple[Any, ...]]:
    async def run() -> list[tuple[Any, ...]]:
        database = Database(backend.url)
        async with database.connect() as connection:
            found = await connection.execute(text("SELECT id, body FROM note ORDER BY id"))
            stored = [tuple(row) for row in found]
        await database.dispose()
        return stored

    return asyncio.run(run())


def _cli(backend: Backend, *args: str) -> Any:
    return runner.invoke(app, [*args, "--database-url", backend.url])


def test_csv_tells_null_from_the_empty_string(backend: Backend, tmp_path: Path) -> None:
    _notes(backend)
    folder = tmp_path / "csv"
    folder.mkdir()
    (folder / "note.csv").write_text(
        'id,body\n1,\n2,""\n3,"a, ""b""\nc"\n4,plain\n', encoding="utf-8"
    )
    loaded = _cli(backend, "load", str(folder))
    assert loaded.exit_code == 0, loaded.stderr
    assert _stored(backend) == [(1, None), (2, ""), (3, 'a, "b"\nc'), (4, "plain")]
    out = tmp_path / "out"
    dumped = _cli(backend, "dump", "--split", "-o", str(out), "--format", "csv")
    assert dumped.exit_code == 0, dumped.stderr
    assert (out / "note.csv").read_bytes() == (folder / "note.csv").read_bytes()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            'id,body\n1,"open\n',
            r"note\.csv: invalid CSV at line 2 column 3: a quoted value is never",
        ),
        ('id,body\n1,a"b\n', r"note\.csv: invalid CSV at line 2 column 4: a quote inside an unq"),
        ("id,body\n1,x\n2\n", r"note\.csv: line 3 \(record 1\) has 1 values for the 2 columns"),
        ("id,id\n", r"note\.csv: line 1: the header names column 'id' twice"),
        ("", r"note\.csv: the file is empty; a CSV fixture starts with a header row"),
    ],
)
def test_bad_csv_is_one_line_naming_the_place_and_nothing_is_written(
    backend: Backend, tmp_path: Path, content: str, expected: str
) -> None:
    _notes(backend, (9, "kept"))
    path = tmp_path / "note.csv"
    path.write_text("id,body\n1,new\n", encoding="utf-8")
    good = tmp_path / "good"
    good.mkdir()
    (good / "note.csv").write_text("id,body\n1,new\n", encoding="utf-8")
    path.write_text(content, encoding="utf-8")
    result = _cli(backend, "load", str(good), str(path))
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert re.search(expected, result.stderr), result.stderr
    assert _stored(backend) == [(9, "kept")]


def test_csv_needs_split_and_a_named_file(backend: Backend, tmp_path: Path) -> None:
    _notes(backend, (1, "x"))
    result = _cli(backend, "dump", "-o", str(tmp_path / "note.csv"))
    assert result.exit_code == 1
    assert "CSV holds one table per file: dump with --split -o FOLDER --format csv" in (
        result.stderr
    )
    assert not (tmp_path / "note.csv").exists()
    piped = runner.invoke(
        app, ["load", "-", "--format", "csv", "--database-url", backend.url], input="id\n1\n"
    )
    assert piped.exit_code == 1
    assert "named after its table (TABLE.csv)" in piped.stderr


def test_a_folder_mixes_formats_in_one_load(backend: Backend, tmp_path: Path) -> None:
    _notes(backend)
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "a.yaml").write_text(
        "- table: note\n  pk: 1\n  fields: {body: from yaml}\n", encoding="utf-8"
    )
    (folder / "note.csv").write_text("id,body\n2,from csv\n", encoding="utf-8")
    (folder / "z.json").write_text(
        '[{"table": "note", "pk": 3, "fields": {"body": "from json"}}]', encoding="utf-8"
    )
    (folder / "README.md").write_text("not a fixture", encoding="utf-8")
    result = _cli(backend, "load", str(folder))
    assert result.exit_code == 0, result.stderr
    assert "from 3 file(s)" in result.stderr
    assert _stored(backend) == [(1, "from yaml"), (2, "from csv"), (3, "from json")]


# ---------------------------------------------------------------- YAML: safe loading only

_ATTACKS = [
    (
        # PyYAML's unsafe loaders would run the command.
        "- table: note\n  pk: 1\n  fields:\n"
        "    body: !!python/object/apply:os.system [touch {marker}]\n",
        "invalid YAML at line 4 column 11: the tag !!python/object/apply:os.system is not allowed",
    ),
    (
        "- !!python/object:builtins.dict {table: note}\n",
        "invalid YAML at line 1 column 3: the tag !!python/object:builtins.dict is not allowed",
    ),
    (
        # A billion laughs: nine levels of ten aliases, 10**9 strings from a few lines.
        "- table: note\n  pk: 1\n  fields:\n    body: &a0 lol\n"
        + "".join(f"    x{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 10)),
        "record 0 (line 1): its aliases expand to 1,234,567,917 values from 27 written (more "
        'than 100,000 added: a "billion laughs" document); write the values out',
    ),
    ("- &loop [*loop]\n", "is inside the value it names"),
]


@pytest.mark.parametrize(("content", "expected"), _ATTACKS)
def test_yaml_that_would_build_objects_or_explode_is_refused(
    backend: Backend, tmp_path: Path, content: str, expected: str
) -> None:
    _notes(backend, (9, "kept"))
    marker = tmp_path / "ran"
    path = tmp_path / "attack.yaml"
    path.write_text(content.replace("{marker}", str(marker)), encoding="utf-8")
    result = _cli(backend, "load", str(path))
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert f"Error: {path}: " in result.stderr
    assert expected in result.stderr
    assert not marker.exists()
    assert _stored(backend) == [(9, "kept")]


def test_yaml_reads_the_json_data_model_only(backend: Backend, tmp_path: Path) -> None:
    """YAML 1.2's core schema: Norway stays NO, a date stays the text its codec reads."""
    _notes(backend)
    path = tmp_path / "notes.yml"
    path.write_text(
        "- {table: note, pk: 1, fields: {body: NO}}\n"
        "- {table: note, pk: 2, fields: {body: 2024-01-02}}\n"
        "- {table: note, pk: 0o10, fields: {body: 1:20}}\n"
        "- {table: note, pk: 012, fields: {body: ~}}\n",
        encoding="utf-8",
    )
    result = _cli(backend, "load", str(path))
    assert result.exit_code == 0, result.stderr
    assert _stored(backend) == [(1, "NO"), (2, "2024-01-02"), (8, "1:20"), (12, None)]


# ---------------------------------------------------------------- plugins


def test_a_format_installed_by_another_package_works_from_the_command_line(
    backend: Backend, tmp_path: Path
) -> None:
    """batteries-fixtures-jsonseq (tests-integration/plugins/) registers only an entry point."""
    _notes(backend, (1, "one"), (2, None))
    command = [sys.executable, "-m", "batteries_fixtures"]
    options = ["--database-url", backend.url]
    seq = tmp_path / "notes.json-seq"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*command, *args, *options], capture_output=True, text=True, check=False, timeout=60
        )

    dumped = run("dump", "-o", str(seq))  # chosen by the plugin's suffix
    assert dumped.returncode == 0, dumped.stderr
    assert "(jsonseq)" in dumped.stderr
    lines = seq.read_text(encoding="utf-8").split("\n")[:-1]  # splitlines() splits at \x1e
    assert [json.loads(line.removeprefix("\x1e"))["pk"] for line in lines] == [1, 2]
    assert all(line.startswith("\x1e") for line in lines)
    reloaded = run("load", "--truncate", "--yes", "--format", "jsonseq", str(seq))
    assert reloaded.returncode == 0, reloaded.stderr
    assert "(2 inserted, 0 updated, 0 unchanged, 0 skipped)" in reloaded.stderr
    assert _stored(backend) == [(1, "one"), (2, None)]
    unknown = run("dump", "--format", "toml")
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == (
        "Error: Unknown fixture format 'toml': the formats installed are csv, django, json, "
        "jsonl, jsonseq, yaml (a package adds one with an entry point in the group "
        "batteries_fixtures.formats)"
    )


def test_a_format_option_needs_a_format_and_an_equals_sign(backend: Backend) -> None:
    result = _cli(backend, "dump", "-O", "x=1")
    assert result.exit_code == 1
    assert "--format-option configures a format: give --format NAME too" in result.stderr
    result = _cli(backend, "dump", "--format", "yaml", "-O", "indent")
    assert "--format-option 'indent' is not KEY=VALUE" in result.stderr
    result = _cli(backend, "dump", "--format", "yaml", "-O", "width=3")
    assert "The yaml format takes no options, got width: leave out --format-option" in (
        result.stderr
    )


async def test_a_format_object_is_used_as_it_is(database: Database, tmp_path: Path) -> None:
    """The API takes a format object, registered nowhere."""
    from batteries_fixtures_jsonseq import JsonSeqFormat

    await database.create_all(_NOTE)
    async with database.connect() as connection:
        await connection.execute(_NOTE_TABLE.insert(), [{"id": 5, "body": "x"}])
    path = tmp_path / "any.name"
    await dump(database, path, format=JsonSeqFormat())
    assert path.read_text(encoding="utf-8").startswith("\x1e")
    with pytest.raises(FixtureFormatError, match="invalid JSON at line 1 column 1"):
        await load(database, path)  # the suffix says nothing: read as JSON, which it is not
    report = await load(database, path, format=JsonSeqFormat())
    assert report.unchanged == 1
    with pytest.raises(FixtureFileError, match="django format writes every table into one file"):
        await dump(database, tmp_path / "split", format="django", split=True)
