"""batteries-fixtures data safety: no value changes on the way in, every input ends in one line.

Each bad fixture is refused through the Python API and through the command line with a typed,
one-line error naming the place, and the database is left exactly as it was (sequences too).
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select, text
from typer.testing import CliRunner

from backends import Backend
from batteries_fixtures import (
    FixtureConnectionError,
    FixtureError,
    FixtureFormatError,
    FixtureIntegrityError,
    FixtureValueError,
    dump,
    load,
)
from batteries_fixtures.cli import app
from batteries_models import Database
from fixtures_schema import egg_and_hen

HERE = Path(__file__).parent
runner = CliRunner()


def _sample(fields: str) -> bytes:
    return ('[{"table": "sample", "pk": 7, "fields": {' + fields + "}}]").encode()


# Each case: fixture bytes, the error, fragments of its message. Every one of these loaded
# "successfully" as another value, or ended in a traceback, before.
BAD: dict[str, tuple[bytes, type[FixtureError], list[str]]] = {
    "decimal out of range": (_sample('"amount": "1e1000000"'), FixtureValueError, ["'amount'"]),
    "decimal sNaN": (_sample('"amount": "sNaN"'), FixtureValueError, ["'amount'", "sNaN"]),
    "decimal rounded to the scale": (
        _sample('"amount": "1.00005"'),
        FixtureValueError,
        ["'amount'", "5 digits after the decimal point", "Numeric(12, 4)"],
    ),
    "decimal beyond the precision": (
        _sample('"amount": "123456789.5"'),
        FixtureValueError,
        ["'amount'", "9 digits before the decimal point"],
    ),
    "decimal too small for a double or the scale": (
        _sample('"amount": "1e-400"'),
        FixtureValueError,
        ["'amount'"],
    ),
    "integer rounded by a float column": (
        _sample('"ratio": 9007199254740993'),
        FixtureValueError,
        ["'ratio'", "not exactly representable"],
    ),
    "401-digit integer in a float column": (
        _sample('"ratio": ' + "9" * 401),
        FixtureValueError,
        ["'ratio'"],
    ),
    "401-digit float": (
        _sample('"ratio": ' + "9" * 401 + ".5"),
        FixtureFormatError,
        ["record 0", "too large for a double"],
    ),
    "float that underflows to zero": (
        _sample('"ratio": 1e-400'),
        FixtureFormatError,
        ["record 0", "stored as 0"],
    ),
    "NaN literal in a JSON document": (
        _sample('"data": {"x": NaN}'),
        FixtureFormatError,
        ["record 0", "NaN is not JSON"],
    ),
    "Infinity literal in a float column": (
        _sample('"ratio": -Infinity'),
        FixtureFormatError,
        ["record 0", "-Infinity is not JSON"],
    ),
    "null pk": (
        b'[{"table": "org", "pk": null, "fields": {"slug": "n", "name": "N"}}]',
        FixtureValueError,
        ["record 0", "table 'org'", "primary key cannot be null"],
    ),
    "null pk column in fields": (
        b'[{"table": "org", "fields": {"id": null, "slug": "n", "name": "N"}}]',
        FixtureValueError,
        ["record 0", "table 'org'", "field 'id'"],
    ),
    "null in a NOT NULL column": (
        b'[{"table": "org", "pk": 9, "fields": {"slug": "n", "name": null}}]',
        FixtureValueError,
        ["record 0", "table 'org' pk 9 field 'name'", "NOT NULL"],
    ),
    "5000-digit integer": (
        _sample('"big": ' + "1" * 5000),
        FixtureFormatError,
        ["record 0", "more digits than Python converts"],
    ),
    "JSON nested 10,000 levels": (
        _sample('"data": ' + "[" * 10_000 + "]" * 10_000),
        FixtureFormatError,
        ["record 0", "nested more than 500 levels deep"],
    ),
    "lone surrogate": (
        _sample('"label": "a\\ud800b"'),
        FixtureFormatError,
        ["record 0", "table 'sample' field 'label'", "lone surrogate \\ud800"],
    ),
    "lone surrogate in a JSON document key": (
        _sample('"data": {"\\udfff": 1}'),
        FixtureFormatError,
        ["record 0", "field 'data'", "lone surrogate"],
    ),
    "time offset in a naive time column": (
        _sample('"clock": "12:00:00+05:00"'),
        FixtureValueError,
        ["'clock'", "has a UTC offset"],
    ),
}

# Refused where the database would store another value; stored exactly where it can.
KEPT_ONLY_WHERE_STORABLE = {
    "NaN in a Numeric column": ('"amount": "NaN"', "amount", "NaN"),
    "NaN in a Float column": ('"ratio": "NaN"', "ratio", "NaN"),
    "negative zero in a Float column": ('"ratio": -0.0', "ratio", -0.0),
}


async def _snapshot(database: Database, schema: ModuleType) -> str:
    buffer = io.StringIO()
    await dump(database, buffer, models=schema.MODELS)
    return buffer.getvalue()


async def _seeded(database: Database, schema: ModuleType) -> str:
    await database.create_all(schema.Base.metadata)
    async with database.connect() as connection:
        await schema.seed(connection)
    return await _snapshot(database, schema)


def _check_message(message: str, path: Path, fragments: list[str]) -> None:
    assert "\n" not in message
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, message


@pytest.mark.parametrize("case", list(BAD))
async def test_a_value_that_would_change_or_crash_is_refused(
    database: Database, schema: ModuleType, tmp_path: Path, case: str
) -> None:
    content, error, fragments = BAD[case]
    before = await _seeded(database, schema)
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(error) as info:
        await load(database, path, models=schema.MODELS)
    _check_message(str(info.value), path, fragments)
    assert info.value.path == str(path)
    assert info.value.record == 0
    assert await _snapshot(database, schema) == before


@pytest.mark.parametrize(
    "case",
    [
        "decimal sNaN",
        "401-digit float",
        "null pk",
        "5000-digit integer",
        "JSON nested 10,000 levels",
        "lone surrogate",
    ],
)
def test_the_command_line_says_it_in_one_line(
    backend: Backend, schema: ModuleType, tmp_path: Path, case: str
) -> None:
    content, _, fragments = BAD[case]
    database = Database(backend.url)
    before = asyncio.run(_seeded_then_dispose(database, schema))
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    result = runner.invoke(
        app, ["load", str(path), "--database-url", backend.url, "--models", "fixtures_schema"]
    )
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("Error: ")
    _check_message(result.stderr.strip(), path, fragments)
    assert asyncio.run(_snapshot_then_dispose(database, schema)) == before


async def _seeded_then_dispose(database: Database, schema: ModuleType) -> str:
    try:
        return await _seeded(database, schema)
    finally:
        await database.dispose()


async def _snapshot_then_dispose(database: Database, schema: ModuleType) -> str:
    try:
        return await _snapshot(database, schema)
    finally:
        await database.dispose()


@pytest.mark.parametrize("case", list(KEPT_ONLY_WHERE_STORABLE))
async def test_nan_and_negative_zero_are_stored_exactly_or_refused(
    database: Database, backend: Backend, schema: ModuleType, tmp_path: Path, case: str
) -> None:
    fields, field, expected = KEPT_ONLY_WHERE_STORABLE[case]
    before = await _seeded(database, schema)
    path = tmp_path / "special.json"
    path.write_bytes(_sample(fields))
    if not backend.stores_nan_and_negative_zero:
        with pytest.raises(FixtureValueError) as info:
            await load(database, path, models=schema.MODELS)
        _check_message(str(info.value), path, [f"field {field!r}", "SQLite"])
        assert await _snapshot(database, schema) == before
        return
    await load(database, path, models=schema.MODELS)
    buffer = io.StringIO()
    await dump(database, buffer, models=schema.MODELS, tables=["sample"])
    stored = {r["pk"]: r["fields"] for r in json.loads(buffer.getvalue())}[7][field]
    assert repr(stored) == repr(expected)  # repr tells -0.0 from 0.0


# Aware datetimes that leave years 1-9999 once in UTC: PostgreSQL holds them, Python does not.
BEYOND_PYTHON = {
    "after 9999 in UTC": ("9999-12-31T23:00:00-05:00", "10000-01-01 04:00:00+00"),
    "before year 1 in UTC": ("0001-01-01T00:00:00+01:00", "0001-12-31 23:00:00+00 BC"),
}


@pytest.mark.parametrize("case", list(BEYOND_PYTHON))
async def test_datetimes_beyond_python_are_stored_exactly_or_refused(
    database: Database, backend: Backend, schema: ModuleType, tmp_path: Path, case: str
) -> None:
    written, dumped = BEYOND_PYTHON[case]
    before = await _seeded(database, schema)
    path = tmp_path / "beyond.json"
    path.write_bytes(_sample(f'"aware": "{written}"'))
    if not backend.holds_datetimes_beyond_python:
        with pytest.raises(FixtureValueError) as info:
            await load(database, path, models=schema.MODELS)
        _check_message(str(info.value), path, ["field 'aware'", "out of range"])
        assert await _snapshot(database, schema) == before
        return
    await load(database, path, models=schema.MODELS)
    buffer = io.StringIO()
    await dump(database, buffer, models=schema.MODELS, tables=["sample"])
    stored = {r["pk"]: r["fields"] for r in json.loads(buffer.getvalue())}[7]["aware"]
    assert stored == dumped  # PostgreSQL's own text, in UTC


def test_a_closed_stdin_is_one_line(backend: Backend, schema: ModuleType) -> None:
    command = Path(sys.executable).parent / "batteries-fixtures"
    database = Database(backend.url)
    before = asyncio.run(_seeded_then_dispose(database, schema))
    env = {**os.environ, "PYTHONPATH": str(HERE)}
    for closed in (True, False):
        result = subprocess.run(
            [command, "load", "-", "--database-url", backend.url, "--models", "fixtures_schema"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=env,
            # Close fd 0 in the child: `batteries-fixtures load - <&-`.
            preexec_fn=(lambda: os.close(0)) if closed else None,
            check=False,
            timeout=60,
        )
        assert result.returncode == 1
        assert result.stderr.count("\n") == 1, result.stderr
        expected = "stdin is closed" if closed else "the file is empty"
        assert expected in result.stderr
    assert asyncio.run(_snapshot_then_dispose(database, schema)) == before


# ---------------------------------------------------------------- database errors


async def test_a_unique_violation_names_the_record(
    database: Database, schema: ModuleType, tmp_path: Path
) -> None:
    before = await _seeded(database, schema)
    path = tmp_path / "clash.json"
    records = [
        {"table": "org", "pk": 8, "fields": {"slug": "fresh", "name": "Fresh"}},
        {"table": "org", "pk": 9, "fields": {"slug": "acme", "name": "Copy"}},
    ]
    path.write_text(json.dumps(records), encoding="utf-8")
    with pytest.raises(FixtureIntegrityError) as info:
        await load(database, path, models=schema.MODELS)
    message = str(info.value)
    assert "\n" not in message
    assert f"{path} record 1: table 'org' slug='acme'" in message
    assert "'uq_org_slug'" in message
    assert (info.value.path, info.value.record, info.value.field) == (str(path), 1, "slug")
    assert await _snapshot(database, schema) == before


async def test_a_value_given_twice_names_both_records(
    database: Database, schema: ModuleType, tmp_path: Path
) -> None:
    before = await _seeded(database, schema)
    path = tmp_path / "twice.json"
    records = [
        {"table": "org", "pk": 8, "fields": {"slug": "same", "name": "A"}},
        {"table": "org", "pk": 9, "fields": {"slug": "same", "name": "B"}},
    ]
    path.write_text(json.dumps(records), encoding="utf-8")
    with pytest.raises(FixtureIntegrityError) as info:
        await load(database, path, models=schema.MODELS)
    assert f"{path} record 1: table 'org' slug='same'" in str(info.value)
    assert f"as {path} record 0 does" in str(info.value)
    assert await _snapshot(database, schema) == before


async def test_a_unique_violation_of_an_unnamed_constraint_names_the_record(
    database: Database, tmp_path: Path
) -> None:
    metadata = MetaData()  # no naming convention: the database names the constraint
    gadget = Table(
        "gadget",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("code", String(10), unique=True, nullable=False),
    )
    await database.create_all(metadata)
    async with database.connect() as connection:
        await connection.execute(gadget.insert().values(id=1, code="taken"))
    path = tmp_path / "gadgets.jsonl"
    path.write_text(
        '{"table": "gadget", "pk": 2, "fields": {"code": "free"}}\n'
        '{"table": "gadget", "pk": 3, "fields": {"code": "taken"}}\n',
        encoding="utf-8",
    )
    with pytest.raises(FixtureIntegrityError) as info:
        await load(database, path, models=metadata)
    assert f"{path} record 1: table 'gadget' code='taken' breaks unique constraint" in str(
        info.value
    )
    async with database.connect() as connection:
        count = await connection.execute(select(func.count()).select_from(gadget))
        assert count.scalar() == 1


def _terminate_idle_transactions(url: str) -> None:
    """From another connection (and thread): kill the loading connection, mid-transaction."""

    async def terminate() -> None:
        database = Database(url)
        try:
            async with database.connect() as connection:
                result = await connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                        "AND state = 'idle in transaction'"
                    )
                )
                assert result.scalars().all() == [True]
        finally:
            await database.dispose()

    thread = threading.Thread(target=lambda: asyncio.run(terminate()))
    thread.start()
    thread.join()


def _killer(url: str) -> Any:
    killed: list[str] = []

    def progress(table: str, done: int, total: int) -> None:
        if table == "project" and done == 0 and not killed:
            killed.append(table)
            _terminate_idle_transactions(url)

    return progress


async def test_a_connection_lost_mid_load_is_one_line(
    database: Database, backend: Backend, schema: ModuleType, tmp_path: Path
) -> None:
    if not backend.can_terminate_connections:
        pytest.skip("SQLite has no server connection to lose")
    await database.create_all(schema.Base.metadata)
    before = await _snapshot(database, schema)
    path = tmp_path / "orgs.json"
    records = [
        {"table": "org", "pk": 1, "fields": {"slug": "a", "name": "A"}},
        {"table": "project", "pk": 1, "fields": {"org_id": 1, "code": "x"}},
    ]
    path.write_text(json.dumps(records), encoding="utf-8")
    with pytest.raises(FixtureConnectionError) as info:
        await load(backend.url, path, models=schema.MODELS, progress=_killer(backend.url))
    message = str(info.value)
    assert "\n" not in message
    assert "lost while writing table 'project'; nothing was written" in message
    assert info.value.committed is False
    assert await _snapshot(database, schema) == before


def test_a_connection_lost_mid_load_is_one_line_on_the_command_line(
    backend: Backend, schema: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not backend.can_terminate_connections:
        pytest.skip("SQLite has no server connection to lose")
    import contextlib

    from batteries_fixtures import cli

    @contextlib.contextmanager
    def killer_progress(*, quiet: bool) -> Any:
        yield _killer(backend.url)

    monkeypatch.setattr(cli, "_progress", killer_progress)
    database = Database(backend.url)
    asyncio.run(_create_then_dispose(database, schema))
    path = tmp_path / "orgs.json"
    records = [
        {"table": "org", "pk": 1, "fields": {"slug": "a", "name": "A"}},
        {"table": "project", "pk": 1, "fields": {"org_id": 1, "code": "x"}},
    ]
    path.write_text(json.dumps(records), encoding="utf-8")
    result = runner.invoke(
        app, ["load", str(path), "--database-url", backend.url, "--models", "fixtures_schema"]
    )
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert "lost while writing table 'project'; nothing was written" in result.stderr
    assert "Traceback" not in result.stderr


async def _create_then_dispose(database: Database, schema: ModuleType) -> None:
    try:
        await database.create_all(schema.Base.metadata)
    finally:
        await database.dispose()


# ---------------------------------------------------------------- sequences


async def _sequences(database: Database, backend: Backend) -> list[tuple[Any, ...]]:
    if not backend.has_sequences:
        return []
    async with database.connect() as connection:
        states = []
        for table in ("egg", "hen"):
            name = (
                await connection.execute(
                    text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table}
                )
            ).scalar_one()
            query = text(f"SELECT last_value, is_called FROM {name}")
            states.append(tuple((await connection.execute(query)).one()))
        return states


async def test_a_dry_run_and_a_failed_load_leave_sequences_alone(
    database: Database, backend: Backend, tmp_path: Path
) -> None:
    metadata = egg_and_hen(deferrable=True)
    await database.create_all(metadata)
    before = await _sequences(database, backend)
    good = tmp_path / "good.json"
    good.write_text(
        json.dumps(
            [
                {"table": "egg", "pk": 50, "fields": {"hen_id": 60}},
                {"table": "hen", "pk": 60, "fields": {"egg_id": 50, "name": "h"}},
            ]
        ),
        encoding="utf-8",
    )
    report = await load(database, good, models=metadata, dry_run=True)
    assert report.inserted == 2
    assert await _sequences(database, backend) == before
    # The cycle is deferred, so the dangling hen_id is only found at the end of the load.
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            [
                {"table": "egg", "pk": 50, "fields": {"hen_id": 61}},
                {"table": "hen", "pk": 60, "fields": {"egg_id": 50, "name": "h"}},
            ]
        ),
        encoding="utf-8",
    )
    with pytest.raises(FixtureIntegrityError, match="nothing was written"):
        await load(database, bad, models=metadata)
    assert await _sequences(database, backend) == before
    async with database.connect() as connection:
        egg = metadata.tables["egg"]
        assert (await connection.execute(select(func.count()).select_from(egg))).scalar() == 0
    await load(database, good, models=metadata)
    after = await _sequences(database, backend)
    if backend.has_sequences:  # the committed load moved them past the loaded keys
        assert [state[0] for state in after] == [51, 61]


# ---------------------------------------------------------------- concurrent merges


def _overlapping_fixture(tmp_path: Path) -> Path:
    records: list[dict[str, Any]] = [
        {"table": "org", "pk": i, "fields": {"slug": f"org-{i}", "name": f"Org {i}"}}
        for i in range(1, 201)
    ]
    # Natural-key rows without a primary key and without a unique constraint behind them:
    # nothing but taking turns keeps two merges from inserting each of them twice.
    records += [{"table": "tag", "fields": {"name": f"tag-{i}"}} for i in range(50)]
    path = tmp_path / "overlap.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    return path


async def test_concurrent_merges_of_the_same_rows_both_succeed(
    backend: Backend, schema: ModuleType, tmp_path: Path
) -> None:
    # SQLite: the second load waits for the write lock (sqlite3's default 5 s busy timeout).
    path = _overlapping_fixture(tmp_path)
    first, second = Database(backend.url), Database(backend.url)
    org, tag = schema.Org.__table__, schema.tag
    try:
        await first.create_all(schema.Base.metadata)
        for _ in range(10):
            async with first.connect() as connection:
                await connection.execute(tag.delete())
                await connection.execute(org.delete())
            reports = await asyncio.gather(
                load(first, path, models=schema.MODELS),
                load(second, path, models=schema.MODELS),
            )
            assert sum(r.tables["org"].inserted for r in reports) == 200
            async with first.connect() as connection:
                slugs = (await connection.execute(select(org.c.slug).order_by(org.c.id))).scalars()
                assert list(slugs) == [f"org-{i}" for i in range(1, 201)]
                names = (await connection.execute(select(tag.c.name).order_by(tag.c.name))).all()
                assert [n for (n,) in names] == sorted(f"tag-{i}" for i in range(50))
    finally:
        await first.dispose()
        await second.dispose()
