"""batteries-fixtures: load() on a connection the caller holds, inside the caller's transaction."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.exc import IntegrityError

from batteries_fixtures import DuplicateRecordError, load
from batteries_models import Database
from fixtures_schema import egg_and_hen

CYCLE_FIXTURE = [
    {"table": "egg", "pk": 1, "fields": {"hen_id": 1}},
    {"table": "hen", "pk": 1, "fields": {"egg_id": 1, "name": "Henny"}},
]


def _heroes() -> tuple[MetaData, Table]:
    metadata = MetaData()
    hero = Table(
        "hero",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("name", String(40), nullable=False, unique=True),
    )
    return metadata, hero


def _write(path: Path, records: list[dict[str, object]]) -> Path:
    path.write_text(json.dumps(records), encoding="utf-8")
    return path


async def _count(database: Database, table: Table) -> int:
    async with database.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(table))).scalar_one())


async def test_a_load_on_a_connection_commits_nothing_and_the_caller_goes_on(
    database: Database, tmp_path: Path
) -> None:
    metadata, hero = _heroes()
    await database.create_all(metadata)
    path = _write(
        tmp_path / "heroes.json",
        [{"table": "hero", "pk": n, "fields": {"name": f"hero {n}"}} for n in (1, 2, 3)],
    )
    async with database.engine.connect() as connection:
        outer = await connection.begin()
        report = await load(connection, path, models=metadata)
        assert report.inserted == 3
        # The caller's transaction goes on, and keys after the loaded ones are free.
        await connection.execute(insert(hero).values(name="new"))
        names = (await connection.execute(select(hero.c.name).order_by(hero.c.id))).scalars()
        assert list(names) == ["hero 1", "hero 2", "hero 3", "new"]
        assert connection.in_transaction()
        await outer.rollback()
    assert await _count(database, hero) == 0


async def test_a_failed_load_on_a_connection_leaves_the_callers_work_and_transaction(
    database: Database, tmp_path: Path
) -> None:
    metadata, hero = _heroes()
    await database.create_all(metadata)
    path = _write(tmp_path / "one.json", [{"table": "hero", "pk": 1, "fields": {"name": "B"}}])
    async with database.engine.connect() as connection:
        outer = await connection.begin()
        await connection.execute(insert(hero).values(id=1, name="A"))
        with pytest.raises(DuplicateRecordError, match="key 1 already exists"):
            await load(connection, path, models=metadata, mode="append")
        names = (await connection.execute(select(hero.c.name))).scalars()
        assert list(names) == ["A"]
        await outer.commit()
    assert await _count(database, hero) == 1


async def test_a_dry_run_on_a_connection_writes_nothing(database: Database, tmp_path: Path) -> None:
    metadata, hero = _heroes()
    await database.create_all(metadata)
    path = _write(tmp_path / "one.json", [{"table": "hero", "pk": 1, "fields": {"name": "B"}}])
    async with database.engine.connect() as connection:
        outer = await connection.begin()
        report = await load(connection, path, models=metadata, dry_run=True)
        assert report.inserted == 1
        assert (await connection.execute(select(func.count()).select_from(hero))).scalar() == 0
        await outer.commit()


async def test_keys_deferred_for_a_load_on_a_connection_are_checked_again_after_it(
    database: Database, tmp_path: Path
) -> None:
    # A cycle loaded with deferred keys: after the load, the caller's own writes must meet the
    # keys at once again, not at a COMMIT that a test rolling back never reaches.
    metadata = egg_and_hen(deferrable=True)
    await database.create_all(metadata)
    path = _write(tmp_path / "cycle.json", CYCLE_FIXTURE)
    async with database.engine.connect() as connection:
        outer = await connection.begin()
        assert (await load(connection, path, models=metadata)).inserted == 2
        with pytest.raises(IntegrityError):
            async with connection.begin_nested():
                await connection.execute(
                    insert(metadata.tables["hen"]).values(id=2, egg_id=999, name="stray")
                )
        await outer.rollback()
