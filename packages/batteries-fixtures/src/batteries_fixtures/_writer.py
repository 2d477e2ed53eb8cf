"""Write converted rows in batches: inserts and upserts, cycle-breaking updates, sequences."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any, Literal

from sqlalchemy import ForeignKeyConstraint, Integer, bindparam, insert, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import Insert

from batteries_fixtures._codecs import resolve_type
from batteries_fixtures._graph import Edge, LoadPlan, strongly_connected
from batteries_fixtures._lookups import Lookups
from batteries_fixtures._records import Row, TableRows, show_key
from batteries_fixtures._reports import LoadReport
from batteries_fixtures._schema import Schema, TableInfo
from batteries_fixtures._target import Progress
from batteries_fixtures.exceptions import DuplicateRecordError, UnresolvedReferenceError

__all__ = ["Mode", "Writer"]

Mode = Literal["merge", "append", "truncate"]
"""How a load treats rows already stored: upsert them, refuse them, or delete every row first."""

_BATCH = 1000


class Writer:
    """Write the converted rows, table by table, in batches.

    Attributes:
        current: The table being written, for error messages; ``None`` outside a table.
    """

    def __init__(
        self,
        schema: Schema,
        rows: dict[str, TableRows],
        plan: LoadPlan,
        *,
        mode: Mode,
        report: LoadReport,
        progress: Progress | None,
    ) -> None:
        self.schema = schema
        self.lookups = Lookups(schema)
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
        """Write every table in plan order, then the cycle-broken keys.

        Sequences are not moved here: :meth:`finish` does it on the path that commits.
        """
        dialect = self.schema.dialect.name
        if dialect == "postgresql":
            await self._lock_tables(connection)
        elif dialect == "sqlite":
            await self._lock_database(connection)
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

    async def finish(self, connection: AsyncConnection) -> None:
        """Last statements before the commit: check deferred keys, then move sequences.

        ``setval`` is not transactional, so it must come after everything that can still fail
        (deferred constraints are checked first), and never run in a dry run.
        """
        if self.schema.dialect.name != "postgresql":
            return
        if self.plan.deferred:
            await connection.exec_driver_sql("SET CONSTRAINTS ALL IMMEDIATE")
        await self._reset_sequences(connection)

    async def _lock_database(self, connection: AsyncConnection) -> None:
        """Take SQLite's write lock before the first read, waiting (busy timeout) for it.

        A deferred ``BEGIN`` reads, then upgrades to a write; when another connection wrote
        in between, SQLite refuses the upgrade at once ("database is locked"), since waiting
        could not help a snapshot that is already stale. ``BEGIN IMMEDIATE`` waits up to the
        busy timeout instead, so concurrent loads take turns. Nothing ran in the transaction
        that ``Database.connect`` began, so ending it loses nothing.
        """
        await connection.exec_driver_sql("COMMIT")
        await connection.exec_driver_sql("BEGIN IMMEDIATE")

    async def _lock_tables(self, connection: AsyncConnection) -> None:
        """Make concurrent loads of the same tables take turns.

        A load looks rows up, then inserts or updates them: two loads doing that at once both
        see a key missing and both insert it, and one fails on the primary key (or, for rows
        known only by a natural key that no unique constraint backs, both insert it).
        ``SHARE ROW EXCLUSIVE`` conflicts with itself and with every write, but not with
        reads, so a second load (or an application write) waits for the first to commit, then
        looks up rows the first one wrote. One statement, tables in name order: two loads never
        hold each other's locks.
        """
        preparer = connection.dialect.identifier_preparer
        tables = sorted(self.plan.order)
        if not tables:
            return
        names = ", ".join(preparer.format_table(self.schema.tables[n].table) for n in tables)
        await connection.exec_driver_sql(f"LOCK TABLE {names} IN SHARE ROW EXCLUSIVE MODE")

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

    async def _write_table(self, connection: AsyncConnection, bucket: TableRows) -> None:
        info = bucket.info
        counts = self.report.tables[info.name]
        broken = self.broken.get(info.name, set())
        total = len(bucket.rows)
        batches = [bucket.rows[i : i + _BATCH] for i in range(0, total, _BATCH)]
        # Every lookup in the table being written happens before its first insert: PostgreSQL
        # has no statistics on rows inserted in this transaction and would scan them per batch.
        for batch in batches:
            refs = [k for k in info.references if k not in broken]
            await self.lookups.resolve_refs(connection, info, batch, refs)
            skip = broken | self.deferred.get(info.name, set())
            await self.lookups.check_references(connection, info, batch, skip=skip)
            await self.lookups.resolve_own_keys(connection, info, batch)
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

    async def _write_later(self, connection: AsyncConnection, bucket: TableRows) -> None:
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
            await self.lookups.resolve_refs(connection, info, batch, keys)
            await self.lookups.check_references(connection, info, batch, skip=set(), only=set(keys))
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

    async def _mark_existing(
        self, connection: AsyncConnection, info: TableInfo, batch: list[Row]
    ) -> None:
        """Find the rows already stored; in append mode, refuse the first one."""
        if self.mode == "truncate":
            return
        await self.lookups.mark_existing(connection, info, batch, compare=self.mode == "merge")
        row = next((r for r in batch if r.exists), None)
        if self.mode == "append" and row is not None:
            shown = show_key(("pk", tuple(row.values[c.key] for c in info.pk)))
            msg = (
                f"{row.where()}: table {info.name!r} {shown} already exists; --append only "
                "inserts (drop --append to update existing rows)"
            )
            raise DuplicateRecordError(msg, path=row.path, record=row.index, table=info.name)

    async def _insert(self, connection: AsyncConnection, info: TableInfo, batch: list[Row]) -> None:
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


def _runs(rows: list[Row], key: Any) -> Iterator[tuple[Any, list[Row]]]:
    """Consecutive rows with the same key: executemany needs one shape, order must stay."""
    group: list[Row] = []
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
