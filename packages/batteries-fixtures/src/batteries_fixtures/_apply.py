"""Write the staged rows into their tables: ``INSERT ... SELECT`` per table, parents first.

Per table: resolve natural keys, check foreign keys, find the stored rows (then one
``INSERT ... SELECT`` per shape of record, an upsert where rows exist); after every table, one
``UPDATE ... FROM`` per cycle-broken foreign key. Sequences move only when the load commits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from sqlalchemy import (
    ForeignKeyConstraint,
    and_,
    case,
    func,
    insert,
    literal,
    null,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from batteries_fixtures._boundary import refuse_outside_children
from batteries_fixtures._checks import (
    check_dangling,
    check_duplicates,
    mark_existing,
    refuse_late_natural_keys,
    refuse_raw_references,
    refuse_rows_given_twice,
    resolve_own_keys,
    resolve_references,
)
from batteries_fixtures._convert import EXISTS, FILE, NATURAL, RECORD, SAME, SHAPE, Converter
from batteries_fixtures._db_errors import integrity_error, locate_clash
from batteries_fixtures._enforced import Enforced, enforced_by_database
from batteries_fixtures._graph import Edge, LoadPlan, strongly_connected
from batteries_fixtures._keyless import refuse_merge
from batteries_fixtures._overriding import select_for
from batteries_fixtures._reports import LoadReport
from batteries_fixtures._schema import Schema
from batteries_fixtures._sequences import SavedSequence, move_past_keys, restore, save
from batteries_fixtures._target import Progress
from batteries_fixtures.exceptions import (
    DuplicateRecordError,
    FixtureIntegrityError,
    UnresolvedReferenceError,
)

__all__ = ["Applier", "Mode"]

Mode = Literal["merge", "append", "truncate"]
"""How a load treats rows already stored: upsert them, refuse them, or delete every row first."""


class Applier:
    """Check the staged rows and write them, table by table, in one transaction.

    Attributes:
        current: The table being written, for error messages; ``None`` outside a table.
    """

    def __init__(
        self,
        schema: Schema,
        converters: dict[str, Converter],
        plan: LoadPlan,
        *,
        mode: Mode,
        report: LoadReport,
        progress: Progress | None,
    ) -> None:
        self.schema = schema
        self.converters = converters
        self.plan = plan
        self.mode = mode
        self.report = report
        self.progress = progress
        self.files = report.files
        self.current: str | None = None
        self.enforced = Enforced()  # what the database checks itself: see _enforced
        self._written: set[str] = set()  # tables where some row was inserted or updated
        self._drawn: dict[str, int] = {}  # values drawn from each sequence by inserted rows
        self.broken: dict[str, set[str]] = {}
        for edge in plan.broken:
            fk = edge.key
            assert isinstance(fk, ForeignKeyConstraint)
            self.broken.setdefault(edge.child, set()).update(c.key for c in fk.columns)
        # Foreign keys inside a deferred cycle: checked by the database at commit instead.
        self.deferred: dict[str, set[str]] = {}
        names = list(converters)
        if plan.deferred:
            for edge in schema.edges(names):
                if edge not in plan.broken and _in_cycle(edge, plan, schema, names):
                    fk = edge.key
                    assert isinstance(fk, ForeignKeyConstraint)
                    self.deferred.setdefault(edge.child, set()).update(c.key for c in fk.columns)

    async def run(self, connection: AsyncConnection) -> None:
        """Check the fixture alone, then write every table in plan order, then the broken keys.

        Sequences are not moved here: :meth:`finish` does it on the path that commits.
        """
        dialect = self.schema.dialect.name
        if dialect == "postgresql":
            await self._lock_tables(connection)
        self.enforced = await enforced_by_database(
            connection,
            self.schema,
            self.plan.order,
            deferred=bool(self.plan.deferred),
            inserts_only=self.mode != "merge",
        )
        for name in self.plan.order:
            converter = self.converters[name]
            if name not in self.enforced.primary_keys:
                await check_duplicates(connection, converter, self.files)
            await refuse_rows_given_twice(connection, converter, self.files)
            await refuse_late_natural_keys(
                connection, converter, self.broken.get(name, set()), self.files
            )
        await refuse_raw_references(connection, self.converters, self.files)
        if self.plan.deferred:
            if dialect == "sqlite":
                await connection.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
            else:
                await connection.exec_driver_sql("SET CONSTRAINTS ALL DEFERRED")
        if self.mode == "truncate":
            await refuse_outside_children(connection, self.schema, self.plan.order)
            await self._truncate(connection)
        elif self.mode == "merge":
            for name in self.plan.order:
                if not self.converters[name].pk_keys:
                    await refuse_merge(connection, self.converters[name].info)
        for name in self.plan.order:
            self.current = name
            await self._write_table(connection, self.converters[name])
        for name in self.plan.order:
            if name in self.broken and name in self._written:
                self.current = name
                await self._write_later(connection, self.converters[name])
        self.current = None

    async def _lock_tables(self, connection: AsyncConnection) -> None:
        """Make concurrent loads of the same tables take turns.

        A load looks rows up, then inserts or updates them: two loads doing that at once both
        see a key missing and both insert it, and one fails on the primary key (or, for rows
        known only by a natural key that no unique constraint backs, both insert it).
        ``SHARE ROW EXCLUSIVE`` conflicts with itself and with every write, but not with
        reads, so a second load (or an application write) waits for the first to commit, then
        looks up rows the first one wrote. One statement, tables in name order: two loads never
        hold each other's locks. Taken before the first look-up, dry runs included.
        """
        tables = sorted(self.plan.order)
        if not tables:
            return
        preparer = connection.dialect.identifier_preparer
        names = ", ".join(preparer.format_table(self.schema.tables[n].table) for n in tables)
        await connection.exec_driver_sql(f"LOCK TABLE {names} IN SHARE ROW EXCLUSIVE MODE")

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

    async def _reset_sequences(self, connection: AsyncConnection) -> None:
        """Move PostgreSQL sequences past the loaded keys (see :meth:`finish`)."""
        await move_past_keys(connection, (self.schema.tables[n] for n in self.plan.order))

    async def save_sequences(self, connection: AsyncConnection) -> list[SavedSequence]:
        """Where the PostgreSQL sequences of the loaded tables stand, for a dry run to restore.

        Rows inserted without a key take values from their sequence, and ``nextval`` is not
        undone by a rollback either.
        """
        if self.schema.dialect.name != "postgresql":
            return []
        return await save(connection, (self.schema.tables[n] for n in self.plan.order))

    async def restore_sequences(
        self, connection: AsyncConnection, saved: list[SavedSequence]
    ) -> None:
        """Put back the sequences this dry run drew keys from (see :meth:`save_sequences`).

        Only when nobody else drew from one meanwhile: rewinding it then would hand out keys
        another session already used.
        """
        await restore(connection, saved, self._drawn)

    async def _truncate(self, connection: AsyncConnection) -> None:
        for name, columns in sorted(self.broken.items()):
            self.current = name
            table = self.schema.tables[name].table
            await connection.execute(update(table).values(dict.fromkeys(columns)))
        for name in reversed(self.plan.order):
            self.current = name
            info = self.schema.tables[name]
            delete = info.table.delete()
            if info.only:  # rows of INHERITS children belong to those tables
                delete = delete.with_hint("ONLY", dialect_name="postgresql")
            await connection.execute(delete)

    async def _write_table(self, connection: AsyncConnection, converter: Converter) -> None:
        info = converter.info
        s, t = converter.staging, info.table
        broken = self.broken.get(info.name, set())
        refs = [k for k in converter.refs if k not in broken]
        await resolve_references(connection, converter, refs, self.files)
        skip = broken | self.deferred.get(info.name, set())
        skip |= self.enforced.foreign_keys.get(info.name, set())
        await check_dangling(connection, converter, info.column_keys - skip, self.files)
        await resolve_own_keys(connection, converter, self.files)
        if self.mode != "truncate":
            try:
                await mark_existing(
                    connection, converter, mode=self.mode, broken=broken, files=self.files
                )
            except DuplicateRecordError:
                await self._name_refused(connection, converter)  # a key given twice comes first
                raise
        pk_keys = converter.pk_keys
        generated = s.c[pk_keys[0]].is_(None) if len(pk_keys) == 1 else literal(False)
        groups = await _groups(connection, s, case((generated, 1), else_=0))
        total = sum(int(g[2]) for g in groups)
        counts = self.report.tables[info.name]
        if self.progress is not None:
            self.progress(info.name, 0, total)
        for shape, new_keys, rows, existing, same in groups:
            rows, existing, same = int(rows), int(existing), int(same)
            counts.inserted += rows - existing
            counts.updated += existing - same
            counts.unchanged += same
            if rows == same:
                continue
            self._written.add(info.name)
            given = [k for k, bit in zip(converter.data_keys, shape, strict=True) if bit == "1"]
            made = [k for k in converter.defaults if k not in given]  # values made per record
            keys = [*given, *made] if new_keys else [*pk_keys, *given, *made]
            for key, sequence in info.sequences.items():
                if key not in keys:  # its default draws once per row (conflicting ones too)
                    self._drawn[sequence.name] = self._drawn.get(sequence.name, 0) + rows - same
            group = [s.c[SHAPE] == shape, s.c[SAME] == 0, generated if new_keys else ~generated]

            upsert = self.mode == "merge" and existing > same and not new_keys
            statement = self._statement(
                converter, keys, given, group, ordered=bool(new_keys), upsert=upsert
            )
            await self._insert(connection, converter, statement, group)
            if new_keys and broken:
                # The UPDATE of the broken keys finds these rows by their new primary key.
                assert info.natural_key is not None
                match = and_(*(t.c[k] == s.c[k] for k in info.natural_key))
                found = select(t.c[pk_keys[0]]).where(match).limit(1).scalar_subquery()
                await connection.execute(
                    update(s).where(s.c[NATURAL] == 1, generated).values({pk_keys[0]: found})
                )
        if self.progress is not None:
            self.progress(info.name, total, total)

    def _statement(
        self,
        converter: Converter,
        keys: list[str],
        given: list[str],
        group: list[Any],
        *,
        ordered: bool,
        upsert: bool,
    ) -> Callable[..., Any]:
        """The ``INSERT ... SELECT`` of one group of staged rows, narrowed by extra conditions."""
        s, t = converter.staging, converter.info.table
        pk_keys = converter.pk_keys
        broken = self.broken.get(converter.info.name, set())
        factory: Any = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(
            self.schema.dialect.name, insert
        )

        selected = select_for(converter.info, keys)  # OVERRIDING SYSTEM VALUE when needed

        def statement(*narrower: Any) -> Any:
            chosen = selected(*(null().label(k) if k in broken else s.c[k] for k in keys))
            chosen = chosen.where(*group, *narrower)
            if ordered:  # generated keys follow the order of the records
                chosen = chosen.order_by(s.c[FILE], s.c[RECORD])
            stmt = factory(t).from_select(keys, chosen)
            if upsert:
                # Only what the records give: a stored row keeps its other columns.
                others = [k for k in keys if k in given]
                if others:
                    stmt = stmt.on_conflict_do_update(
                        index_elements=pk_keys, set_={k: stmt.excluded[k] for k in others}
                    )
                else:
                    stmt = stmt.on_conflict_do_nothing(index_elements=pk_keys)
            return stmt

        return statement

    async def _insert(
        self,
        connection: AsyncConnection,
        converter: Converter,
        statement: Callable[..., Any],
        group: list[Any],
    ) -> None:
        """Run ``statement()``; when the database refuses it, name the record that caused it.

        PostgreSQL aborts the transaction on an error, so the statement runs in a savepoint
        there; SQLite undoes only the failed statement by itself.
        """
        try:
            if connection.dialect.name == "postgresql":
                async with connection.begin_nested():
                    await connection.execute(statement())
            else:
                await connection.execute(statement())
        except IntegrityError as exc:
            if exc.connection_invalidated:
                raise
            await self._name_refused(connection, converter)
            error = integrity_error(exc, converter.info.name, self.schema)
            named = await locate_clash(connection, error, converter, self.files, exc)
            if named is error:
                named = await self._first_refused(connection, converter, statement, group, error)
            raise named from exc

    async def _name_refused(self, connection: AsyncConnection, converter: Converter) -> None:
        """Run the scans left to the database's constraints (see ``_enforced``) after it refused.

        Each raises the error it would have raised before the writes, naming the record.
        """
        name = converter.info.name
        if name in self.enforced.primary_keys:
            await check_duplicates(connection, converter, self.files)
        keys = self.enforced.foreign_keys.get(name)
        if keys:
            await check_dangling(connection, converter, keys, self.files)

    async def _first_refused(
        self,
        connection: AsyncConnection,
        converter: Converter,
        statement: Callable[..., Any],
        group: list[Any],
        error: FixtureIntegrityError,
    ) -> FixtureIntegrityError:
        """``error`` naming the first record whose row the database refuses (a CHECK, say).

        Tries ever shorter runs of the statement's rows, each rolled back: the first record
        that makes a run fail is the one. About log2(rows) statements, only when a load fails.
        """
        s = converter.staging
        order = (s.c[FILE], s.c[RECORD])
        found = await connection.execute(select(*order).where(*group).order_by(*order))
        records = [tuple(row) for row in found]
        low, high = 0, len(records) - 1  # the culprit is at most records[high], if any
        culprit = None
        while low <= high:
            middle = (low + high) // 2
            until = tuple_(*order) <= tuple_(*(literal(v) for v in records[middle]))
            try:
                async with connection.begin_nested() as savepoint:
                    await connection.execute(statement(until))
                    await savepoint.rollback()
                low = middle + 1
            except IntegrityError as exc:
                if exc.connection_invalidated:
                    raise
                culprit = records[middle]
                high = middle - 1
        if culprit is None:
            return error
        path, record = self.files[culprit[0]], culprit[1]
        return FixtureIntegrityError(
            f"{path} record {record}: {error}",
            table=error.table,
            constraint=error.constraint,
            path=path,
            record=record,
        )

    async def _write_later(self, connection: AsyncConnection, converter: Converter) -> None:
        info = converter.info
        s, t = converter.staging, info.table
        broken = self.broken[info.name]
        await resolve_references(connection, converter, sorted(broken), self.files)
        await check_dangling(connection, converter, broken, self.files)
        same_key = and_(*(t.c[k] == s.c[k] for k in converter.pk_keys))
        # Keep the fixture's values in columns such as updated_at: an UPDATE would otherwise
        # fire their onupdate and change the row the fixture describes.
        kept = {c.key: c for c in t.columns if c.onupdate is not None}
        for key in sorted(broken):
            await connection.execute(
                update(t)
                .where(same_key, s.c[key].is_not(None), s.c[SAME] == 0)
                .values({key: s.c[key], **kept})
            )


def _in_cycle(edge: Edge, plan: LoadPlan, schema: Schema, names: list[str]) -> bool:
    kept = [e for e in schema.edges(names) if e not in plan.broken]
    for component in strongly_connected(names, kept):
        if edge.child in component and edge.parent in component:
            return len(component) > 1 or edge.child == edge.parent
    return False


async def _groups(connection: AsyncConnection, s: Any, is_generated: Any) -> list[Any]:
    """The staged rows by shape and by key made or given: (shape, made, rows, exist, same).

    Most fixtures have one shape and give every key: one pass without a sort tells, and the
    ``GROUP BY`` (a sort of the staging table) runs only when there are several groups.
    """
    counts = (
        func.count(),
        func.coalesce(func.sum(s.c[EXISTS]), 0),
        func.coalesce(func.sum(s.c[SAME]), 0),
    )
    summary: Any = (
        await connection.execute(
            select(
                func.min(s.c[SHAPE]),
                func.max(s.c[SHAPE]),
                func.coalesce(func.sum(is_generated), 0),
                *counts,
            )
        )
    ).one()
    low, high, made, rows = summary[0], summary[1], int(summary[2]), int(summary[3])
    if rows == 0:
        return []
    if low == high and made in (0, rows):
        return [(low, 1 if made else 0, rows, summary[4], summary[5])]
    found = await connection.execute(
        select(s.c[SHAPE], is_generated, *counts).group_by(s.c[SHAPE], is_generated)
    )
    return list(found.all())
