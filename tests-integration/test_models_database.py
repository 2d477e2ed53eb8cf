"""batteries-models against real databases: sessions, mixins, SQLite pragmas, errors."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import event, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, select

from batteries_models import (
    BaseModel,
    BatteriesSettings,
    ConfigurationError,
    Database,
    DatabaseBusyError,
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


async def test_sqlite_waits_for_locks_and_begins_immediate_by_default(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'app.db'}", sqlite_busy_timeout=1.5)
    sent: list[str] = []
    event.listen(db.engine.sync_engine, "before_cursor_execute", lambda *a: sent.append(a[2]))
    async with db.session() as session:
        connection = await session.connection()
        timeout = (await connection.exec_driver_sql("PRAGMA busy_timeout")).scalar_one()
    assert timeout == 1500
    assert "BEGIN IMMEDIATE" in sent
    await db.dispose()


async def test_sqlite_transaction_mode_comes_from_the_settings(tmp_path: Path) -> None:
    settings = BatteriesSettings(
        database_url=f"sqlite:///{tmp_path / 'app.db'}", sqlite_transaction_mode="deferred"
    )
    db = Database.from_settings(settings.database())
    sent: list[str] = []
    event.listen(db.engine.sync_engine, "before_cursor_execute", lambda *a: sent.append(a[2]))
    async with db.session():
        pass
    assert "BEGIN" in sent
    assert "BEGIN IMMEDIATE" not in sent
    await db.dispose()


def test_an_unknown_sqlite_transaction_mode_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="sqlite_transaction_mode must be one of"):
        Database("sqlite://", sqlite_transaction_mode="later")  # type: ignore[arg-type]


async def test_a_sqlite_lock_held_past_the_busy_timeout_is_busy_not_unreachable(
    tmp_path: Path,
) -> None:
    holder = Database(f"sqlite:///{tmp_path / 'app.db'}")
    waiter = Database(f"sqlite:///{tmp_path / 'app.db'}", sqlite_busy_timeout=0.1)
    async with holder.session():  # BEGIN IMMEDIATE: holds the write lock until the block ends
        with pytest.raises(DatabaseBusyError, match=r"locked by another connection for 0\.1 s"):
            async with waiter.session():
                pass
    async with waiter.session():  # the lock is free again
        pass
    await holder.dispose()
    await waiter.dispose()


async def test_a_connection_can_begin_deferred_so_a_long_read_does_not_block_writers(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    reader = Database(url)
    writer = Database(url, sqlite_busy_timeout=0.1)
    async with writer.connect() as connection:
        await connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        await connection.exec_driver_sql("INSERT INTO t VALUES (1)")
    async with reader.engine.connect() as raw:
        deferred = await raw.execution_options(sqlite_transaction_mode="deferred")
        async with deferred.begin():
            first = (await deferred.exec_driver_sql("SELECT count(*) FROM t")).scalar_one()
            async with writer.connect() as connection:  # would wait 0.1 s and fail if IMMEDIATE
                await connection.exec_driver_sql("INSERT INTO t VALUES (2)")
            again = (await deferred.exec_driver_sql("SELECT count(*) FROM t")).scalar_one()
    assert (first, again) == (1, 1)  # one snapshot for the whole read transaction
    async with reader.engine.connect() as raw:
        wrong = await raw.execution_options(sqlite_transaction_mode="later")
        with pytest.raises(ConfigurationError, match="sqlite_transaction_mode must be one of"):
            await wrong.begin()
    await reader.dispose()
    await writer.dispose()


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
