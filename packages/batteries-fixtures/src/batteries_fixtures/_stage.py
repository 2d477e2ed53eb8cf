"""Stream fixture records into TEMP staging tables, a few thousand rows at a time.

Parsing and conversion run in a worker thread, so the event loop stays free; on PostgreSQL one
flush ahead of the writes, so the two overlap. At most two flushes of converted rows
(``FLUSH`` each) are in memory at any time, whatever the size of the files.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import IO, Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.schema import CreateTable

from batteries_fixtures._convert import FILE, RECORD, Converter
from batteries_fixtures._db_errors import first_line
from batteries_fixtures._formats import RawRecord
from batteries_fixtures._raw import cast_mark, split_raw_rows
from batteries_fixtures._reflection import unknown_table_hint
from batteries_fixtures._reports import LoadReport, TableCounts
from batteries_fixtures._schema import Schema
from batteries_fixtures._sources import Source, open_source
from batteries_fixtures.exceptions import FixtureSchemaError, FixtureValueError
from batteries_models import mask_url

__all__ = ["FLUSH", "stage"]

FLUSH = 5000
"""Converted rows held in memory before they go to the staging tables."""

FLUSH_BYTES = 16 << 20
"""Bytes of fixture read before the rows go to the staging tables, whatever their number:
a few thousand records of large documents must not fill the memory either."""

_Batch = list[tuple[Converter, list[tuple[Any, ...]]]]

ReadFile = Callable[[int, IO[bytes], str], Iterable[RawRecord]]
"""The records of the ``n``-th source, given its stream and name (its format's reader)."""


async def stage(
    connection: AsyncConnection,
    sources: list[Source],
    schema: Schema,
    *,
    read: ReadFile,
    ignore_unknown: bool,
    report: LoadReport,
) -> dict[str, Converter]:
    """Read every record of ``sources`` into staging tables; return the converters by table.

    The files read go to ``report.files`` (their index is the staged file number); records of
    unknown tables skipped with ``ignore_unknown`` are counted in ``report.tables``.
    """
    converters: dict[str, Converter] = {}
    batches = _read(
        sources, schema, converters, read=read, ignore_unknown=ignore_unknown, report=report
    )
    created: set[str] = set()
    loop = asyncio.get_running_loop()
    # One reader thread of its own, not the loop's default executor: that one starts another
    # thread whenever none is idle at the instant of a submit, so how many threads (and how
    # much address space) a load takes would depend on the machine's load.
    reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="batteries-fixtures-reader")
    # PostgreSQL's COPY runs in the server while the next batch is read. SQLite's inserts run
    # in this process: a reader thread working alongside would fight aiosqlite's thread for
    # the GIL, which pysqlite drops and takes again for every row (the staging then took three
    # times as long), so on SQLite the next batch is read only after this one is written.
    ahead = schema.dialect.name == "postgresql"
    pending = asyncio.ensure_future(loop.run_in_executor(reader, next, batches, None))
    try:
        while True:
            batch = await pending
            if batch is None:
                break
            if ahead:
                pending = asyncio.ensure_future(loop.run_in_executor(reader, next, batches, None))
            for converter, rows in batch:
                if converter.info.name not in created:
                    await connection.execute(CreateTable(converter.staging))
                    created.add(converter.info.name)
                await _write_or_name(connection, converter, rows, report.files)
            if not ahead:
                pending = asyncio.ensure_future(loop.run_in_executor(reader, next, batches, None))
    finally:
        if not pending.done():  # an error while writing: let the reader finish its step
            await asyncio.wait([pending])
        if not pending.cancelled():
            pending.exception()  # the first error is the one raised; this one is only read
        batches.close()
        reader.shutdown()  # idle by now: its thread ends at once
    if schema.dialect.name == "postgresql":
        # Fresh tables have no statistics: without them the checks' joins are planned blind.
        for converter in converters.values():
            name = connection.dialect.identifier_preparer.format_table(converter.staging)
            await connection.exec_driver_sql(f"ANALYZE {name}")
    return converters


async def _write_or_name(
    connection: AsyncConnection,
    converter: Converter,
    rows: list[tuple[Any, ...]],
    files: list[str],
) -> None:
    """Stage ``rows``; when the database refuses one, name its file and record.

    Staging columns have the tables' types, so PostgreSQL checks values here (a numeric
    overflow, say). Each flush runs in a savepoint: on error, the rows are retried one by one
    to find the record. SQLite stores any value, so it needs no savepoint.
    """
    if connection.dialect.name != "postgresql":
        await _write(connection, converter, rows)
        return
    try:
        async with connection.begin_nested():
            await _write(connection, converter, rows)
    except Exception as exc:
        if not _refused(exc):
            raise
        file_at, record_at = converter.keys.index(FILE), converter.keys.index(RECORD)
        for row in rows:
            try:
                async with connection.begin_nested():
                    await _write(connection, converter, [row])
            except Exception as refused:
                if not _refused(refused):
                    raise
                where = f"{files[row[file_at]]} record {row[record_at]}"
                msg = (
                    f"{where}: table {converter.info.name!r}: the database refused a value: "
                    f"{first_line(refused)}; nothing was written"
                )
                raise FixtureValueError(
                    mask_url(msg),
                    path=files[row[file_at]],
                    record=row[record_at],
                    table=converter.info.name,
                ) from refused
        raise


def _refused(exc: BaseException) -> bool:
    """The server refused the data (not the connection failing).

    COPY goes through asyncpg itself, whose errors SQLAlchemy has not wrapped: the server's
    own errors carry a SQLSTATE.
    """
    if isinstance(exc, DBAPIError):
        return not exc.connection_invalidated and not isinstance(exc.orig, OSError)
    return isinstance(getattr(exc, "sqlstate", None), str) and not isinstance(exc, OSError)


async def _write(
    connection: AsyncConnection, converter: Converter, rows: list[tuple[Any, ...]]
) -> None:
    """Rows into a staging table the fastest way the driver has: COPY, else executemany."""
    if converter.raw_positions:
        # Values in PostgreSQL's own text are cast by the database: not by COPY's binary rows.
        rows, raw_groups = split_raw_rows(rows, converter.raw_positions)
        for positions, group in raw_groups.items():
            await _insert(connection, converter, group, positions)
        if not rows:
            return
    if connection.dialect.driver == "asyncpg" and converter.copyable:
        raw = await connection.get_raw_connection()
        await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
            converter.staging.name, records=rows, columns=converter.names
        )
        return
    await _insert(connection, converter, rows, ())


async def _insert(
    connection: AsyncConnection,
    converter: Converter,
    rows: list[tuple[Any, ...]],
    raw: tuple[int, ...],
) -> None:
    """``INSERT ... VALUES`` of ``rows``; the values at positions ``raw`` are cast from text."""
    dialect = connection.dialect
    preparer = dialect.identifier_preparer
    columns = ", ".join(preparer.quote(name) for name in converter.names)
    staged = list(converter.staging.columns)
    marks = ", ".join(
        cast_mark(_mark(dialect.paramstyle, i), staged[i], dialect)
        if i in raw
        else _mark(dialect.paramstyle, i)
        for i in range(len(rows[0]))
    )
    table = preparer.format_table(converter.staging)
    await connection.exec_driver_sql(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)


def _mark(paramstyle: str, position: int) -> str:
    """The driver's placeholder for the ``position``-th (0-based) positional parameter."""
    if paramstyle == "qmark":
        return "?"
    if paramstyle == "numeric":
        return f":{position + 1}"
    if paramstyle == "numeric_dollar":
        return f"${position + 1}"
    return "%s"  # format, pyformat: positional %s


def _position(stream: IO[bytes]) -> int | None:
    """Where ``stream`` stands, or ``None`` when it cannot say (a pipe, stdin)."""
    try:
        return stream.tell() if stream.seekable() else None
    except (OSError, ValueError, AttributeError):
        return None


def _read(
    sources: list[Source],
    schema: Schema,
    converters: dict[str, Converter],
    *,
    read: ReadFile,
    ignore_unknown: bool,
    report: LoadReport,
) -> Generator[_Batch]:
    """Converted rows of every record, by table, ``FLUSH`` at a time."""
    skipped: dict[str, int] = {}
    buffers: dict[str, tuple[Converter, list[tuple[Any, ...]]]] = {}
    held = 0
    for file_index, source in enumerate(sources):
        with open_source(source) as (stream, path):
            report.files.append(path)
            mark = _position(stream)
            for record in read(file_index, stream, path):
                converter = converters.get(record.table)
                if converter is None:
                    info = schema.tables.get(record.table)
                    if info is None:
                        if ignore_unknown:
                            skipped[record.table] = skipped.get(record.table, 0) + 1
                            continue
                        known = ", ".join(sorted(schema.tables)) or "none"
                        hint = unknown_table_hint(record.table, schema.partitions, schema.schemas)
                        msg = (
                            f"{path} record {record.index}: unknown table {record.table!r} "
                            f"(the database has {known}); use --ignore-unknown to skip it{hint}"
                        )
                        raise FixtureSchemaError(
                            msg, path=path, record=record.index, table=record.table
                        )
                    converter = Converter(
                        info, schema, len(converters), ignore_unknown=ignore_unknown
                    )
                    converters[info.name] = converter
                buffer = buffers.get(converter.info.name)
                if buffer is None:
                    buffer = buffers[converter.info.name] = (converter, [])
                buffer[1].append(converter.row(record, file_index))
                held += 1
                if held >= FLUSH or (
                    mark is not None and held % 64 == 0 and stream.tell() - mark >= FLUSH_BYTES
                ):
                    yield list(buffers.values())
                    buffers = {}
                    held = 0
                    mark = _position(stream)
    if buffers:
        yield list(buffers.values())
    for name, count in sorted(skipped.items()):
        report.tables.setdefault(name, TableCounts()).skipped = count
