"""Load fixtures: read and validate everything, then write in batches in one transaction."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Sequence

from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, IntegrityError

from batteries_fixtures._db_errors import (
    connection_lost,
    first_line,
    integrity_error,
    locate_clash,
)
from batteries_fixtures._graph import plan_load
from batteries_fixtures._natural_keys import refuse_raw_references, refuse_rows_given_twice
from batteries_fixtures._records import read_all
from batteries_fixtures._reports import LoadReport, TableCounts
from batteries_fixtures._schema import Models, Schema, load_schema
from batteries_fixtures._sources import Source, expand_sources, open_source
from batteries_fixtures._target import Progress, open_database
from batteries_fixtures._writer import Mode, Writer
from batteries_fixtures.exceptions import FixtureError
from batteries_models import Database, mask_url

__all__ = ["Mode", "Source", "load"]


async def load(
    database: Database | str | URL,
    sources: Source | Sequence[Source],
    *,
    mode: Mode = "merge",
    dry_run: bool = False,
    ignore_unknown: bool = False,
    models: Models = None,
    progress: Progress | None = None,
) -> LoadReport:
    """Load fixture files into ``database`` in one transaction.

    Every record is read, converted and checked before the first write; tables are written
    parents first in batches (one statement per batch); foreign-key cycles are broken at a
    nullable foreign key (insert NULL, then one batched UPDATE) or deferred where the database
    allows; on PostgreSQL, sequences are moved past the loaded keys. Any error rolls back
    everything.

    Args:
        database: A :class:`~batteries_models.Database` or a database URL.
        sources: A path, ``"-"`` for stdin, a binary stream, or a list of those. A path ending
            in ``.gz``, ``.bz2``, ``.xz`` or ``.zst`` is decompressed; a folder stands for
            its ``.json``/``.jsonl`` files, sorted by name.
        mode: ``"merge"`` (default) upserts by primary or natural key, so loading twice changes
            nothing; ``"append"`` inserts only and fails on an existing key; ``"truncate"``
            first deletes every row of the fixture's tables (and no other table).
        dry_run: Do everything, report, then roll back: nothing is written.
        ignore_unknown: Skip tables and fields the schema does not have instead of failing.
        models: A models module path, a ``MetaData`` or model classes; reflect when ``None``.
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
    items = expand_sources(items)  # a folder (dump --split) loads all its files, by name
    if mode not in ("merge", "append", "truncate"):
        msg = f"Unknown load mode {mode!r}: use 'merge', 'append' or 'truncate'"
        raise ValueError(msg)
    for item in items:  # a typo in a path should not wait for a database connection
        if isinstance(item, str | os.PathLike) and os.fspath(item) != "-":
            with open_source(item):
                pass
    report = LoadReport(dry_run=dry_run, mode=mode)
    async with open_database(database) as db:
        async with db.connect() as probe:
            schema = await load_schema(probe, models)
        # Parsing is CPU and file work: a thread keeps the caller's event loop responsive.
        rows = await asyncio.to_thread(
            read_all, items, schema, ignore_unknown=ignore_unknown, report=report
        )
        refuse_raw_references(rows)
        refuse_rows_given_twice(rows)
        plan = plan_load(
            list(rows), schema.edges(list(rows)), can_defer_all=schema.dialect.name == "sqlite"
        )
        for name in plan.order:
            report.tables[name] = TableCounts()
        writer = Writer(schema, rows, plan, mode=mode, report=report, progress=progress)
        await _write(db, writer, schema, dry_run=dry_run)
    report.duration = time.perf_counter() - started
    return report


async def _write(db: Database, writer: Writer, schema: Schema, *, dry_run: bool) -> None:
    """Run ``writer`` in one transaction; turn what the database says into one-line errors."""
    committing = False
    try:
        async with db.connect() as connection:
            await writer.run(connection)
            if dry_run:
                await writer.check_deferred(connection)
                raise _DryRun
            await writer.finish(connection)
            committing = True  # the block's exit commits
    except _DryRun:
        pass
    except IntegrityError as exc:
        error = integrity_error(exc, writer.current, schema)
        rows = writer.rows.get(writer.current) if writer.current else None
        raise await locate_clash(db, error, rows, exc) from exc
    except DBAPIError as exc:
        if exc.connection_invalidated or isinstance(exc.orig, OSError):
            raise connection_lost(db, writer.current, committing=committing) from exc
        where = f" while writing table {writer.current!r}" if writer.current else ""
        msg = f"The database refused the fixture{where}: {first_line(exc)}; nothing was written"
        raise FixtureError(mask_url(msg), table=writer.current) from exc
    except OSError as exc:  # a driver that lets the socket's error through unwrapped
        raise connection_lost(db, writer.current, committing=committing) from exc


class _DryRun(Exception):
    """Raised inside the transaction to roll a dry run back."""
