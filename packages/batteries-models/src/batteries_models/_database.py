"""``Database``: one async engine, its session factory, and a transactional session scope."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import MetaData, event
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)
from sqlmodel.ext.asyncio.session import AsyncSession

from batteries_models._aiosqlite import wait_for_failed_opens
from batteries_models._base import BaseModel
from batteries_models._cycles import break_cycles
from batteries_models._sqlite_files import refuse_missing_file
from batteries_models._urls import mask_url, normalise_url
from batteries_models.exceptions import (
    BatteriesError,
    ConfigurationError,
    DatabaseBusyError,
    DatabaseUnreachableError,
)
from batteries_models.settings import DEFAULT_DATABASE, DatabaseSettings, SQLiteTransactionMode

__all__ = ["Database"]


class Database:
    """One database: an ``AsyncEngine`` and an ``async_sessionmaker`` bound to it.

    Example::

        db = Database("sqlite+aiosqlite:///app.db")
        async with db.session() as session:  # commits on success, rolls back on error
            session.add(Hero(name="Deadpond"))

    SQLite connections get ``PRAGMA foreign_keys=ON``, WAL for file databases, a busy timeout,
    and real ``BEGIN IMMEDIATE``/``SAVEPOINT`` transactions, so concurrent requests wait for the
    write lock instead of failing with "database is locked". PostgreSQL URLs without an async
    driver use asyncpg.

    Args:
        url: The database URL; its password never appears in messages or ``repr``.
        name: The name of the database in the settings (for messages).
        echo: Log every SQL statement.
        pool_size: Connections kept in the pool.
        max_overflow: Extra connections allowed beyond ``pool_size``.
        pool_timeout: Seconds to wait for a free connection.
        pool_recycle: Recycle connections older than this many seconds.
        pool_pre_ping: Test each connection before handing it out.
        sqlite_busy_timeout: SQLite only: seconds a statement waits for another connection's
            lock before failing with "database is locked".
        sqlite_transaction_mode: SQLite only: ``"immediate"`` (the default) takes the write
            lock when a transaction begins, so two transactions never deadlock upgrading a
            read lock; ``"deferred"`` lets read-only transactions run beside a writer but
            fails a transaction that reads, then writes while another one writes.
        sqlite_create_file: SQLite only: whether connecting creates the database file when it
            does not exist (SQLite's own behaviour). Callers that only read pass ``False``, so a
            wrong path raises :class:`~batteries_models.exceptions.DatabaseNotFoundError`
            instead of creating an empty database.
        engine_options: Any other keyword for ``create_async_engine``.

    Raises:
        ConfigurationError: The URL is malformed, unknown or names a sync driver.
        MissingDriverError: The URL's driver is not installed.
    """

    def __init__(
        self,
        url: str | URL,
        *,
        name: str = DEFAULT_DATABASE,
        echo: bool = False,
        pool_size: int | None = None,
        max_overflow: int | None = None,
        pool_timeout: float | None = None,
        pool_recycle: int | None = None,
        pool_pre_ping: bool = False,
        sqlite_busy_timeout: float = 5.0,
        sqlite_transaction_mode: SQLiteTransactionMode = "immediate",
        sqlite_create_file: bool = True,
        engine_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.url: URL = normalise_url(url)
        self.name = name
        options: dict[str, Any] = {"echo": echo, "pool_pre_ping": pool_pre_ping}
        pool = {
            "pool_size": pool_size,
            "max_overflow": max_overflow,
            "pool_timeout": pool_timeout,
            "pool_recycle": pool_recycle,
        }
        options.update({k: v for k, v in pool.items() if v is not None})
        options.update(engine_options or {})
        self.sqlite_busy_timeout = sqlite_busy_timeout
        self.engine: AsyncEngine = create_async_engine(self.url, **options)
        if self.dialect_name == "sqlite":
            if not sqlite_create_file:
                refuse_missing_file(self.engine, name=name)  # before the listener that connects
            _configure_sqlite(
                self.engine,
                file_database=_is_file_database(self.url),
                busy_timeout=sqlite_busy_timeout,
                transaction_mode=sqlite_transaction_mode,
            )
            wait_for_failed_opens(self.engine)
        self.sessionmaker: async_sessionmaker[AsyncSession] = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False
        )

    @classmethod
    def from_settings(
        cls,
        settings: DatabaseSettings,
        *,
        name: str = DEFAULT_DATABASE,
        sqlite_create_file: bool = True,
    ) -> Database:
        """Build a ``Database`` from one entry of :class:`~batteries_models.BatteriesSettings`.

        ``sqlite_create_file`` is as for the constructor: ``False`` for callers that only read.
        """
        return cls(
            settings.url,
            name=name,
            echo=settings.echo,
            pool_size=settings.pool_size,
            max_overflow=settings.max_overflow,
            pool_timeout=settings.pool_timeout,
            pool_recycle=settings.pool_recycle,
            pool_pre_ping=settings.pool_pre_ping,
            sqlite_busy_timeout=settings.sqlite_busy_timeout,
            sqlite_transaction_mode=settings.sqlite_transaction_mode,
            sqlite_create_file=sqlite_create_file,
        )

    @property
    def dialect_name(self) -> str:
        """The SQLAlchemy dialect name: ``postgresql``, ``sqlite``..."""
        return self.url.get_backend_name()

    @property
    def masked_url(self) -> str:
        """The URL as text with its password replaced by ``***``."""
        return mask_url(self.url)

    def __repr__(self) -> str:
        return f"Database({self.masked_url!r}, name={self.name!r})"

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        """Open a connection in a transaction that commits on success and rolls back on error.

        Raises:
            DatabaseUnreachableError: The server cannot be reached (URL masked in the message).
        """
        async with self._begin() as connection:
            yield connection

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session scope: commit when the block succeeds, roll back when it raises.

        The connection is checked out on entry, so an unreachable server fails here with
        :class:`~batteries_models.exceptions.DatabaseUnreachableError`, not in the middle of
        the caller's work.
        """
        async with self.sessionmaker() as session:
            try:
                await session.connection()
            except BatteriesError:
                raise  # already says what is wrong: a missing file
            except (OSError, DBAPIError) as exc:
                if _is_sqlite_busy(exc):  # BEGIN IMMEDIATE waited for the lock in vain
                    raise self._busy() from exc
                raise self._unreachable(exc) from exc
            try:
                yield session
            except BaseException:
                await session.rollback()
                raise
            await session.commit()

    async def create_all(self, metadata: MetaData | None = None) -> None:
        """Create every table of ``metadata`` (default: ``BaseModel.metadata``) that is missing.

        One foreign key of each cycle between tables is marked ``use_alter=True`` first, as
        SQLAlchemy recommends for cycles (see :func:`~batteries_models.discover_models`).
        """
        target = metadata if metadata is not None else BaseModel.metadata
        break_cycles(target)
        async with self._begin() as connection:
            await connection.run_sync(target.create_all)

    async def drop_all(self, metadata: MetaData | None = None) -> None:
        """Drop every table of ``metadata`` (default: ``BaseModel.metadata``) that exists."""
        target = metadata if metadata is not None else BaseModel.metadata
        break_cycles(target)  # else SQLite warns that it cannot sort the tables for DROP
        async with self._begin() as connection:
            await connection.run_sync(target.drop_all)

    async def ping(self) -> None:
        """Check that the database answers; raise ``DatabaseUnreachableError`` otherwise."""
        async with self._begin() as connection:
            await connection.exec_driver_sql("SELECT 1")

    async def dispose(self) -> None:
        """Close every pooled connection. The ``Database`` reconnects if used again."""
        await self.engine.dispose()

    @asynccontextmanager
    async def _begin(self) -> AsyncIterator[AsyncConnection]:
        connection = self.engine.connect()
        try:
            await connection.start()
        except BatteriesError:
            raise
        except (OSError, DBAPIError) as exc:
            raise self._unreachable(exc) from exc
        try:
            async with connection.begin():
                yield connection
        finally:
            await connection.close()

    def _busy(self) -> DatabaseBusyError:
        msg = (
            f"Database {self.name!r} ({self.masked_url}) stayed locked by another connection "
            f"for {self.sqlite_busy_timeout:g} s (sqlite_busy_timeout): shorten the "
            f"transactions that write, or raise the timeout"
        )
        return DatabaseBusyError(msg, url=self.masked_url, timeout=self.sqlite_busy_timeout)

    def _unreachable(self, exc: BaseException) -> DatabaseUnreachableError:
        host, port = self.url.host, self.url.port
        where = f"{host}:{port}" if host and port else host or self.url.database or "?"
        cause = getattr(exc, "orig", None) or exc
        lines = str(cause).strip().splitlines()
        reason = lines[0] if lines else type(cause).__name__
        hint = (
            "check that the file's folder exists and is writable"
            if self.dialect_name == "sqlite"
            else "check that the server is running and the URL is right"
        )
        msg = (
            f"Cannot connect to database {self.name!r} at {where} ({self.masked_url}): "
            f"{mask_url(reason, password=self.url.password)}; {hint}"
        )
        return DatabaseUnreachableError(msg, url=self.masked_url, host=host, port=port)


def _is_sqlite_busy(exc: BaseException) -> bool:
    """Whether ``exc`` is SQLite's SQLITE_BUSY or SQLITE_LOCKED ("database is locked")."""
    code = getattr(getattr(exc, "orig", None), "sqlite_errorcode", None)
    return isinstance(code, int) and code & 0xFF in (5, 6)  # extended codes keep the low byte


def _is_file_database(url: URL) -> bool:
    database = url.database or ""
    return database not in ("", ":memory:") and not database.startswith("file::memory:")


_BEGIN: dict[str, str] = {
    "deferred": "BEGIN",
    "immediate": "BEGIN IMMEDIATE",
    "exclusive": "BEGIN EXCLUSIVE",
}


def _configure_sqlite(
    engine: AsyncEngine,
    *,
    file_database: bool,
    busy_timeout: float,
    transaction_mode: SQLiteTransactionMode,
) -> None:
    """Turn on FK enforcement, wait for locks, and let SQLAlchemy, not the driver, emit BEGIN.

    The stdlib driver's own transaction handling breaks SAVEPOINT and ``PRAGMA defer_foreign_keys``;
    SQLAlchemy's documented recipe hands BEGIN to the ``begin`` event instead. That BEGIN takes
    the write lock up front by default: a deferred transaction that read and then writes while
    another connection holds the write lock gets SQLITE_BUSY at once (its snapshot is stale, so
    waiting cannot help), and the busy timeout only works for locks taken at BEGIN.
    """
    begin = _BEGIN.get(transaction_mode)
    if begin is None:
        msg = (
            f"sqlite_transaction_mode must be one of {', '.join(_BEGIN)}, got {transaction_mode!r}"
        )
        raise ConfigurationError(msg)
    if busy_timeout < 0:
        msg = f"sqlite_busy_timeout must be 0 or more seconds, got {busy_timeout!r}"
        raise ConfigurationError(msg)
    timeout_ms = int(busy_timeout * 1000)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={timeout_ms}")
        if file_database:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A connection may ask for another mode: a long read (a dump) begins DEFERRED, so under
        # WAL it holds a snapshot without taking the write lock that writers wait for.
        mode = connection.get_execution_options().get("sqlite_transaction_mode")
        if mode is None:
            connection.exec_driver_sql(begin)
        elif mode in _BEGIN:
            connection.exec_driver_sql(_BEGIN[mode])
        else:
            msg = f"sqlite_transaction_mode must be one of {', '.join(_BEGIN)}, got {mode!r}"
            raise ConfigurationError(msg)
