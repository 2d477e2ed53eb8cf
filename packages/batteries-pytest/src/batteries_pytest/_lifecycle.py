"""The test database of one run: found or created at its start, dropped at its end.

Runs on a thread of its own, with event loops of its own: whatever loop pytest-asyncio keeps for
the tests is neither used nor replaced, and the migrations' ``env.py`` may call ``asyncio.run``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol, TypeVar

from sqlalchemy import MetaData
from sqlalchemy.engine import URL

from batteries_models import DEFAULT_DATABASE, BatteriesSettings, normalise_url
from batteries_pytest._database import DatabaseUnderTest
from batteries_pytest._naming import database_name, url_for_tests
from batteries_pytest._options import Options
from batteries_pytest._schema import fingerprint, model_metadatas, schema_source, upgrade_to_head
from batteries_pytest._servers import Server, server_for

__all__ = ["Cache", "TestRun", "environment_variable", "in_thread"]

T = TypeVar("T")


class Cache(Protocol):
    """The part of pytest's cache (``config.cache``) a kept database's fingerprint lives in."""

    def get(self, key: str, default: Any) -> Any:
        """The value stored under ``key``, else ``default``."""

    def set(self, key: str, value: Any) -> None:
        """Store ``value`` under ``key``."""


def in_thread(work: Callable[[], T]) -> T:
    """Run ``work`` on a new thread and return what it returns (or raise what it raised)."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="batteries-pytest") as pool:
        return pool.submit(work).result()


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def environment_variable(database: str, settings: BatteriesSettings) -> str:
    """The variable that points ``database`` of the settings elsewhere."""
    if database == DEFAULT_DATABASE and database not in settings.databases:
        return "BATTERIES_DATABASE_URL"
    return f"BATTERIES_DATABASES__{database.upper()}__URL"


class TestRun:
    """Find or create the test database for ``options``, and drop it when the run ends.

    Args:
        options: The run's options.
        folder: Where a SQLite test database file goes.
        cache: pytest's cache, which remembers a kept database's schema; ``None`` without the
            cache provider (then nothing is reused).
    """

    __test__ = False  # a helper, not a test class

    def __init__(self, options: Options, folder: Path, cache: Cache | None) -> None:
        self.options = options
        self.folder = folder
        self.cache = cache
        self.server: Server | None = None

    def start(self) -> DatabaseUnderTest:
        """Make the test database ready, on a thread of its own.

        Raises:
            BatteriesError: A configuration, connection or migration problem (one line).
        """
        return in_thread(self._start)

    def finish(self) -> None:
        """Drop the test database, unless it is kept (``--reuse-db``)."""
        if self.server is not None and not self.options.keep:
            server = self.server
            in_thread(lambda: _run(server.drop()))

    def _start(self) -> DatabaseUnderTest:
        name = self.options.database
        settings = BatteriesSettings()
        configured = normalise_url(settings.database(name).url)
        url = url_for_tests(configured, self.options, self.folder)
        pointed = _pointed(settings, name, url)
        source = schema_source(pointed, name)
        metadatas = model_metadatas(pointed, name) if source == "create_all" else []
        digest = f"{source}:{fingerprint(metadatas, _dialect(url)) if metadatas else ''}"
        key = f"batteries-pytest/schema/{url.get_backend_name()}/{database_name(url)}"
        server = self.server = server_for(url)
        under_test = DatabaseUnderTest(name, url, pointed, source, reused=False)
        if self.options.keep and self._reusable(server, key, digest, under_test):
            return DatabaseUnderTest(name, url, pointed, source, reused=True)
        _run(server.create())
        if self.cache is not None:
            self.cache.set(key, None)  # until the schema is complete
        if source == "migrations":
            upgrade_to_head(pointed, name)
        else:
            _run(_create_all(under_test, metadatas))
        if self.cache is not None:
            self.cache.set(key, digest)
        return under_test

    def _reusable(self, server: Server, key: str, digest: str, under: DatabaseUnderTest) -> bool:
        if self.cache is None or self.cache.get(key, None) != digest or not _run(server.exists()):
            return False
        if under.schema == "create_all":
            return True
        from batteries_migrate import MigrationError

        try:
            upgrade_to_head(under.settings, under.name)
        except MigrationError:  # at a revision the folder no longer has: start again
            return False
        return True


def _pointed(settings: BatteriesSettings, database: str, url: URL) -> BatteriesSettings:
    """``settings`` with ``database`` pointing at ``url``."""
    text = url.render_as_string(hide_password=False)
    if environment_variable(database, settings) == "BATTERIES_DATABASE_URL":
        return settings.model_copy(update={"database_url": text})
    entry = settings.database(database).model_copy(update={"url": text})
    return settings.model_copy(update={"databases": {**settings.databases, database: entry}})


def _dialect(url: URL) -> Any:
    return url.get_dialect()()


async def _create_all(under_test: DatabaseUnderTest, metadatas: list[MetaData]) -> None:
    database = under_test.open()
    try:
        for metadata in metadatas:
            await database.create_all(metadata)
    finally:
        await database.dispose()
