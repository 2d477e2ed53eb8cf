"""Shared fixtures of the integration suite: every test runs on SQLite and on PostgreSQL.

``database`` gives each test an empty database: a new SQLite file, or on PostgreSQL a database
created for this test session whose schemas are dropped (``public`` re-created) after each test.
With ``CI=true`` an unreachable PostgreSQL fails the run; elsewhere its half is skipped with a
reason, so a laptop without PostgreSQL can still run the SQLite half.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy.engine import make_url

from backends import Backend
from batteries_models import Database
from demo_project import DemoProject, copy_demo

POSTGRES_URL = os.environ.get(
    "BATTERIES_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = ("sqlite", "postgresql")


async def _admin(sql: str) -> None:
    import asyncpg

    url = make_url(POSTGRES_URL)
    conn = await asyncpg.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        database=url.database or "postgres",
        timeout=5,
    )
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of a PostgreSQL database created for this test session and dropped after it."""
    name = f"batteries_test_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, TimeoutError, Exception) as exc:
        reason = f"PostgreSQL at {make_url(POSTGRES_URL).render_as_string()} is unreachable: {exc}"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI=true: the PostgreSQL half must run)")
        pytest.skip(reason)
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    yield url
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _reset_postgres(url: str) -> None:
    db = Database(url)
    try:
        async with db.connect() as connection:
            found = await connection.exec_driver_sql(
                "SELECT quote_ident(nspname) FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' "
                "AND nspname <> 'information_schema'"
            )
            for (name,) in found.all():  # a test's other schemas go too
                await connection.exec_driver_sql(f"DROP SCHEMA {name} CASCADE")
            await connection.exec_driver_sql("CREATE SCHEMA public")
    finally:
        await db.dispose()


def _sqlite_workers() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.endswith("(_connection_worker_thread)")}


@pytest.fixture(autouse=True)
def _no_sqlite_connection_outlives_its_test() -> Iterator[None]:
    """Fail the test that leaves an aiosqlite connection open, not the one that runs next.

    A connection still open when its event loop closes (an engine never disposed, a session
    never closed) is stopped later, by the garbage collector or the pool, and its worker thread
    then raises "Event loop is closed" in whichever test happens to be running.
    """
    before = _sqlite_workers()
    yield
    left = _sqlite_workers() - before
    for worker in left:
        worker.join(timeout=2)  # a closed connection's thread is on its way out
    assert not [w for w in left if w.is_alive()], (
        "an aiosqlite connection outlived this test: dispose every Database/engine it creates"
    )


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """The backend of this test: a fresh SQLite file, or the session's PostgreSQL database."""
    if request.param == "sqlite":
        yield Backend("sqlite", f"sqlite+aiosqlite:///{tmp_path / 'test.sqlite3'}")
        return
    url = request.getfixturevalue("postgres_url")
    yield Backend("postgresql", url)
    asyncio.run(_reset_postgres(url))


@pytest.fixture
async def database(backend: Backend) -> AsyncIterator[Database]:
    """An empty ``Database`` on the test's backend, disposed after the test."""
    db = Database(backend.url)
    yield db
    await db.dispose()


@pytest.fixture
def schema(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The fixtures test schema (``fixtures_schema.py``), with no database URL from the shell.

    A test's own URL is the only one the code under test may see: ``DATABASE_URL`` in the
    environment would otherwise be picked up by commands run without ``--database-url``.
    """
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("BATTERIES_DATABASE_URL", raising=False)
    return importlib.import_module("fixtures_schema")


@pytest.fixture(scope="session")
def pycache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bytecode cache shared by the subprocesses: without one each recompiles every import."""
    return tmp_path_factory.mktemp("pycache")


@pytest.fixture
def demo(backend: Backend, tmp_path: Path, pycache: Path) -> DemoProject:
    """A copy of the demo project whose database is the test's, empty."""
    return DemoProject(copy_demo(tmp_path), backend.url, pycache)
