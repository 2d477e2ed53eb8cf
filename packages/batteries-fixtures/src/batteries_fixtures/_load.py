"""Load fixtures in one transaction: stage every record, check with SQL, then write set-wise.

file -> format reader (records) -> converter per table (codecs per column) -> TEMP staging
tables (``_stage``) -> checks, one SQL statement each (``_checks``) -> ``INSERT ... SELECT`` in
foreign-key order (``_apply``) -> report. No stage holds a whole table in Python.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from functools import partial
from typing import IO, NamedTuple

from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.schema import DropTable

from batteries_fixtures._apply import Applier, Mode
from batteries_fixtures._convert import Converter
from batteries_fixtures._db_errors import connection_lost, first_line, integrity_error
from batteries_fixtures._formats import (
    add_natural_keys,
    context_for,
    formats_of_sources,
    resolve_format,
    suffixes_of,
)
from batteries_fixtures._graph import plan_load
from batteries_fixtures._pg_codecs import LOAD_SETTINGS
from batteries_fixtures._readers import RawRecord
from batteries_fixtures._reports import LoadReport, TableCounts
from batteries_fixtures._schema import Models, Schema, load_schema
from batteries_fixtures._sources import Source, expand_sources, open_source
from batteries_fixtures._stage import ReadFile, stage
from batteries_fixtures._target import Progress, open_database
from batteries_fixtures._transforms import Rule, plan_transforms
from batteries_fixtures.exceptions import FixtureError
from batteries_fixtures.formats import FixtureFormat
from batteries_models import BatteriesSettings, Database, mask_url

__all__ = ["Mode", "Source", "load"]


async def load(
    database: Database | str | URL | AsyncConnection,
    sources: Source | Sequence[Source],
    *,
    mode: Mode = "merge",
    format: str | FixtureFormat | None = None,
    dry_run: bool = False,
    ignore_unknown: bool = False,
    scrub: bool = False,
    transforms: Mapping[str, Rule] | None = None,
    models: Models = None,
    schemas: Sequence[str] = (),
    settings: BatteriesSettings | None = None,
    progress: Progress | None = None,
) -> LoadReport:
    """Load fixture files into ``database`` in one transaction.

    Records are streamed into TEMP staging tables (memory does not grow with the files), then
    checked with one SQL statement per question (duplicates, natural keys, dangling foreign
    keys, append conflicts), then each table is written parents first with one
    ``INSERT ... SELECT``; foreign-key cycles are broken at a nullable foreign key (insert NULL,
    then one ``UPDATE ... FROM``) or deferred where the database allows; on PostgreSQL,
    every sequence a loaded column's default draws from is moved past the loaded keys when the
    load commits. Any error rolls back everything.

    Given an ``AsyncConnection`` instead of a database, the load runs in a SAVEPOINT of that
    connection's transaction (begun if there is none) and commits nothing: the caller's
    transaction decides, as in a test that rolls back. A failed load rolls back to the savepoint
    and leaves the caller's transaction usable. On SQLite that transaction should hold the write
    lock already (``Database`` begins ``IMMEDIATE``), and on PostgreSQL sequences are still moved
    past the loaded keys, which a rollback does not undo.

    Args:
        database: A :class:`~batteries_models.Database`, a database URL, the name of a
            database of the settings (``"legacy"``: ``BATTERIES_DATABASES__LEGACY__URL`` or
            ``[tool.batteries.databases.legacy]``), whose models are then used when ``models``
            is not given, or an ``AsyncConnection`` to load on, inside its transaction.
        sources: A path, ``"-"`` for stdin, a binary stream, or a list of those. A path ending
            in ``.gz``, ``.bz2``, ``.xz`` or ``.zst`` is decompressed; a folder stands for
            its fixture files (those of ``format``, else of any format), sorted by name.
        mode: ``"merge"`` (default) upserts by primary or natural key, so loading twice changes
            nothing; ``"append"`` inserts only and fails on an existing key; ``"truncate"``
            first deletes every row of the fixture's tables (and no other table: rows of other
            tables pointing at them are refused up front). A table without a primary key is
            appended to; a merge refuses one that holds rows.
        format: The format of every source: a name (``"yaml"``, ``"django"``, a plugin's) or a
            :class:`~batteries_fixtures.formats.FixtureFormat`. By default each file's suffix
            chooses (``.yaml``, ``.csv``...), and JSON or JSONL is read otherwise.
        dry_run: Do everything, report, then roll back: nothing is written.
        ignore_unknown: Skip tables and fields the schema does not have (and generated
            columns) instead of failing.
        scrub: Run the project's transforms on every record as it is read (as ``dump``'s
            ``scrub``: scrub a production dump while it loads into staging), and refuse a
            table of the files with a personal-looking column that has no rule.
        transforms: Rules of this load (``{"customer.email": "email"}``), over the project's;
            they run even without ``scrub``.
        models: A models module path, a ``MetaData`` or model classes; reflect when ``None``
            (for a database given by name: its configured models, if any).
        schemas: Schemas to reflect besides those of the search path (their tables are named
            ``schema.table``).
        settings: The settings a database name is read from (``BatteriesSettings()``).
        progress: Called as rows are written, per table.

    Returns:
        Rows inserted, updated and skipped per table.

    Raises:
        FixtureError: A file or record is wrong, or the database refused a row; the message
            names the file, record, table, key and field. Nothing was written.
        DatabaseUnreachableError: The database cannot be reached (password masked).
    """
    started = time.perf_counter()
    items: list[Source]
    if isinstance(sources, str | os.PathLike) or hasattr(sources, "read"):
        items = [sources]  # type: ignore[list-item]
    else:
        items = list(sources)
    chosen = resolve_format(format)
    items = expand_sources(items, partial(suffixes_of, chosen))  # a folder: its files, by name
    formats = formats_of_sources(items, chosen)
    if mode not in ("merge", "append", "truncate"):
        msg = f"Unknown load mode {mode!r}: use 'merge', 'append' or 'truncate'"
        raise ValueError(msg)
    for item in items:  # a typo in a path should not wait for a database connection
        if isinstance(item, str | os.PathLike) and os.fspath(item) != "-":
            with open_source(item):
                pass
    report = LoadReport(dry_run=dry_run, mode=mode)
    rules = _Rules(scrub, transforms, settings)
    if isinstance(database, AsyncConnection):
        schema = await load_schema(database, models, schemas)
        read = _reader(schema, formats, rules)
        await _run(database, items, schema, read, report, mode, progress, dry_run, ignore_unknown)
    else:
        async with open_database(database, models, settings) as (db, models):
            async with db.connect() as probe:
                schema = await load_schema(probe, models, schemas)
            read = _reader(schema, formats, rules)
            await _run(db, items, schema, read, report, mode, progress, dry_run, ignore_unknown)
    report.duration = time.perf_counter() - started
    return report


class _Rules(NamedTuple):
    scrub: bool
    extra: Mapping[str, Rule] | None
    settings: BatteriesSettings | None


def _reader(schema: Schema, formats: list[FixtureFormat], rules: _Rules) -> ReadFile:
    """The records of each source, read by its format (which may add natural keys first).

    With transforms, each record goes through them as it is read, before any staging.
    """
    add_natural_keys(schema, formats)
    context = context_for(schema)
    transforms = plan_transforms(
        schema,
        schema.tables,
        settings=rules.settings,
        extra=rules.extra,
        scrub=rules.scrub,
        guard_now=False,
    )

    def read(index: int, stream: IO[bytes], path: str) -> Iterable[RawRecord]:
        records = formats[index].read(stream, path, context)
        return records if transforms is None else transforms.on_load(records)

    return read


async def _run(
    db: Database | AsyncConnection,
    items: list[Source],
    schema: Schema,
    read: ReadFile,
    report: LoadReport,
    mode: Mode,
    progress: Progress | None,
    dry_run: bool,
    ignore_unknown: bool,
) -> None:
    """Stage, check and write in one transaction; turn what the database says into one line."""
    applier: Applier | None = None
    committing = False
    try:
        async with _transaction(db) as connection:
            converters = await stage(
                connection, items, schema, read=read, ignore_unknown=ignore_unknown, report=report
            )
            names = list(converters)
            plan = plan_load(
                names, schema.edges(names), can_defer_all=schema.dialect.name == "sqlite"
            )
            for name in plan.order:
                report.tables[name] = TableCounts()
            applier = Applier(schema, converters, plan, mode=mode, report=report, progress=progress)
            sequences = await applier.save_sequences(connection) if dry_run else []
            await applier.run(connection)
            if (
                isinstance(db, AsyncConnection)
                and schema.dialect.name == "sqlite"
                and plan.deferred
            ):
                # The caller's transaction goes on: check deferred keys now, not at its COMMIT.
                await applier.check_deferred(connection)
                await connection.exec_driver_sql("PRAGMA defer_foreign_keys = OFF")
            if dry_run:
                await applier.check_deferred(connection)
                await applier.restore_sequences(connection, sequences)
                raise _DryRun
            await applier.finish(connection)
            await _drop(connection, converters.values())
            committing = True  # the block's exit commits
    except _DryRun:
        pass
    except FixtureError:  # already one line (a FixtureFileError is an OSError, too)
        raise
    except IntegrityError as exc:
        current = applier.current if applier is not None else None
        raise integrity_error(exc, current, schema) from exc
    except DBAPIError as exc:
        current = applier.current if applier is not None else None
        if exc.connection_invalidated or isinstance(exc.orig, OSError):
            raise connection_lost(db, current, committing=committing) from exc
        where = f" while writing table {current!r}" if current else ""
        msg = f"The database refused the fixture{where}: {first_line(exc)}; nothing was written"
        raise FixtureError(mask_url(msg), table=current) from exc
    except OSError as exc:  # a driver that lets the socket's error through unwrapped
        current = applier.current if applier is not None else None
        raise connection_lost(db, current, committing=committing) from exc


@asynccontextmanager
async def _transaction(db: Database | AsyncConnection) -> AsyncIterator[AsyncConnection]:
    """The load's transaction: a new one of ``db``, or a SAVEPOINT of the connection given."""
    if isinstance(db, AsyncConnection):
        async with db.begin_nested():
            # SET LOCAL outlives a released savepoint: the caller's transaction keeps it.
            await _settings(db)
            yield db
        return
    async with db.connect() as connection:
        if connection.dialect.name == "sqlite":
            await _lock_database(connection)
        await _settings(connection)
        yield connection


async def _settings(connection: AsyncConnection) -> None:
    if connection.dialect.name == "postgresql":
        for statement in LOAD_SETTINGS:
            await connection.exec_driver_sql(statement)


async def _lock_database(connection: AsyncConnection) -> None:
    """Take SQLite's write lock before the first read, waiting (busy timeout) for it.

    A deferred ``BEGIN`` reads, then upgrades to a write; when another connection wrote in
    between, SQLite refuses the upgrade at once ("database is locked"), since waiting could not
    help a snapshot that is already stale. ``BEGIN IMMEDIATE`` waits up to the busy timeout
    instead, so concurrent loads take turns. Nothing ran in the transaction that
    ``Database.connect`` began, so ending it loses nothing. Staging goes to TEMP tables, which
    need no lock of the database file, but the checks after it read the tables: the lock comes
    first.
    """
    await connection.exec_driver_sql("COMMIT")
    await connection.exec_driver_sql("BEGIN IMMEDIATE")


async def _drop(connection: AsyncConnection, converters: Iterable[Converter]) -> None:
    """Drop the staging tables: SQLite keeps TEMP tables for the life of the connection."""
    for converter in converters:
        await connection.execute(DropTable(converter.staging))


class _DryRun(Exception):
    """Raised inside the transaction to roll a dry run back."""
