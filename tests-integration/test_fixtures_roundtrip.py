"""batteries-fixtures: dump -> wipe -> load -> dump gives the same bytes, on the hard schema."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import event, func, insert, select, update

from batteries_fixtures import dump, load
from batteries_models import Database

HERE = Path(__file__).parent


async def _fresh(database: Database, schema: ModuleType) -> None:
    """Wipe every row (the FK cycle and self reference are cut first)."""
    async with database.connect() as connection:
        await connection.execute(update(schema.Team).values(captain_id=None))
        await connection.execute(update(schema.Category).values(parent_slug=None))
        for table in reversed(schema.Base.metadata.sorted_tables):
            await connection.execute(table.delete())


async def _seeded(database: Database, schema: ModuleType) -> None:
    await database.create_all(schema.Base.metadata)
    async with database.connect() as connection:
        await schema.seed(connection)


@pytest.mark.parametrize("suffix", ["json", "jsonl"])
async def test_dump_wipe_load_dump_is_byte_identical(
    database: Database, schema: ModuleType, tmp_path: Path, suffix: str
) -> None:
    await _seeded(database, schema)
    first, second = tmp_path / f"first.{suffix}", tmp_path / f"second.{suffix}"
    dumped = await dump(database, first, models=schema.MODELS)
    assert dumped.tables["sample"] == len(schema.SAMPLES)
    await _fresh(database, schema)
    report = await load(database, first, models=schema.MODELS)
    assert report.inserted == dumped.rows
    assert report.updated == 0
    await dump(database, second, models=schema.MODELS)
    assert second.read_bytes() == first.read_bytes()


async def test_dump_format_is_deterministic_and_django_shaped(
    database: Database, schema: ModuleType, tmp_path: Path
) -> None:
    await _seeded(database, schema)
    path = tmp_path / "dump.json"
    await dump(database, path, models=schema.MODELS)
    records = json.loads(path.read_text(encoding="utf-8"))
    tables = [r["table"] for r in records]
    # parents first, ties by name; the member/team cycle stays together, by name
    expected = ["category", "org", "org_setting", "project", "member", "team"]
    expected += ["member_category", "sample", "tag"]
    assert list(dict.fromkeys(tables)) == expected
    samples = {r["pk"]: r["fields"] for r in records if r["table"] == "sample"}
    full = samples[1]
    assert full["big"] == 2**63 - 1
    assert full["amount"] == "-12345678.1234"
    assert full["aware"] == "2024-02-29T21:30:00.654321+00:00"
    assert full["naive"] == "2024-02-29T23:30:00.000001"
    assert full["color"] == "GREEN"
    assert full["tags"] == ["a", "b c", "é"]
    assert samples[2]["data"] == {"$json": None}
    assert samples[3]["data"] == {"$json": {"$json": 1}}
    assert samples[2**40]["data"] is None
    composite = [r["pk"] for r in records if r["table"] == "org_setting"]
    assert composite == [
        {"org_id": 1, "key": "lang"},
        {"org_id": 1, "key": "theme"},
        {"org_id": 2, "key": "theme"},
    ]
    assert [r["pk"] for r in records if r["table"] == "category"] == ["a-leaf", "m-child", "z-root"]


async def test_loading_twice_changes_nothing(
    database: Database, schema: ModuleType, tmp_path: Path
) -> None:
    await _seeded(database, schema)
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    dumped = await dump(database, first, models=schema.MODELS)
    again = await load(database, first, models=schema.MODELS)
    # Rows are compared in SQL, so a stored JSON null document is seen as the fixture's too.
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, dumped.rows)
    await dump(database, second, models=schema.MODELS)
    assert second.read_bytes() == first.read_bytes()


async def test_natural_keys_round_trip_without_surrogate_keys(
    database: Database, schema: ModuleType, tmp_path: Path
) -> None:
    await _seeded(database, schema)
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    # tag's natural key is not unique, so it cannot stand in for tag's primary key
    await dump(database, first, models=schema.MODELS, natural_primary=True, exclude=["tag"])
    records = json.loads(first.read_text(encoding="utf-8"))
    org = next(r for r in records if r["table"] == "org")
    assert "pk" not in org
    assert "id" not in org["fields"]
    member = next(r for r in records if r["table"] == "member")
    assert member["pk"] == str(schema.ALICE)  # a UUID key with no default is kept
    assert member["fields"]["org_id"] == ["acme"]
    team = next(r for r in records if r["table"] == "team" and r["pk"] == 1)
    assert team["fields"]["captain_id"] == ["alice@example.com"]
    assert team["fields"]["project_id"] == [["acme"], "web"]  # a natural key made of one
    await _fresh(database, schema)
    await load(database, first, models=schema.MODELS)
    await dump(database, second, models=schema.MODELS, natural_primary=True, exclude=["tag"])
    assert second.read_bytes() == first.read_bytes()
    # merging the same natural-key fixture again finds every row by its natural key
    again = await load(database, first, models=schema.MODELS)
    assert again.inserted == 0


async def test_sequences_move_past_loaded_keys(
    database: Database, schema: ModuleType, tmp_path: Path
) -> None:
    await _seeded(database, schema)
    path = tmp_path / "dump.json"
    await dump(database, path, models=schema.MODELS)
    await _fresh(database, schema)
    await load(database, path, models=schema.MODELS)
    async with database.connect() as connection:
        await connection.execute(insert(schema.Org).values(slug="new", name="New"))
        new_id = (await connection.execute(select(func.max(schema.Org.id)))).scalar_one()
    assert new_id == 3


async def test_a_second_load_of_unchanged_rows_writes_nothing(
    database: Database, schema: ModuleType, tmp_path: Path
) -> None:
    await _seeded(database, schema)
    path = tmp_path / "fixture.json"
    tables = ["org", "project", "category", "org_setting"]
    await dump(database, path, tables=tables, models=schema.MODELS)
    writes: list[str] = []
    # The load's own TEMP staging tables are private to its connection: only writes to the
    # application's tables count.
    names = {table.name for table in schema.Base.metadata.tables.values()}

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        found = re.match(r"\s*(?:INSERT INTO|UPDATE|DELETE FROM)\s+\"?(\w+)", statement, re.I)
        if found and found.group(1) in names:
            writes.append(statement)

    event.listen(database.engine.sync_engine, "before_cursor_execute", record)
    try:
        report = await load(database, path, models=schema.MODELS)
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", record)
    assert writes == []
    assert report.unchanged == sum(report.tables[t].total for t in tables) > 0
    assert report.summary().startswith(f"Loaded {report.unchanged} rows into 4 tables (0 inserted")
