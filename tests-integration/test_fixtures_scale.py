"""batteries-fixtures at scale: a load streams (memory does not grow with the fixture), and a
failure at the very last record of a large load leaves the database as it was."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

from batteries_fixtures import FixtureIntegrityError, dump, load
from batteries_models import Database

HERE = Path(__file__).parent
BUDGET_MB = 64  # what the load may add to the process's address space

# Run in a fresh process: load a small fixture first (imports, threads, connections), then cap
# the address space at what the process uses plus BUDGET_MB, and load the large fixture.
CHILD = textwrap.dedent(
    """
    import asyncio, resource, sys
    from sqlalchemy import Column, Integer, MetaData, Table, Text
    from batteries_fixtures import load
    from batteries_models import Database

    metadata = MetaData()
    Table("note", metadata, Column("id", Integer, primary_key=True), Column("body", Text))

    def address_space() -> int:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
        raise RuntimeError("no VmSize")

    async def main(url: str, small: str, large: str, budget: int) -> None:
        database = Database(url)
        await database.create_all(metadata)
        await load(database, small, models=metadata)
        limit = address_space() + budget
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        report = await load(database, large, models=metadata, mode="truncate")
        print(report.inserted)
        await database.dispose()

    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]) * 2**20))
    """
)


def _write_notes(path: Path, count: int, body: str) -> None:
    with path.open("w", encoding="utf-8") as out:
        for i in range(1, count + 1):
            record = {"table": "note", "pk": i, "fields": {"body": f"{i} {body}"}}
            out.write(json.dumps(record) + "\n")


@pytest.mark.parametrize(
    ("rows", "text"),
    [(60_000, 1_700), (250, 420_000)],  # many small records; a few large ones (about 105 MB)
    ids=["many-rows", "large-rows"],
)
def test_a_fixture_larger_than_the_memory_limit_loads(
    database: Database, tmp_path: Path, rows: int, text: int
) -> None:
    small, large = tmp_path / "small.jsonl", tmp_path / "large.jsonl"
    _write_notes(small, 100, "x")
    _write_notes(large, rows, "y" * text)
    assert large.stat().st_size > 1.4 * BUDGET_MB * 2**20
    # One malloc arena: per-thread arenas reserve 64 MB of address space each, used or not.
    env = {**os.environ, "MALLOC_ARENA_MAX": "1"}
    url = database.url.render_as_string(hide_password=False)
    result = subprocess.run(
        [sys.executable, "-c", CHILD, url, str(small), str(large), str(BUDGET_MB)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == [str(rows)]


async def _snapshot(database: Database, schema: ModuleType) -> str:
    buffer = io.StringIO()
    await dump(database, buffer, models=schema.MODELS)
    return buffer.getvalue()


async def test_a_failure_at_the_last_record_of_a_large_load_changes_nothing(
    database: Database, schema: ModuleType, tmp_path: Path
) -> None:
    await database.create_all(schema.Base.metadata)
    async with database.connect() as connection:
        await schema.seed(connection)
    before = await _snapshot(database, schema)
    path = tmp_path / "large.jsonl"
    with path.open("w", encoding="utf-8") as out:
        # Existing orgs renamed, thousands of new ones: all written before the last record fails.
        for i in range(1, 20_001):
            record = {"table": "org", "pk": i, "fields": {"slug": f"s{i}", "name": f"n{i}"}}
            out.write(json.dumps(record) + "\n")
        # The last record breaks a check constraint: only the database sees it, at the end.
        out.write(json.dumps({"table": "team", "pk": 9, "fields": {"name": ""}}) + "\n")
    with pytest.raises(FixtureIntegrityError, match="name_not_empty"):
        await load(database, path, models=schema.MODELS)
    assert await _snapshot(database, schema) == before
