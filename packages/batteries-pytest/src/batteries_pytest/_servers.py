"""Create, find and drop the test database: on a PostgreSQL server, as a SQLite file, in memory."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

from batteries_models import BatteriesError, DatabaseUnreachableError, mask_url
from batteries_pytest._naming import MEMORY

__all__ = ["server_for"]


class Server(Protocol):
    """Where one test database lives."""

    async def exists(self) -> bool:
        """Whether the database is there already."""

    async def create(self) -> None:
        """Make it, empty: whatever an earlier run left there is dropped first."""

    async def drop(self) -> None:
        """Remove it, if it is there."""


def server_for(url: URL) -> Server:
    """The :class:`Server` of the test database at ``url``."""
    if url.get_backend_name() == "postgresql":
        return _PostgreSQL(url)
    if url.database == MEMORY:
        return _SQLiteMemory()
    return _SQLiteFile(Path(url.database or ""))


class _PostgreSQL:
    """A database of the server, created and dropped from a maintenance database."""

    def __init__(self, url: URL) -> None:
        self.url = url
        self.name = url.database or ""

    async def exists(self) -> bool:
        async with self._admin() as connection:
            found = await connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": self.name}
            )
            return found.first() is not None

    async def create(self) -> None:
        async with self._admin() as connection:
            quoted = connection.dialect.identifier_preparer.quote(self.name)
            try:
                # No FORCE: a database another run still uses is refused, never pulled away.
                await connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {quoted}")
            except DBAPIError as exc:
                if "being accessed by other users" not in str(exc):
                    raise
                msg = (
                    f"The test database {self.name!r} ({mask_url(self.url)}) is in use by "
                    "another connection (another test run?): let it finish, or drop it by hand"
                )
                raise BatteriesError(msg) from exc
            await connection.exec_driver_sql(f"CREATE DATABASE {quoted}")

    async def drop(self) -> None:
        async with self._admin() as connection:
            quoted = connection.dialect.identifier_preparer.quote(self.name)
            # This run's own database: connections the tests leaked must not keep it alive.
            await connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")

    def _admin(self) -> _AdminConnection:
        return _AdminConnection(self.url)


class _AdminConnection:
    """An AUTOCOMMIT connection to the server's ``postgres`` database (else ``template1``)."""

    def __init__(self, url: URL) -> None:
        self.url = url
        self.engines = [
            create_async_engine(
                url.set(database=name), isolation_level="AUTOCOMMIT", poolclass=NullPool
            )
            for name in ("postgres", "template1")
        ]
        self.connection: AsyncConnection | None = None

    async def __aenter__(self) -> AsyncConnection:
        failure: BaseException | None = None
        for engine in self.engines:
            try:
                self.connection = await engine.connect()
            except (OSError, DBAPIError) as exc:
                failure = failure or exc
                continue
            return self.connection
        await self._dispose()
        raise self._unreachable(failure)

    async def __aexit__(self, *_: object) -> None:
        if self.connection is not None:
            await self.connection.close()
        await self._dispose()

    async def _dispose(self) -> None:
        for engine in self.engines:
            await engine.dispose()

    def _unreachable(self, exc: BaseException | None) -> DatabaseUnreachableError:
        host, port = self.url.host or "localhost", self.url.port or 5432
        cause = getattr(exc, "orig", None) or exc
        lines = str(cause).strip().splitlines()
        reason = mask_url(lines[0], password=self.url.password) if lines else type(cause).__name__
        msg = (
            f"Cannot reach PostgreSQL at {host}:{port} ({mask_url(self.url)}) to create the test "
            f"database: {reason}; check that the server runs and the URL is right"
        )
        return DatabaseUnreachableError(msg, url=mask_url(self.url), host=host, port=port)


class _SQLiteFile:
    """A database file, with the ``-wal`` and ``-shm`` files SQLite keeps beside it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    async def exists(self) -> bool:
        return self.path.is_file()

    async def create(self) -> None:
        await self.drop()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        sqlite3.connect(self.path).close()

    async def drop(self) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)


class _SQLiteMemory:
    """A shared-cache memory database, alive while this process holds one connection to it."""

    def __init__(self) -> None:
        self.keeper: sqlite3.Connection | None = None

    async def exists(self) -> bool:
        return False  # nothing outlives the process that made it

    async def create(self) -> None:
        await self.drop()
        self.keeper = sqlite3.connect(f"{MEMORY}?cache=shared", uri=True, check_same_thread=False)

    async def drop(self) -> None:
        if self.keeper is not None:
            self.keeper.close()
            self.keeper = None
