"""Dump tables to a fixture, in one snapshot transaction, streaming row by row."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy import types as sqltypes
from sqlalchemy.engine import URL, Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from batteries_fixtures._boundary import refuse_dangling
from batteries_fixtures._codecs import resolve_type
from batteries_fixtures._formats import (
    JsonFormat,
    add_natural_keys,
    context_for,
    format_for_file,
    resolve_format,
)
from batteries_fixtures._formats.json import RecordWriter as JsonRecordWriter
from batteries_fixtures._graph import sort_tables
from batteries_fixtures._keyless import order_by as keyless_order_by
from batteries_fixtures._natural_keys import NaturalKeys
from batteries_fixtures._outputs import Output, Parts, SplitOutput, open_output, output_name
from batteries_fixtures._reflection import unknown_table_hint
from batteries_fixtures._reports import DumpReport
from batteries_fixtures._schema import Models, Schema, TableInfo, load_schema
from batteries_fixtures._server_json import copy_records
from batteries_fixtures._snapshot import open_snapshot
from batteries_fixtures._subset import check_where, plan_subset, refused
from batteries_fixtures._target import Progress, open_database
from batteries_fixtures._transforms import Rule, TablePlan, plan_transforms
from batteries_fixtures.exceptions import FixtureFileError, FixtureSchemaError
from batteries_fixtures.formats import FixtureFormat, RecordWriter
from batteries_models import BatteriesSettings, Database

__all__ = ["dump"]


async def dump(
    database: Database | str | URL,
    output: Output = None,
    *,
    tables: Sequence[str] = (),
    exclude: Sequence[str] = (),
    format: str | FixtureFormat | None = None,
    indent: int | None = None,
    natural_foreign: bool = False,
    natural_primary: bool = False,
    split: bool = False,
    jobs: int = 1,
    allow_dangling: bool = False,
    where: Mapping[str, str] | None = None,
    with_related: bool = False,
    scrub: bool = False,
    transforms: Mapping[str, Rule] | None = None,
    models: Models = None,
    schemas: Sequence[str] = (),
    settings: BatteriesSettings | None = None,
    progress: Progress | None = None,
) -> DumpReport:
    """Dump tables of ``database`` to a fixture: JSON, JSONL, YAML, CSV, Django's, a plugin's.

    Rows are read in one read-only snapshot transaction (REPEATABLE READ READ ONLY on
    PostgreSQL), tables in foreign-key order (ties by name), rows by primary key (by every
    column for a table without one), so the same data always gives the same bytes. A
    partitioned table is one table; generated columns are left out.

    Args:
        database: A :class:`~batteries_models.Database`, a database URL, or the name of a
            database of the settings (``"legacy"``: ``BATTERIES_DATABASES__LEGACY__URL`` or
            ``[tool.batteries.databases.legacy]``), whose models are then used when ``models``
            is not given.
        output: A path, ``"-"`` or ``None`` for stdout, or a text stream. A path is written
            to a temporary file first and renamed, so a failed dump leaves no partial file; a
            path ending in ``.gz``, ``.bz2``, ``.xz`` or ``.zst`` is compressed. With ``split``,
            a folder.
        tables: Tables to dump (default: every table).
        exclude: Tables to leave out. A dump that would leave rows pointing at a table it
            does not include is refused, naming the foreign keys.
        format: A format's name (``"json"``, ``"jsonl"``, ``"yaml"``, ``"csv"``, ``"django"``,
            a plugin's) or a :class:`~batteries_fixtures.formats.FixtureFormat`; from the
            output's extension when not given (the one before a compression suffix:
            ``rows.jsonl.gz`` is JSONL), else JSON. CSV needs ``split``; Django's format
            refuses it.
        indent: Indent JSON records by this many spaces (one record per line otherwise).
        natural_foreign: Write foreign keys to tables with a natural key as that natural key.
        natural_primary: Omit surrogate primary keys of tables with a natural key (implies
            ``natural_foreign``, or the rows pointing at them could not be loaded).
        split: Write one file per table into the folder ``output`` (``<table>.json``, or the
            format's suffix), all put in place when the dump succeeded.
        jobs: Read this many tables at once on PostgreSQL, on connections sharing one
            exported snapshot; the output is byte for byte that of ``jobs=1``. SQLite reads
            on one connection, and so does one file of a format other than JSON or JSONL.
        allow_dangling: Dump even when rows point at tables or rows left out (the database
            the dump is loaded into must hold those rows).
        where: Limit tables to some rows: ``{"book": "published >= '2024-01-01'"}``. The SQL
            is yours, run as written on the table's rows (unaliased: name columns bare or as
            ``book.column``) inside the read-only snapshot. Rows that point at rows left out are
            refused as with ``exclude``, unless ``with_related`` or ``allow_dangling``.
        with_related: Add every row the dumped rows point at, transitively (self-references
            and cycles included), and the tables they live in, so the dump loads into an empty
            database; never the rows that point at them (as Django's ``dumpdata``). A table
            without a ``where`` that the dump names, or all tables by default, stays whole.
        scrub: Run the project's transforms (``[tool.batteries.fixtures.transforms]``, rules
            registered in :mod:`batteries_fixtures.transforms`, models'
            ``__fixture_transforms__``) on every record, and refuse, before writing anything,
            columns that look personal and have no rule. The scrubbers' key is
            ``BATTERIES_SCRUB_KEY``.
        transforms: Rules of this dump (``{"customer.email": "email"}``), over the project's;
            they run even without ``scrub``.
        models: A models module path, a ``MetaData`` or model classes; reflect when ``None``
            (for a database given by name: its configured models, if any).
        schemas: Schemas to reflect besides those of the search path (their tables are named
            ``schema.table``).
        settings: The settings a database name is read from (``BatteriesSettings()``).
        progress: Called as rows are written, per table.

    Returns:
        The rows written per table.

    Raises:
        FixtureSchemaError: An unknown table or schema was named, a model's table is
            missing, columns have no codec (all named at once), rows would point at a
            table or rows left out, or the database refused a ``where``.
        FixtureFileError: The output cannot be written.
        DatabaseUnreachableError: The database cannot be reached (password masked).
    """
    started = time.perf_counter()
    natural_foreign = natural_foreign or natural_primary
    name = output_name(output)
    if split and (name == "-" or not isinstance(output, str | os.PathLike)):
        msg = "split writes one file per table: give a folder as the output, not a stream"
        raise FixtureFileError(msg, path=name)
    fmt = _dump_format(format, name, split=split)
    report = DumpReport(output=name, format=fmt.name)
    async with open_database(database, models, settings) as (db, models):
        await db.ping()
        async with open_snapshot(db, jobs) as snapshot:
            connection = snapshot.connection
            schema = await load_schema(connection, models, schemas)
            add_natural_keys(schema, [fmt])
            chosen = _select(schema, tables, exclude, where or {})
            subset = plan_subset(
                schema, chosen, where or {}, related=with_related, excluded=exclude
            )
            chosen = subset.tables
            _refuse_unsupported(schema, chosen)
            await check_where(connection, schema, subset)
            if not allow_dangling:
                async with refused(subset):
                    await refuse_dangling(connection, schema, chosen, subset)
            plan = plan_transforms(schema, chosen, settings=settings, extra=transforms, scrub=scrub)
            order = sort_tables(chosen, schema.edges(chosen))
            context = context_for(schema, order=order, indent=indent)
            keys = None
            if natural_foreign:
                keys = NaturalKeys(schema, order, natural_primary=natural_primary)
                await keys.prepare(connection)

            async def write_table(
                connection: AsyncConnection, table: str, writer: RecordWriter
            ) -> int:
                async with refused(subset):
                    return await _dump_table(
                        connection,
                        schema,
                        schema.tables[table],
                        writer,
                        keys=keys,
                        natural_primary=natural_primary,
                        progress=progress,
                        rows=subset.rows(table),
                        transforms=plan.table(table) if plan is not None else None,
                    )

            if split:
                assert isinstance(output, str | os.PathLike)
                with SplitOutput(Path(output), fmt.suffixes[0]) as files:

                    async def one_file(connection: AsyncConnection, table: str) -> int:
                        own = dataclasses.replace(context, table=table)
                        writer = fmt.writer(files.open(table), own)
                        count = await write_table(connection, table, writer)
                        writer.close()
                        return count

                    report.tables = await snapshot.map(order, one_file)
            elif len(snapshot.workers) > 1 and isinstance(fmt, JsonFormat):
                # Tables read in parallel go to temporary files (flat memory), joined in order:
                # the same bytes as one connection writing them in turn.
                parts = Parts()
                try:

                    async def one_part(connection: AsyncConnection, table: str) -> int:
                        with parts.open(table) as stream:
                            writer = fmt.fragment_writer(stream, context)
                            count = await write_table(connection, table, writer)
                            writer.close()
                            return count

                    report.tables = await snapshot.map(order, one_part)
                    with open_output(output) as stream:
                        whole = fmt.writer(stream, context)
                        for table in order:
                            whole.append(partial(parts.copy, table), report.tables[table])
                        whole.close()
                finally:
                    parts.close()
            else:
                with open_output(output) as stream:
                    writer = fmt.writer(stream, context)
                    for table in order:
                        report.tables[table] = await write_table(connection, table, writer)
                    writer.close()
    report.duration = time.perf_counter() - started
    return report


def _dump_format(chosen: str | FixtureFormat | None, name: str, *, split: bool) -> FixtureFormat:
    """The format to write: ``chosen``, else the output's suffix's, else JSON."""
    fmt = resolve_format(chosen)
    if fmt is None:
        fmt = (format_for_file(name) if name != "-" and not split else None) or JsonFormat()
    if split and fmt.single_file:
        msg = (
            f"The {fmt.name} format writes every table into one file: leave out --split "
            "and give a file as the output"
        )
        raise FixtureFileError(msg, path=name)
    if not split and fmt.one_table_per_file:
        msg = (
            f"{fmt.name.upper()} holds one table per file: dump with --split -o FOLDER "
            f"--format {fmt.name}"
        )
        raise FixtureFileError(msg, path=name)
    return fmt


def _select(
    schema: Schema, tables: Sequence[str], exclude: Sequence[str], where: Mapping[str, str]
) -> list[str]:
    for name in (*tables, *exclude, *where):
        if name not in schema.tables:
            known = ", ".join(sorted(schema.tables)) or "none"
            hint = unknown_table_hint(name, schema.partitions, schema.schemas)
            msg = f"Unknown table {name!r}: the database has {known}{hint}"
            raise FixtureSchemaError(msg, table=name)
    chosen = list(tables) if tables else list(schema.tables)
    return [t for t in chosen if t not in set(exclude)]


def _refuse_unsupported(schema: Schema, chosen: list[str]) -> None:
    """Name every column of ``chosen`` that has no codec, in one error, with the flags to pass."""
    found = [
        (name, key, reason)
        for name in sorted(chosen)
        for key, reason in schema.tables[name].unsupported.items()
    ]
    if not found:
        return
    blocked = list(dict.fromkeys(name for name, _, _ in found))
    flags = " ".join(f"--exclude {name}" for name in blocked)
    pointing = sorted(
        {
            name
            for name in chosen
            if name not in blocked
            for fk in schema.tables[name].table.foreign_key_constraints
            if fk.referred_table.fullname in blocked
        }
    )
    then = ""
    if pointing:
        then = (
            f" (foreign keys of {', '.join(pointing)} point at them: where rows use them, "
            "exclude those tables too or add --allow-dangling)"
        )
    if len(found) == 1:
        name, key, reason = found[0]
        msg = (
            f"Column {name}.{key} cannot be written to or read from a fixture: {reason}; "
            f"leave its table out with {flags}{then}"
        )
    else:
        columns = "; ".join(f"{name}.{key} ({reason})" for name, key, reason in found)
        msg = (
            f"{len(found)} columns cannot be written to or read from a fixture: {columns}; "
            f"leave their tables out with {flags}{then}"
        )
    raise FixtureSchemaError(msg, table=found[0][0], field=found[0][1])


def _read(
    column: ColumnElement[Any], read: Callable[[ColumnElement[Any]], ColumnElement[Any]] | None
) -> ColumnElement[Any]:
    return column if read is None else read(column).label(column.key)


def _order_by(info: TableInfo, dialect: Dialect) -> list[ColumnElement[Any]]:
    if not info.pk:
        return keyless_order_by(info, dialect)
    clauses: list[ColumnElement[Any]] = []
    for column in info.pk:
        resolved = resolve_type(column.type, dialect)
        if dialect.name == "postgresql" and isinstance(resolved, sqltypes.String):
            # Byte order, as SQLite sorts: dumps of either database give the same bytes.
            clauses.append(column.collate("C"))
        else:
            clauses.append(column)
    return clauses


async def _dump_table(
    connection: AsyncConnection,
    schema: Schema,
    info: TableInfo,
    writer: RecordWriter,
    *,
    keys: NaturalKeys | None,
    natural_primary: bool,
    progress: Progress | None,
    rows: ColumnElement[bool] | None = None,
    transforms: TablePlan | None = None,
) -> int:
    table = info.table
    columns = info.columns
    pk_keys = info.pk_keys
    # A table without a primary key is written without "pk", Django-style.
    omit_pk = (natural_primary and info.surrogate_pk) or not pk_keys
    json_columns = [c for c in columns if info.codecs[c.key].is_json]
    flags = [c.is_(None).label(f"_isnull_{i}") for i, c in enumerate(json_columns)]
    # Values a driver would lose are read as the database's text (see _pg_codecs, _raw).
    read = [_read(c, info.codecs[c.key].read) for c in columns]
    special_columns = [c for c in columns if info.codecs[c.key].special is not None]
    specials = [
        info.codecs[c.key].special(c).label(f"_special_{i}")  # type: ignore[misc]
        for i, c in enumerate(special_columns)
    ]
    order_by = _order_by(info, schema.dialect)
    stmt = select(*read, *flags, *specials).order_by(*order_by)
    count_rows = select(func.count()).select_from(table)
    if rows is not None:  # a subset: the rows --where and --with-related keep
        stmt = stmt.where(rows)
        count_rows = count_rows.where(rows)
    if info.only:  # INHERITS children hold rows of their own, dumped as their own table
        stmt = stmt.with_hint(table, "ONLY", "postgresql")
        count_rows = count_rows.with_hint(table, "ONLY", "postgresql")
    total = 0
    if progress is not None:
        total = int((await connection.execute(count_rows)).scalar_one())
        progress(info.name, 0, total)
    # PostgreSQL may write JSON and JSONL records itself, the same bytes; other formats'
    # writers take the records as Python values.
    if keys is None and transforms is None and isinstance(writer, JsonRecordWriter):
        copied = await copy_records(
            connection, info, writer, order_by, total=total, progress=progress, rows=rows
        )
        if copied is not None:
            if progress is not None:
                progress(info.name, copied, max(total, copied))
            return copied
    positions = {c.key: i for i, c in enumerate(columns)}
    null_flags = {c.key: len(columns) + i for i, c in enumerate(json_columns)}
    special_at = {
        c.key: len(columns) + len(json_columns) + i for i, c in enumerate(special_columns)
    }
    # Every reference to a natural-key table, in the primary key or not, as its natural key.
    natural_refs: dict[str, str] = {}
    if keys is not None:
        natural_refs = {k: t for k, t in info.references.items() if keys.has(t)}
    # One plan per column, decided once: (key, position, JSON null flag, natural table, encode,
    # position of the special text, its encoder).
    plan = [
        (
            c.key,
            positions[c.key],
            null_flags.get(c.key),
            natural_refs.get(c.key),
            info.codecs[c.key].encode,
            special_at.get(c.key),
            info.codecs[c.key].encode_text or info.codecs[c.key].encode,
        )
        for c in columns
        if c.key not in pk_keys
    ]
    pk_plan = [(k, positions[k], natural_refs.get(k), info.codecs[k].encode) for k in pk_keys]
    single_pk = len(pk_plan) == 1
    pk_special = {
        k: (special_at[k], info.codecs[k].encode_text or info.codecs[k].encode)
        for k in pk_keys
        if k in special_at
    }

    def encode_pk(key: str, value: Any, natural: str | None, encode_value: Any, row: Any) -> Any:
        if value is None and key in pk_special:  # a key only the database's text holds
            at, encode_text = pk_special[key]
            return encode_text(row[at])
        if natural is not None and keys is not None and value is not None:
            return keys.lookup(natural, value, info.name, key)
        return encode_value(value)

    def encode(row: Any) -> dict[str, Any]:
        record: dict[str, Any] = {"table": info.name}
        if not omit_pk:
            if single_pk:
                key, position, natural, encode_value = pk_plan[0]
                record["pk"] = encode_pk(key, row[position], natural, encode_value, row)
            else:
                record["pk"] = {
                    k: encode_pk(k, row[position], natural, enc, row)
                    for k, position, natural, enc in pk_plan
                }
        fields: dict[str, Any] = {}
        for key, position, flag, natural, encode_value, special, encode_special in plan:
            value = row[position]
            if flag is not None:
                fields[key] = None if row[flag] else encode_value(value)
            elif value is None:
                # A value only the database's text holds (infinity...) is NULL in its column.
                text = None if special is None else row[special]
                fields[key] = None if text is None else encode_special(text)
            elif natural is not None and keys is not None:
                fields[key] = keys.lookup(natural, value, info.name, key)
            else:
                fields[key] = encode_value(value)
        record["fields"] = fields
        return record

    count = 0
    written = 0
    result = await connection.stream(stmt)
    async for partition in result.partitions(_PARTITION):
        if transforms is None:
            for row in partition:
                writer.write(encode(row))
            written += len(partition)
        else:
            for row in partition:
                record = transforms.on_dump(encode(row))
                if record is not None:
                    writer.write(record)
                    written += 1
        count += len(partition)
        if progress is not None:
            progress(info.name, count, max(total, count))
    if progress is not None:
        progress(info.name, count, max(total, count))
    return written


_PARTITION = 1000
"""Rows fetched per round trip while dumping."""
