"""What keeps one test from seeing another's rows: a transaction rolled back after each test.

A test runs in an outer transaction of its own connection (or, after module fixtures, in a
SAVEPOINT of the module's connection), and its sessions join it with
``join_transaction_mode="create_savepoint"``: code under test that commits releases a savepoint,
never the outer transaction. ``transaction=True`` tests commit for real instead, and every table
is emptied after them.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncTransaction, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from batteries_models import Database
from batteries_pytest._database import DatabaseUnderTest

__all__ = ["ModuleData", "TestIsolation", "load_files", "open_connection"]


async def open_connection(
    database: Database, nodeid: str, loop_scope: str, *, rolled_back: bool
) -> AsyncConnection:
    """A connection that refuses, in one line, to be used from another event loop than this one.

    An async fixture with a loop scope other than the test's runs in a loop of its own: asyncpg
    would then fail with "attached to a different loop", or hang, and aiosqlite would seem to
    work on SQLite alone. A connection whose transaction is ``rolled_back`` after the test also
    refuses to commit it: the rows would outlive the test, unseen.
    """
    connection = await database.engine.connect()
    loop = asyncio.get_running_loop()

    def no_commit(*_: Any) -> None:
        msg = (
            f"{nodeid}: db_connection's transaction is the test's and is rolled back after it: "
            "commit through db_session (a SAVEPOINT), or mark the test "
            "@pytest.mark.batteries_db(transaction=True) for real commits"
        )
        raise RuntimeError(msg)

    if rolled_back:
        event.listen(connection.sync_connection, "commit", no_commit)

    def same_loop(*_: Any) -> None:
        if asyncio.get_running_loop() is not loop:
            msg = (
                f"{nodeid}: the test database connection was used from another event loop than "
                f"its test's (loop_scope={loop_scope!r}): give the async fixtures that use "
                f"db_session or db_connection loop_scope={loop_scope!r} (or set "
                f"asyncio_default_fixture_loop_scope = {loop_scope})"
            )
            raise RuntimeError(msg)

    event.listen(connection.sync_connection, "before_cursor_execute", same_loop)
    return connection


async def load_files(
    under_test: DatabaseUnderTest, target: AsyncConnection | Database, files: Sequence[Path]
) -> None:
    """Load fixture files with batteries-fixtures' ``load()``, on a connection or a database."""
    if not files:
        return
    from batteries_fixtures import load

    await load(target, list(files), models=under_test.settings.models_for(under_test.name))


class ModuleData:
    """A module's fixtures, loaded once in a transaction that stays open for its tests."""

    def __init__(self, connection: AsyncConnection, transaction: AsyncTransaction) -> None:
        self.connection = connection
        self.transaction = transaction

    async def close(self) -> None:
        """Roll the module's rows back and close its connection."""
        try:
            await self.transaction.rollback()
        finally:
            await self.connection.close()


class TestIsolation:
    """One test's connection, transaction and sessions.

    Args:
        under_test: The run's test database.
        database: The ``Database`` of the test's event loop.
        connection: The test's connection (the module's, when module fixtures were loaded).
        transaction: Rolled back after the test; ``None`` for ``transaction=True`` tests.
    """

    __test__ = False  # not a test class, whatever pytest makes of the name

    def __init__(
        self,
        under_test: DatabaseUnderTest,
        database: Database,
        connection: AsyncConnection,
        transaction: AsyncTransaction | None,
        *,
        owns_connection: bool,
    ) -> None:
        self.under_test = under_test
        self.database = database
        self.connection = connection
        self.transaction = transaction
        self.owns_connection = owns_connection
        self.sessions = database
        if transaction is not None:
            # The same Database, whose sessions join the test's transaction: what its session()
            # commits is a SAVEPOINT.
            self.sessions = copy.copy(database)
            self.sessions.sessionmaker = async_sessionmaker(
                bind=connection,
                class_=AsyncSession,
                expire_on_commit=False,
                join_transaction_mode="create_savepoint",
            )
        self._session: AsyncSession | None = None

    @property
    def session(self) -> AsyncSession:
        """The test's own session (``db_session``), made on first use."""
        if self._session is None:
            self._session = self.sessions.sessionmaker()
        return self._session

    async def load(self, files: Sequence[Path]) -> None:
        """Load fixture files: inside the test's transaction, or committed for real."""
        target = self.database if self.transaction is None else self.connection
        await load_files(self.under_test, target, files)

    async def reset_sequences(self) -> None:
        """Make every table's next generated key the one after its largest (1 when empty)."""
        if self.transaction is None:
            async with self.database.connect() as connection:
                await _reset_sequences(connection)
        else:
            await _reset_sequences(self.connection)

    async def close(self) -> None:
        """Close the sessions, roll the test back (or empty every table), release the rest."""
        try:
            if self._session is not None:
                await self._session.close()
            if self.transaction is not None:
                await self.transaction.rollback()
        finally:
            if self.owns_connection:
                await self.connection.close()
        if self.transaction is None:
            async with self.database.connect() as connection:
                await _empty_tables(connection)


def _table_names(sync: Connection) -> list[str]:
    # The migrations' version tables describe the schema, which a test does not change.
    return [n for n in inspect(sync).get_table_names() if not n.startswith("alembic_version")]


async def _empty_tables(connection: AsyncConnection) -> None:
    names = await connection.run_sync(_table_names)
    if not names:
        return
    quote = connection.dialect.identifier_preparer.quote
    if connection.dialect.name == "postgresql":
        await connection.exec_driver_sql(f"TRUNCATE {', '.join(map(quote, names))} CASCADE")
        return
    # Every table is emptied before the commit, so the keys are checked against empty tables.
    await connection.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
    for name in names:
        await connection.exec_driver_sql(f"DELETE FROM {quote(name)}")


async def _reset_sequences(connection: AsyncConnection) -> None:
    if connection.dialect.name != "postgresql":
        found = await connection.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'"
        )
        if found.first() is not None:  # AUTOINCREMENT tables remember their largest key
            await connection.exec_driver_sql("DELETE FROM sqlite_sequence")
        return
    sequences = await connection.execute(
        text(
            "SELECT format('%I.%I', c.table_schema, c.table_name) AS tbl, c.column_name AS col,"
            " pg_get_serial_sequence(format('%I.%I', c.table_schema, c.table_name),"
            " c.column_name) AS seq FROM information_schema.columns c"
            " WHERE c.table_schema = current_schema()"
        )
    )
    quote = connection.dialect.identifier_preparer.quote
    for table, column, sequence in sequences.all():
        if sequence is None:
            continue
        await connection.execute(
            text(
                f"SELECT setval(:sequence, COALESCE(MAX({quote(column)}), 0) + 1, false) "
                f"FROM {table}"
            ),
            {"sequence": sequence},
        )
