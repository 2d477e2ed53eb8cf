"""Tests of the heroes: each runs in a transaction that is rolled back after it."""

import pytest
from httpx import AsyncClient
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from main import HeroCRUD
from models import Hero

# Loaded before each test of this module, inside the test's transaction.
pytestmark = pytest.mark.fixtures("heroes.json")


async def test_crud_reads_the_fixture(db_session: AsyncSession) -> None:
    hero = await HeroCRUD(db_session).get_or_raise(1)
    assert hero.secret_name == "Dive Wilson"


async def test_the_endpoint_commits_inside_the_test(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    created = await client.post("/heroes", json={"name": "Rusty-Man", "secret_name": "Tommy"})
    assert created.status_code == 201
    # The endpoint's session is on the test's connection: its commit is visible here...
    names = (await db_session.exec(select(Hero.name).order_by(Hero.name))).all()
    assert names == ["Deadpond", "Rusty-Man", "Spider-Boy"]


async def test_and_rolled_back_after_it(client: AsyncClient) -> None:
    # ...and gone in the next test, which starts from the fixture again.
    page = (await client.get("/heroes")).json()
    assert [hero["name"] for hero in page["items"]] == ["Deadpond", "Spider-Boy"]


async def test_a_duplicate_is_a_conflict(client: AsyncClient) -> None:
    duplicate = await client.post("/heroes", json={"name": "Deadpond", "secret_name": "X"})
    assert duplicate.status_code == 409
