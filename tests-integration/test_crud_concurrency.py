"""Concurrent sessions: get_or_create and update_or_create races, and SQLite's write lock.

The race tests use the session's PostgreSQL database directly (``postgres_url``, never skipped
under CI): SQLite serialises writers on one file lock, so a race there proves nothing. The
``backend`` tests check that concurrent writers wait for SQLite's lock instead of failing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import update
from sqlmodel import Field, col

from batteries_crud import BaseCRUD
from batteries_models import BaseModel, Database, IntIDMixin

CALLERS = 50


class RaceTag(BaseModel, IntIDMixin, table=True):
    __tablename__ = "crud_race_tag"
    slug: str = Field(unique=True)
    hits: int = 0


class RaceTagCRUD(BaseCRUD[RaceTag, RaceTag, RaceTag]):
    pass


@pytest.fixture
async def postgres(postgres_url: str) -> AsyncIterator[Database]:
    # Every caller holds its own connection while it waits on the unique index.
    db = Database(postgres_url, pool_size=CALLERS, max_overflow=0)
    await db.create_all(RaceTag.metadata)
    yield db
    async with db.connect() as connection:
        await connection.exec_driver_sql("DROP SCHEMA public CASCADE")
        await connection.exec_driver_sql("CREATE SCHEMA public")
    await db.dispose()


async def test_concurrent_get_or_create_makes_one_row_and_all_callers_get_it(
    postgres: Database,
) -> None:
    ready = asyncio.Barrier(CALLERS)

    async def caller() -> tuple[int | None, bool]:
        async with postgres.session() as session:
            await ready.wait()  # every transaction is open before anyone looks or inserts
            tag, created = await RaceTagCRUD(session).get_or_create(slug="python")
            return tag.id, created

    # An exception escaping any caller fails the test here.
    results = await asyncio.gather(*(caller() for _ in range(CALLERS)))

    ids = {tag_id for tag_id, _ in results}
    assert len(ids) == 1
    assert None not in ids
    assert sum(created for _, created in results) == 1
    async with postgres.session() as session:
        assert await RaceTagCRUD(session).count(slug="python") == 1


async def test_concurrent_update_or_create_applies_every_update_to_one_row(
    postgres: Database,
) -> None:
    ready = asyncio.Barrier(20)

    async def caller(n: int) -> int | None:
        async with postgres.session() as session:
            await ready.wait()
            tag, _ = await RaceTagCRUD(session).update_or_create(slug="rust", defaults={"hits": n})
            return tag.id

    ids = set(await asyncio.gather(*(caller(n) for n in range(1, 21))))
    assert len(ids) == 1
    async with postgres.session() as session:
        rows = await RaceTagCRUD(session).list(slug="rust")
        assert len(rows) == 1
        assert rows[0].hits in range(1, 21)


@pytest.fixture
async def many_connections(database: Database) -> Database:
    """The test's database with its default pool (15 connections), for 50 callers."""
    await database.create_all(RaceTag.metadata)
    return database


async def test_concurrent_sessions_get_or_create_one_row_on_every_backend(
    many_connections: Database,
) -> None:
    # The callers start together, each in its own session: on SQLite they contend for the one
    # write lock, and must wait for it (busy timeout, BEGIN IMMEDIATE) rather than fail with
    # "database is locked".
    ready = asyncio.Barrier(CALLERS)

    async def caller() -> tuple[int | None, bool]:
        await ready.wait()
        async with many_connections.session() as session:
            tag, created = await RaceTagCRUD(session).get_or_create(slug="python")
            return tag.id, created

    results = await asyncio.gather(*(caller() for _ in range(CALLERS)))

    assert len({tag_id for tag_id, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    async with many_connections.session() as session:
        assert await RaceTagCRUD(session).count(slug="python") == 1


async def test_concurrent_sessions_that_read_then_write_all_commit(
    many_connections: Database,
) -> None:
    # Read, then write, in one transaction: under SQLite's deferred BEGIN two such
    # transactions deadlock on the read-to-write upgrade, which no busy timeout resolves.
    async with many_connections.session() as session:
        session.add(RaceTag(slug="counter"))
    ready = asyncio.Barrier(CALLERS)

    async def caller() -> None:
        await ready.wait()
        async with many_connections.session() as session:
            assert await RaceTagCRUD(session).exists(slug="counter")
            statement = update(RaceTag).where(col(RaceTag.slug) == "counter")
            connection = await session.connection()
            await connection.execute(statement.values(hits=col(RaceTag.hits) + 1))

    await asyncio.gather(*(caller() for _ in range(CALLERS)))

    async with many_connections.session() as session:
        tag = await RaceTagCRUD(session).get_by(slug="counter")
        assert tag is not None
        assert tag.hits == CALLERS
