"""Fixtures loaded once for the module, each test rolled back to them (Django's TestCase)."""

import pytest
from sqlmodel import delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Hero

pytestmark = [
    # One event loop for the module's tests: they share the connection holding the fixtures.
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.fixtures("heroes.json", scope="module"),
]


async def test_a_test_may_delete_everything(db_session: AsyncSession) -> None:
    await db_session.exec(delete(Hero))
    await db_session.commit()
    assert (await db_session.exec(select(Hero))).all() == []


async def test_the_next_test_has_the_fixture_back(db_session: AsyncSession) -> None:
    assert len((await db_session.exec(select(Hero))).all()) == 2


@pytest.mark.batteries_db(reset_sequences=True)
async def test_new_keys_follow_the_fixtures(db_session: AsyncSession) -> None:
    hero = Hero(name="Captain North", secret_name="Unknown")
    db_session.add(hero)
    await db_session.flush()
    assert hero.id == 3
