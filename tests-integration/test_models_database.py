"""batteries-models against real databases: sessions, mixins, SQLite pragmas, errors."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, select

from batteries_models import (
    BaseModel,
    BatteriesSettings,
    Database,
    DatabaseRegistry,
    DatabaseUnreachableError,
    IntIDMixin,
    SoftDeleteMixin,
    TimestampMixin,
    UUIDMixin,
)


class Hero(BaseModel, UUIDMixin, TimestampMixin, SoftDeleteMixin, table=True):
    __tablename__ = "it_hero"
    name: str = Field(unique=True)
    team_id: int | None = Field(default=None, foreign_key="it_team.id")


class Team(BaseModel, IntIDMixin, table=True):
    __tablename__ = "it_team"
    name: str


async def test_session_commits_on_success_and_rolls_back_on_error(database: Database) -> None:
    await database.create_all()
    async with database.session() as session:
        session.add(Hero(name="Deadpond"))

    async def add_then_fail() -> None:
        async with database.session() as session:
            session.add(Hero(name="Rusty-Man"))
            await session.flush()
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await add_then_fail()
    async with database.session() as session:
        names = (await session.exec(select(Hero.name))).all()
    assert names == ["Deadpond"]


async def test_timestamps_are_aware_and_refreshed_by_orm_and_bulk_updates(
    database: Database,
) -> None:
    await database.create_all()
    async with database.session() as session:
        hero = Hero(name="Deadpond")
        session.add(hero)
    created = hero.created_at
    async with database.session() as session:
        stored = await session.get_one(Hero, hero.id)
        assert stored.created_at.tzinfo is not None
        assert stored.created_at == created
        stored.name = "Deadpool"
    async with database.session() as session:
        after_orm = (await session.get_one(Hero, hero.id)).updated_at
        assert after_orm > created
        await session.exec(update(Hero).values(name="Dead"))  # type: ignore[call-overload]
    async with database.session() as session:
        after_bulk = (await session.exec(select(Hero.updated_at))).one()
    assert after_bulk > after_orm
    assert after_bulk <= datetime.now(UTC)


async def test_soft_delete_filter(database: Database) -> None:
    await database.create_all()
    async with database.session() as session:
        alive, gone = Hero(name="a"), Hero(name="b")
        gone.soft_delete()
        session.add_all([alive, gone])
    async with database.session() as session:
        names = (await session.exec(select(Hero.name).where(Hero.not_deleted()))).all()
    assert names == ["a"]


async def test_foreign_keys_are_enforced(database: Database) -> None:
    await database.create_all()
    with pytest.raises(IntegrityError):
        async with database.session() as session:
            session.add(Hero(name="orphan", team_id=999))


async def test_concurrent_sessions_do_not_share_state(database: Database) -> None:
    await database.create_all()

    async def add(i: int) -> None:
        async with database.session() as session:
            session.add(Team(name=f"t{i}"))

    await asyncio.gather(*(add(i) for i in range(5)))
    async with database.session() as session:
        assert (await session.exec(select(func.count()).select_from(Team))).one() == 5


async def test_drop_all_removes_the_tables(database: Database) -> None:
    await database.create_all()
    await database.drop_all()
    await database.create_all()  # would fail on leftovers if drop_all did nothing
    async with database.session() as session:
        assert (await session.exec(select(func.count()).select_from(Hero))).one() == 0


async def test_registry_serves_named_databases(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = database.url.render_as_string(hide_password=False)
    monkeypatch.setenv("BATTERIES_DATABASES__ANALYTICS__URL", url)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("BATTERIES_DATABASE_URL", raising=False)
    registry = DatabaseRegistry(BatteriesSettings())
    try:
        analytics = registry.get("analytics")
        assert registry["analytics"] is analytics
        await analytics.ping()
    finally:
        await registry.dispose_all()  # in this loop, even when an assertion fails


async def test_unreachable_postgres_is_one_line_with_the_password_masked() -> None:
    db = Database("postgresql://app:hunter2@127.0.0.1:1/app")
    with pytest.raises(DatabaseUnreachableError) as info:
        async with db.session():
            pass
    message = str(info.value)
    assert "hunter2" not in message
    assert "127.0.0.1:1" in message
    assert "app:***@" in message
    assert "\n" not in message
    await db.dispose()


async def test_unopenable_sqlite_file_says_what_to_check(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'missing-folder' / 'app.db'}")
    with pytest.raises(DatabaseUnreachableError, match="folder exists and is writable"):
        await db.ping()
    await db.dispose()


def _aiosqlite_workers() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.endswith("(_connection_worker_thread)")}


async def test_a_failed_sqlite_open_leaves_no_worker_thread_to_call_a_closed_loop(
    tmp_path: Path,
) -> None:
    # aiosqlite queues the stop of a failed open's worker thread without waiting for it; the
    # thread then hands its result to the loop, and raises "Event loop is closed" in whatever
    # test runs next when this loop has closed first (a busy machine). Database waits for it.
    before = _aiosqlite_workers()
    db = Database(f"sqlite:///{tmp_path / 'missing-folder' / 'app.db'}")
    for _ in range(3):
        with pytest.raises(DatabaseUnreachableError):
            async with db.session():
                pass
        assert _aiosqlite_workers() <= before
    await db.dispose()
