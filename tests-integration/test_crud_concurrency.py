"""get_or_create and update_or_create under real concurrent sessions on PostgreSQL.

SQLite serialises writers on one file lock, so a race there proves nothing: this module uses
the session's PostgreSQL database directly (``postgres_url``), never skipped under CI.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlmodel import Field

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
