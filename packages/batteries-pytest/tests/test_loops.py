"""pytest-asyncio's loop scopes: the plugin's fixtures run in the loop of the test using them."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import Project

SHARED_LOOP_TESTS = """
import asyncio

import pytest
import pytest_asyncio
from sqlmodel import select

from models import Hero

LOOPS = set()


@pytest_asyncio.fixture
async def hero(db_session):
    # The user's own async fixture, in the loop its ini default gives it.
    hero = Hero(name="From a fixture")
    db_session.add(hero)
    await db_session.commit()
    return hero


async def test_a_fixture_and_an_endpoint_share_the_transaction(hero, client):
    LOOPS.add(asyncio.get_running_loop())
    assert (await client.get("/heroes")).json() == ["From a fixture"]


async def test_rolled_back_in_the_shared_loop(db_session):
    LOOPS.add(asyncio.get_running_loop())
    assert (await db_session.exec(select(Hero))).all() == []
    assert len(LOOPS) == 1  # both tests ran in one loop, as configured
"""


def test_tests_and_fixtures_in_one_session_loop(project: Project) -> None:
    project.ini(
        'asyncio_default_test_loop_scope = "session"\n'
        'asyncio_default_fixture_loop_scope = "session"'
    )
    project.write(
        test_shared=SHARED_LOOP_TESTS,
        test_module_data="""
        import pytest

        pytestmark = pytest.mark.fixtures("heroes.json", scope="module")


        async def test_module_fixtures_in_the_session_loop(client):
            assert (await client.get("/heroes")).json() == ["Deadpond", "Spider-Boy"]
        """,
    )
    result = project.run()
    assert result.ret == 0, project.output(result)
    result.assert_outcomes(passed=3)


def test_a_loop_that_does_not_fit_is_named_in_one_line(project: Project) -> None:
    project.write(
        test_module_data_in_function_loops="""
        import pytest

        pytestmark = pytest.mark.fixtures("heroes.json", scope="module")


        async def test_refused(db_session):
            pass
        """,
        test_fixture_in_another_loop="""
        import pytest_asyncio
        from sqlmodel import select

        from models import Hero


        @pytest_asyncio.fixture(loop_scope="session")
        async def heroes(db_session):
            return (await db_session.exec(select(Hero))).all()


        async def test_uses_it(heroes):
            pass
        """,
    )
    result = project.run()
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines_random(
        [
            "*test_module_data_in_function_loops.py: fixtures(..., scope='module') stay loaded on"
            " one connection between tests, which needs one event loop for the module, but its"
            " tests run with loop_scope='function': add pytestmark = [pytest.mark.asyncio(*",
            "*test_uses_it: the test database connection was used from another event loop than"
            " its test's (loop_scope='function'): give the async fixtures that use db_session or"
            " db_connection loop_scope='function'*",
        ]
    )
