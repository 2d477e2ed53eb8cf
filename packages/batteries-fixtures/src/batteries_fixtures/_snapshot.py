"""One read-only snapshot for a whole dump, shared by every connection that reads it.

PostgreSQL: ``REPEATABLE READ READ ONLY`` on the first connection; with ``jobs > 1`` it exports
its snapshot (``pg_export_snapshot()``) and every other connection adopts it
(``SET TRANSACTION SNAPSHOT``), so tables read in parallel see the same instant.
SQLite: one deferred (read) transaction on one connection (``batteries_models`` hands ``BEGIN``
to SQLAlchemy; under WAL the snapshot is taken at the first read, and every table is read inside
it, while writers go on). SQLite
cannot share a snapshot between connections, so it dumps on one connection whatever ``jobs``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from batteries_fixtures._pg_codecs import DUMP_SETTINGS
from batteries_models import Database

__all__ = ["Snapshot", "open_snapshot"]

T = TypeVar("T")

_SNAPSHOT_ID = re.compile(r"^[0-9A-Fa-f-]+$")


@dataclass
class Snapshot:
    """The connections of a dump, all reading the same snapshot.

    Attributes:
        connection: The first connection: reads the schema and natural keys.
        workers: Every connection tables may be read on (the first one included).
    """

    connection: AsyncConnection
    workers: list[AsyncConnection] = field(default_factory=list)

    async def map(
        self, tables: Sequence[str], work: Callable[[AsyncConnection, str], Awaitable[T]]
    ) -> dict[str, T]:
        """``work(connection, table)`` for every table, spread over the workers, by table."""
        if len(self.workers) <= 1:
            return {table: await work(self.connection, table) for table in tables}
        pending = iter(tables)
        results: dict[str, T] = {}

        async def worker(connection: AsyncConnection) -> None:
            # Each connection takes the next table when it is free: big tables do not queue.
            for table in pending:
                results[table] = await work(connection, table)

        async with asyncio.TaskGroup() as group:
            for connection in self.workers:
                group.create_task(worker(connection))
        return {table: results[table] for table in tables}


@asynccontextmanager
async def open_snapshot(db: Database, jobs: int = 1) -> AsyncIterator[Snapshot]:
    """Open the dump's read-only snapshot transaction(s) on ``db``, ended on exit."""
    if jobs < 1:
        msg = f"jobs must be at least 1, not {jobs}"
        raise ValueError(msg)
    postgres = db.dialect_name == "postgresql"
    async with AsyncExitStack() as stack:
        first = await _begin(stack, db, postgres=postgres)
        if postgres:
            await _settle(first)
        snapshot = Snapshot(first, [first])
        if postgres and jobs > 1:
            exported = (await first.exec_driver_sql("SELECT pg_export_snapshot()")).scalar_one()
            if not _SNAPSHOT_ID.match(str(exported)):  # never expected; keeps the SQL below safe
                msg = f"Unexpected snapshot id {exported!r} from pg_export_snapshot()"
                raise RuntimeError(msg)
            for _ in range(jobs - 1):
                other = await _begin(stack, db, postgres=postgres)
                # Must be the transaction's first statement: before it, nothing is read.
                await other.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{exported}'")
                await _settle(other)
                snapshot.workers.append(other)
        yield snapshot


async def _settle(connection: AsyncConnection) -> None:
    """Fix, for this transaction only, the settings PostgreSQL's output text depends on."""
    for statement in DUMP_SETTINGS:
        await connection.exec_driver_sql(statement)


async def _begin(stack: AsyncExitStack, db: Database, *, postgres: bool) -> AsyncConnection:
    raw = await stack.enter_async_context(db.engine.connect())
    connection = raw
    if postgres:
        connection = await raw.execution_options(
            isolation_level="REPEATABLE READ", postgresql_readonly=True
        )
    else:  # a read transaction: writers go on while the dump holds its snapshot
        connection = await raw.execution_options(sqlite_transaction_mode="deferred")
    await stack.enter_async_context(connection.begin())
    return connection
