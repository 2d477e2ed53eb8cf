"""Load fixtures: read and validate everything, then write in batches in one transaction."""

from __future__ import annotations

import asyncio
import copy
import os
import sys
import time
from collections.abc import Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from sqlalchemy import (
    ARRAY,
    ForeignKeyConstraint,
    Integer,
    any_,
    bindparam,
    insert,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import Insert

from batteries_fixtures._codecs import Codec, resolve_type
from batteries_fixtures._formats import MISSING, RawRecord, read_records
from batteries_fixtures._graph import Edge, LoadPlan, plan_load, strongly_connected
from batteries_fixtures._reports import LoadReport, TableCounts
from batteries_fixtures._schema import Models, Schema, TableInfo, load_schema
from batteries_fixtures._target import Progress, open_database
from batteries_fixtures.exceptions import (
    DuplicateRecordError,
    FixtureError,
    FixtureFileError,
    FixtureFormatError,
    FixtureIntegrityError,
    FixtureSchemaError,
    FixtureValueError,
    UnresolvedReferenceError,
)
from batteries_models import Database, mask_url

__all__ = ["Mode", "Source", "load"]

Mode = Literal["merge", "append", "truncate"]
Source = str | os.PathLike[str] | IO[bytes]

_BATCH = 1000
_LOOKUP_BATCH = 500


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
        sources: A path, ``"-"`` for stdin, a binary stream, or a list of those.
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
    if mode not in ("merge", "append", "truncate"):
        msg = f"Unknown load mode {mode!r}: use 'merge', 'append' or 'truncate'"
        raise ValueError(msg)
    for item in items:  # a typo in a path should not wait for a database connection
        if isinstance(item, str | os.PathLike) and os.fspath(item) != "-":
            with _open_source(item):
                pass
    report = LoadReport(dry_run=dry_run, mode=mode)
    async with open_database(database) as db:
        async with db.connect() as probe:
            schema = await load_schema(probe, models)
        # Parsing is CPU and file work: a thread keeps the caller's event loop responsive.
        rows = await asyncio.to_thread(
            _read_all, items, schema, ignore_unknown=ignore_unknown, report=report
        )
        plan = plan_load(
            list(rows), schema.edges(list(rows)), can_defer_all=schema.dialect.name == "sqlite"
        )
        for name in plan.order:
            report.tables[name] = TableCounts()
        writer = _Writer(schema, rows, plan, mode=mode, report=report, progress=progress)
        try:
            async with db.connect() as connection:
                await writer.run(connection)
                if dry_run:
                    await writer.check_deferred(connection)
                    raise _DryRun
        except _DryRun:
            pass
        except IntegrityError as exc:
            raise _integrity_error(exc, writer.current, schema) from exc
        except DBAPIError as exc:
            if exc.connection_invalidated or isinstance(exc.orig, OSError):
                raise
            where = f" while writing table {writer.current!r}" if writer.current else ""
            msg = (
                f"The database refused the fixture{where}: {_first_line(exc)}; nothing was written"
            )
            raise FixtureError(mask_url(msg), table=writer.current) from exc
    report.duration = time.perf_counter() - started
    return report


class _DryRun(Exception):
    """Raised inside the transaction to roll a dry run back."""


# ---------------------------------------------------------------- reading and converting


@dataclass(frozen=True)
class _NaturalRef:
    """A foreign-key value written as the natural key of the referenced row."""

    table: str
    raw: Any
    frozen: Hashable


@dataclass(slots=True)
class _Row:
    """One converted record; slots because a load holds one per record."""

    values: dict[str, Any]
    path: str
    index: int
    has_pk: bool
    exists: bool = False
    unchanged: bool = False
    later: dict[str, Any] | None = None

    def where(self) -> str:
        return f"{self.path} record {self.index}"


@dataclass
class _TableRows:
    info: TableInfo
    rows: list[_Row] = field(default_factory=list)
    keys: dict[tuple[str, tuple[Any, ...]], _Row] = field(default_factory=dict)


def _freeze(value: Any) -> Hashable:
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    return value  # type: ignore[no-any-return]


@contextmanager
def _open_source(source: Source) -> Iterator[tuple[IO[bytes], str]]:
    if isinstance(source, str | os.PathLike):
        name = os.fspath(source)
        if name == "-":
            yield sys.stdin.buffer, "-"
            return
        path = Path(name)
        try:
            handle = path.open("rb")
        except FileNotFoundError as exc:
            msg = f"Fixture file {name} does not exist: check the path"
            raise FixtureFileError(msg, path=name) from exc
        except OSError as exc:
            msg = f"Cannot read fixture file {name}: {exc.strerror}"
            raise FixtureFileError(msg, path=name) from exc
        with handle:
            yield handle, name
        return
    yield source, str(getattr(source, "name", "<stream>"))


def _read_all(
    sources: list[Source], schema: Schema, *, ignore_unknown: bool, report: LoadReport
) -> dict[str, _TableRows]:
    tables: dict[str, _TableRows] = {}
    skipped: dict[str, int] = {}
    for source in sources:
        with _open_source(source) as (stream, path):
            report.files.append(path)
            for record in read_records(stream, path):
                info = schema.tables.get(record.table)
                if info is None:
                    if ignore_unknown:
                        skipped[record.table] = skipped.get(record.table, 0) + 1
                        continue
                    known = ", ".join(sorted(schema.tables)) or "none"
                    msg = (
                        f"{path} record {record.index}: unknown table {record.table!r} "
                        f"(the database has {known}); use --ignore-unknown to skip it"
                    )
                    raise FixtureSchemaError(
                        msg, path=path, record=record.index, table=record.table
                    )
                bucket = tables.get(info.name)
                if bucket is None:
                    info.check_supported()
                    bucket = tables[info.name] = _TableRows(info)
                row = _convert(record, info, schema, ignore_unknown=ignore_unknown)
                key = _row_key(row, info)
                previous = bucket.keys.get(key)
                if previous is not None:
                    msg = (
                        f"{row.where()}: table {info.name!r} {_show_key(key)} appears twice "
                        f"(first in {previous.where()}); remove one of them"
                    )
                    raise DuplicateRecordError(msg, path=path, record=row.index, table=info.name)
                bucket.keys[key] = row
                bucket.rows.append(row)
    for name, count in sorted(skipped.items()):
        report.tables.setdefault(name, TableCounts()).skipped = count
    return tables


def _show_key(key: tuple[str, tuple[Any, ...]]) -> str:
    kind, value = key
    if kind == "natural":
        return f"natural key {list(value)!r}"
    return f"key {value[0]!r}" if len(value) == 1 else f"key {value!r}"


def _row_key(row: _Row, info: TableInfo) -> tuple[str, tuple[Any, ...]]:
    if row.has_pk:
        values = row.values
        return ("pk", tuple([values[k] for k in info.pk_keys]))
    assert info.natural_key is not None
    return ("natural", tuple(_freeze(_natural_part(row.values.get(k))) for k in info.natural_key))


def _natural_part(value: Any) -> Any:
    return value.raw if isinstance(value, _NaturalRef) else value


def _convert(record: RawRecord, info: TableInfo, schema: Schema, *, ignore_unknown: bool) -> _Row:
    values: dict[str, Any] = {}
    columns = info.column_keys
    for key, value in record.fields.items():
        if key not in columns:
            if ignore_unknown:
                continue
            msg = (
                f"{record.path} record {record.index}: table {info.name!r} has no field {key!r}; "
                "use --ignore-unknown to skip it"
            )
            raise FixtureSchemaError(
                msg, path=record.path, record=record.index, table=info.name, field=key
            )
        values[key] = _decode(info, schema, key, value, record)
    pk_keys = info.pk_keys
    has_pk = False
    if record.pk is not MISSING:
        if len(pk_keys) == 1:
            values[pk_keys[0]] = _decode(info, schema, pk_keys[0], record.pk, record)
        else:
            if not isinstance(record.pk, dict) or set(record.pk) != set(pk_keys):
                msg = (
                    f"{record.path} record {record.index}: table {info.name!r} has a composite "
                    f"primary key, so 'pk' must be an object with keys {', '.join(pk_keys)}, "
                    f"got {record.pk!r}"
                )
                raise FixtureFormatError(
                    msg, path=record.path, record=record.index, table=info.name
                )
            for key in pk_keys:
                values[key] = _decode(info, schema, key, record.pk[key], record)
        has_pk = True
    elif pk_keys and all(k in values for k in pk_keys):
        has_pk = True
    elif info.natural_key is None:
        msg = (
            f"{record.path} record {record.index}: table {info.name!r} record has no 'pk' and "
            "the table declares no natural key: add the primary key"
        )
        raise FixtureFormatError(msg, path=record.path, record=record.index, table=info.name)
    for key in info.required:
        if key in values or (key == info.generated_key and not has_pk):
            continue
        msg = (
            f"{record.path} record {record.index}: table {info.name!r}{_pk_text(record)} is "
            f"missing required field {key!r}"
        )
        raise FixtureSchemaError(
            msg, path=record.path, record=record.index, table=info.name, field=key
        )
    return _Row(values=values, path=record.path, index=record.index, has_pk=has_pk)


def _pk_text(record: RawRecord) -> str:
    return "" if record.pk is MISSING else f" pk {record.pk!r}"


def _decode(info: TableInfo, schema: Schema, key: str, value: Any, record: RawRecord) -> Any:
    if value is None:
        return None
    target = info.references.get(key)
    if target is not None and isinstance(value, list):
        target_info = schema.tables.get(target)
        if target_info is not None and target_info.natural_key is not None:
            return _NaturalRef(target, value, _freeze(value))
    try:
        return info.codecs[key].decode(value)
    except (TypeError, ValueError) as exc:
        msg = (
            f"{record.path} record {record.index}: table {info.name!r}{_pk_text(record)} "
            f"field {key!r}: "
            f"{exc}"
        )
        raise FixtureValueError(
            msg, path=record.path, record=record.index, table=info.name, field=key
        ) from exc


# ---------------------------------------------------------------- writing


class _Writer:
    """Write the converted rows, table by table, in batches."""

    def __init__(
        self,
        schema: Schema,
        rows: dict[str, _TableRows],
        plan: LoadPlan,
        *,
        mode: Mode,
        report: LoadReport,
        progress: Progress | None,
    ) -> None:
        self.schema = schema
        self.rows = rows
        self.plan = plan
        self.mode = mode
        self.report = report
        self.progress = progress
        self.current: str | None = None
        self.broken: dict[str, set[str]] = {}
        for edge in plan.broken:
            fk = edge.key
            assert isinstance(fk, ForeignKeyConstraint)
            self.broken.setdefault(edge.child, set()).update(c.key for c in fk.columns)
        # Foreign keys inside a deferred cycle: checked by the database at commit instead.
        self.deferred: dict[str, set[str]] = {}
        if plan.deferred:
            for edge in schema.edges(list(rows)):
                if edge not in plan.broken and _in_cycle(edge, plan, schema, list(rows)):
                    fk = edge.key
                    assert isinstance(fk, ForeignKeyConstraint)
                    self.deferred.setdefault(edge.child, set()).update(c.key for c in fk.columns)

    async def run(self, connection: AsyncConnection) -> None:
        dialect = self.schema.dialect.name
        if self.plan.deferred:
            if dialect == "sqlite":
                await connection.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
            else:
                await connection.exec_driver_sql("SET CONSTRAINTS ALL DEFERRED")
        if self.mode == "truncate":
            await self._truncate(connection)
        for name in self.plan.order:
            self.current = name
            await self._write_table(connection, self.rows[name])
        for name in self.plan.order:
            if name in self.broken:
                self.current = name
                await self._write_later(connection, self.rows[name])
        self.current = None
        if dialect == "postgresql":
            await self._reset_sequences(connection)

    async def check_deferred(self, connection: AsyncConnection) -> None:
        """In a dry run, make the database check deferred constraints before the rollback."""
        if not self.plan.deferred:
            return
        if self.schema.dialect.name == "postgresql":
            await connection.exec_driver_sql("SET CONSTRAINTS ALL IMMEDIATE")
            return
        result = await connection.exec_driver_sql("PRAGMA foreign_key_check")
        problem: Any = result.first()
        if problem is not None:
            msg = (
                f"Table {problem[0]!r} row {problem[1]} points at a missing row of "
                f"{problem[2]!r}: fix the foreign key in the fixture"
            )
            raise UnresolvedReferenceError(msg, table=str(problem[0]))

    async def _truncate(self, connection: AsyncConnection) -> None:
        for name, columns in sorted(self.broken.items()):
            self.current = name
            table = self.schema.tables[name].table
            await connection.execute(update(table).values(dict.fromkeys(columns)))
        for name in reversed(self.plan.order):
            self.current = name
            await connection.execute(self.schema.tables[name].table.delete())

    async def _write_table(self, connection: AsyncConnection, bucket: _TableRows) -> None:
        info = bucket.info
        counts = self.report.tables[info.name]
        broken = self.broken.get(info.name, set())
        total = len(bucket.rows)
        batches = [bucket.rows[i : i + _BATCH] for i in range(0, total, _BATCH)]
        # Every lookup in the table being written happens before its first insert: PostgreSQL
        # has no statistics on rows inserted in this transaction and would scan them per batch.
        for batch in batches:
            refs = [k for k in info.references if k not in broken]
            await self._resolve_refs(connection, info, batch, refs)
            skip = broken | self.deferred.get(info.name, set())
            await self._check_references(connection, info, batch, skip=skip)
            await self._resolve_own_keys(connection, info, batch)
            for row in batch:
                for key in broken:
                    if key in row.values and row.values[key] is not None:
                        if row.later is None:
                            row.later = {}
                        row.later[key] = row.values[key]
                        row.values[key] = None
            await self._mark_existing(connection, info, batch)
        if self.progress is not None:
            self.progress(info.name, 0, total)
        done = 0
        for batch in batches:
            await self._insert(connection, info, [row for row in batch if not row.unchanged])
            for row in batch:
                if row.unchanged:
                    counts.unchanged += 1
                elif row.exists:
                    counts.updated += 1
                else:
                    counts.inserted += 1
            done += len(batch)
            if self.progress is not None:
                self.progress(info.name, done, total)

    async def _write_later(self, connection: AsyncConnection, bucket: _TableRows) -> None:
        info = bucket.info
        pending = [row for row in bucket.rows if row.later]
        if not pending:
            return
        pk_keys = [c.key for c in info.pk]
        for start in range(0, len(pending), _BATCH):
            batch = pending[start : start + _BATCH]
            later = [row.later or {} for row in batch]
            for row, values in zip(batch, later, strict=True):
                row.values.update(values)
            keys = sorted({k for values in later for k in values})
            await self._resolve_refs(connection, info, batch, keys)
            await self._check_references(connection, info, batch, skip=set(), only=set(keys))
            for group_keys, group in _runs(batch, lambda r: tuple(sorted(r.later or {}))):
                assignments: dict[Any, Any] = {
                    k: bindparam(f"_v_{k}", type_=info.table.c[k].type) for k in group_keys
                }
                # Keep the fixture's values in columns such as updated_at: an UPDATE would
                # otherwise fire their onupdate and change the row the fixture describes.
                assignments.update({c.key: c for c in info.table.columns if c.onupdate is not None})
                stmt = (
                    update(info.table)
                    .where(*(info.table.c[k] == bindparam(f"_pk_{k}") for k in pk_keys))
                    .values(assignments)
                )
                params = [
                    {
                        **{f"_pk_{k}": r.values[k] for k in pk_keys},
                        **{f"_v_{k}": r.values[k] for k in group_keys},
                    }
                    for r in group
                ]
                await connection.execute(stmt, params)

    async def _resolve_refs(
        self, connection: AsyncConnection, info: TableInfo, batch: list[_Row], keys: Sequence[str]
    ) -> None:
        wanted: dict[str, dict[Hashable, Any]] = {}
        for row in batch:
            for key in keys:
                value = row.values.get(key)
                if isinstance(value, _NaturalRef):
                    wanted.setdefault(value.table, {})[value.frozen] = value.raw
        if not wanted:  # no natural keys in this batch: nothing to look up or replace
            return
        resolved: dict[str, dict[Hashable, Any]] = {}
        for target, raws in wanted.items():
            resolved[target] = await self._lookup_natural(connection, target, raws)
        for row in batch:
            for key in keys:
                value = row.values.get(key)
                if not isinstance(value, _NaturalRef):
                    continue
                found = resolved[value.table].get(value.frozen, _NOT_FOUND)
                if found is _NOT_FOUND or found is _SEVERAL:
                    what = "no row" if found is _NOT_FOUND else "several rows"
                    msg = (
                        f"{row.where()}: table {info.name!r} field {key!r}: natural key "
                        f"{value.raw!r} matches {what} of table {value.table!r}"
                    )
                    raise UnresolvedReferenceError(
                        msg, path=row.path, record=row.index, table=info.name, field=key
                    )
                row.values[key] = found

    async def _lookup_natural(
        self, connection: AsyncConnection, name: str, raws: dict[Hashable, Any]
    ) -> dict[Hashable, Any]:
        """Primary keys of rows of ``name`` by natural key (raw JSON form), in batched SELECTs."""
        info = self.schema.tables[name]
        natural = info.natural_key
        assert natural is not None
        decoded: dict[Hashable, tuple[Any, ...]] = {}
        nested: dict[str, dict[Hashable, Any]] = {}
        for frozen, raw in raws.items():
            if not isinstance(raw, list) or len(raw) != len(natural):
                decoded[frozen] = ()
                continue
            for key, part in zip(natural, raw, strict=True):
                target = info.references.get(key)
                if target is not None and isinstance(part, list):
                    nested.setdefault(key, {})[_freeze(part)] = part
        nested_found = {
            key: await self._lookup_natural(connection, info.references[key], parts)
            for key, parts in nested.items()
        }
        for frozen, raw in raws.items():
            if frozen in decoded:
                continue
            values: list[Any] = []
            for key, part in zip(natural, raw, strict=True):
                if part is None:
                    values.append(None)
                elif key in nested_found and isinstance(part, list):
                    values.append(nested_found[key].get(_freeze(part), _NOT_FOUND))
                else:
                    try:
                        values.append(info.codecs[key].decode(part))
                    except (TypeError, ValueError):
                        values.append(_NOT_FOUND)
            decoded[frozen] = tuple(values)
        matches = await self._select_by_natural(connection, info, set(decoded.values()))
        return {frozen: matches.get(key, _NOT_FOUND) for frozen, key in decoded.items()}

    async def _select_by_natural(
        self, connection: AsyncConnection, info: TableInfo, keys: set[tuple[Any, ...]]
    ) -> dict[tuple[Any, ...], Any]:
        natural = info.natural_key
        assert natural is not None
        usable = [k for k in keys if k and _NOT_FOUND not in k and None not in k]
        columns = [info.table.c[k] for k in natural]
        pk = info.pk[0]
        found: dict[tuple[Any, ...], Any] = {}
        for start in range(0, len(usable), _LOOKUP_BATCH):
            chunk = usable[start : start + _LOOKUP_BATCH]
            if len(columns) == 1:
                condition = self._among(columns[0], [k[0] for k in chunk])
            else:
                condition = tuple_(*columns).in_(chunk)
            result = await connection.execute(select(pk, *columns).where(condition))
            for row in result:
                key = tuple(row[1:])
                found[key] = _SEVERAL if key in found else row[0]
        return found

    async def _resolve_own_keys(
        self, connection: AsyncConnection, info: TableInfo, batch: list[_Row]
    ) -> None:
        """Rows given by natural key only: find their primary key, if the row exists."""
        todo = [row for row in batch if not row.has_pk]
        if not todo:
            return
        natural = info.natural_key
        assert natural is not None
        keys = {row.index: tuple(row.values.get(k) for k in natural) for row in todo}
        found = await self._select_by_natural(connection, info, set(keys.values()))
        pk_key = info.pk[0].key
        for row in todo:
            match = found.get(keys[row.index], _NOT_FOUND)
            if match is _SEVERAL:
                msg = (
                    f"{row.where()}: table {info.name!r} natural key {list(keys[row.index])!r} "
                    "matches several rows: make the natural key unique"
                )
                raise UnresolvedReferenceError(
                    msg, path=row.path, record=row.index, table=info.name
                )
            if match is not _NOT_FOUND:
                row.values[pk_key] = match
                row.has_pk = True
                row.exists = True

    async def _check_references(
        self,
        connection: AsyncConnection,
        info: TableInfo,
        batch: list[_Row],
        *,
        skip: set[str],
        only: set[str] | None = None,
    ) -> None:
        """Name the record whose foreign key points at a row that exists nowhere."""
        for column in info.table.columns:
            key = column.key
            if (
                key in skip
                or (only is not None and key not in only)
                or len(column.foreign_keys) != 1
            ):
                continue
            referred = next(iter(column.foreign_keys)).column
            values = {
                row.values[key]
                for row in batch
                if row.values.get(key) is not None and not isinstance(row.values[key], _NaturalRef)
            }
            if not values:
                continue
            present: set[Any] = set()
            ordered = list(values)
            for start in range(0, len(ordered), _LOOKUP_BATCH):
                chunk = ordered[start : start + _LOOKUP_BATCH]
                result = await connection.execute(
                    select(referred).where(self._among(referred, chunk))
                )
                present.update(result.scalars())
            missing = values - present
            if not missing:
                continue
            row = next(r for r in batch if r.values.get(key) in missing)
            msg = (
                f"{row.where()}: table {info.name!r} field {key!r} = {row.values[key]!r} points at "
                f"no row of {referred.table.name!r} (neither in the database nor in the fixture)"
            )
            raise UnresolvedReferenceError(
                msg, path=row.path, record=row.index, table=info.name, field=key
            )

    def _among(self, column: Any, values: list[Any]) -> Any:
        """``column IN values`` as one parameter, so every batch compiles to a cached statement.

        PostgreSQL gets an array (``= ANY``), which the server also prepares once; elsewhere an
        expanding parameter, rendered at execution instead of one bound object per value.
        """
        if self.schema.dialect.name == "postgresql":
            return column == any_(bindparam(None, values, type_=ARRAY(column.type)))
        return column.in_(bindparam(None, values, type_=column.type, expanding=True))

    async def _mark_existing(
        self, connection: AsyncConnection, info: TableInfo, batch: list[_Row]
    ) -> None:
        if self.mode == "truncate":
            return
        with_pk = [row for row in batch if row.has_pk and not row.exists]
        columns = [info.table.c[c.key] for c in info.pk]
        keys = {tuple(row.values[c.key] for c in columns): row for row in with_pk}
        ordered = list(keys)
        # In merge mode the stored values come back too, so rows already holding the fixture's
        # values are left alone: loading a fixture twice writes nothing the second time.
        compared = sorted({k for row in with_pk for k in row.values} - {c.key for c in columns})
        fetched = (
            [*columns, *(info.table.c[k] for k in compared)] if self.mode == "merge" else columns
        )
        for start in range(0, len(ordered), _LOOKUP_BATCH):
            chunk = ordered[start : start + _LOOKUP_BATCH]
            if len(columns) == 1:
                condition = self._among(columns[0], [k[0] for k in chunk])
            else:
                condition = tuple_(*columns).in_(chunk)
            result = await connection.execute(select(*fetched).where(condition))
            for stored in result:
                found = keys[tuple(stored[: len(columns)])]
                found.exists = True
                if self.mode == "merge":
                    current = dict(zip(compared, stored[len(columns) :], strict=True))
                    # A cycle-broken key is compared with the value it will finally get.
                    intended = {**found.values, **(found.later or {})}
                    if all(
                        _same(info.codecs[k], current[k], v)
                        for k, v in intended.items()
                        if k in current
                    ):
                        found.unchanged = True
                        found.later = None
        row = next((r for r in batch if r.exists), None)
        if self.mode == "append" and row is not None:
            shown = _show_key(("pk", tuple(row.values[c.key] for c in columns)))
            msg = (
                f"{row.where()}: table {info.name!r} {shown} already exists; --append only "
                "inserts (drop --append to update existing rows)"
            )
            raise DuplicateRecordError(msg, path=row.path, record=row.index, table=info.name)

    async def _insert(
        self, connection: AsyncConnection, info: TableInfo, batch: list[_Row]
    ) -> None:
        table = info.table
        pk_keys = [c.key for c in info.pk]
        for shape, group in _runs(batch, lambda r: (r.has_pk, tuple(r.values))):
            has_pk: bool = shape[0]
            columns: tuple[str, ...] = shape[1]
            params = [row.values for row in group]
            stmt = self._insert_statement(info, columns)
            if not has_pk:
                returning = stmt.returning(*info.pk, sort_by_parameter_order=True)
                result = await connection.execute(returning, params)
                for row, returned in zip(group, result, strict=True):
                    row.values[pk_keys[0]] = returned[0]
                    row.has_pk = True
                continue
            # Keys were looked up in this transaction: only groups with existing rows need the
            # upsert (a row inserted meanwhile by another session fails as a unique violation).
            if self.mode == "merge" and any(row.exists for row in group):
                stmt = self._upsert(stmt, table, pk_keys, columns)
            await connection.execute(stmt, params)

    def _insert_statement(self, info: TableInfo, columns: tuple[str, ...]) -> Insert:
        dialect = self.schema.dialect.name
        factory: Any = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(
            dialect, insert
        )
        stmt: Insert = factory(info.table)
        # A typed bind per JSON column: Python None is SQL NULL, JSON.NULL the JSON null.
        json_binds = {}
        for key in columns:
            if info.codecs[key].is_json:
                json_type = copy.copy(resolve_type(info.table.c[key].type, self.schema.dialect))
                json_type.none_as_null = True  # type: ignore[attr-defined]
                json_binds[key] = bindparam(key, type_=json_type)
        return stmt.values(json_binds) if json_binds else stmt

    def _upsert(self, stmt: Any, table: Any, pk_keys: list[str], columns: tuple[str, ...]) -> Any:
        if not hasattr(stmt, "on_conflict_do_update"):
            return stmt
        others = [k for k in columns if k not in pk_keys]
        excluded = stmt.excluded
        if not others:
            return stmt.on_conflict_do_nothing(index_elements=pk_keys)
        return stmt.on_conflict_do_update(
            index_elements=pk_keys, set_={k: excluded[k] for k in others}
        )

    async def _reset_sequences(self, connection: AsyncConnection) -> None:
        preparer = connection.dialect.identifier_preparer
        for name in self.plan.order:
            table = self.schema.tables[name].table
            column = table.autoincrement_column
            if column is None or not isinstance(column.type, Integer):
                continue
            quoted_table = preparer.format_table(table)
            quoted_column = preparer.quote(column.name)
            await connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence(:table, :column), "
                    f"COALESCE(MAX({quoted_column}), 0) + 1, false) FROM {quoted_table}"
                ),
                {"table": quoted_table, "column": column.name},
            )


_NOT_FOUND: Any = object()
_SEVERAL: Any = object()


def _same(codec: Codec, stored: Any, wanted: Any) -> bool:
    """Whether a stored value already is the fixture's value, as a dump would write them."""
    if stored is None or wanted is None:
        return stored is None and wanted is None
    if stored == wanted:
        return True
    try:  # e.g. SQLite returns an aware column's UTC time naive: compare the dumped forms
        return bool(codec.encode(stored) == codec.encode(wanted))
    except (TypeError, ValueError, AttributeError):
        return False


def _runs(rows: list[_Row], key: Any) -> Iterator[tuple[Any, list[_Row]]]:
    """Consecutive rows with the same key: executemany needs one shape, order must stay."""
    group: list[_Row] = []
    current: Any = None
    for row in rows:
        k = key(row)
        if group and k != current:
            yield current, group
            group = []
        current = k
        group.append(row)
    if group:
        yield current, group


def _in_cycle(edge: Edge, plan: LoadPlan, schema: Schema, names: list[str]) -> bool:
    kept = [e for e in schema.edges(names) if e not in plan.broken]
    for component in strongly_connected(names, kept):
        if edge.child in component and edge.parent in component:
            return len(component) > 1 or edge.child == edge.parent
    return False


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text_ = str(orig).strip().splitlines()
    return text_[0] if text_ else type(orig).__name__


def _integrity_error(
    exc: IntegrityError, table: str | None, schema: Schema
) -> FixtureIntegrityError:
    cause = getattr(exc.orig, "__cause__", None)
    constraint = getattr(cause, "constraint_name", None)
    table = getattr(cause, "table_name", None) or table
    detail = getattr(cause, "detail", None)
    message = _first_line(exc)
    if constraint is None:
        constraint = _sqlite_constraint(message, schema)
    parts = [f"The database refused the fixture: {message}"]
    if table:
        parts.append(f"table {table!r}")
    if constraint:
        parts.append(f"constraint {constraint!r}")
    if detail:
        parts.append(str(detail).replace("\n", " "))
    msg = "; ".join(parts) + "; nothing was written"
    return FixtureIntegrityError(mask_url(msg), table=table, constraint=constraint)


def _sqlite_constraint(message: str, schema: Schema) -> str | None:
    """SQLite names columns (``UNIQUE constraint failed: t.a, t.b``); find the constraint."""
    kind, _, rest = message.partition(" constraint failed: ")
    if not rest:
        return None
    if kind in ("UNIQUE", "PRIMARY KEY"):
        names = [part.strip() for part in rest.split(",")]
        table_name = names[0].rsplit(".", 1)[0]
        columns = {n.rsplit(".", 1)[-1] for n in names}
        info = schema.tables.get(table_name)
        if info is not None:
            for constraint in info.table.constraints:
                cols = {c.name for c in getattr(constraint, "columns", [])}
                if cols == columns and constraint.name:
                    return str(constraint.name)
            for index in info.table.indexes:
                if index.unique and {c.name for c in index.columns} == columns and index.name:
                    return str(index.name)
        return rest
    return rest
