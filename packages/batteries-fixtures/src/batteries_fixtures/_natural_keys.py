"""Natural keys: which references a fixture writes by natural key, and which it must refuse.

The rule: once natural keys are asked for (``natural_foreign``, implied by ``natural_primary``),
every reference to the primary key of a natural-key table is written as that row's natural key,
whether the referencing column is in a primary key or not, or the dump refuses naming the
foreign key. A raw key would load "successfully" into whatever row holds that key in the target
database. The same holds for a load: a raw key to rows the fixture gives by natural key only
names rows whose keys the target database has not assigned yet, so it is refused (``_checks``
refuses it in SQL on the staging tables).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any

from sqlalchemy import ForeignKeyConstraint, select
from sqlalchemy.ext.asyncio import AsyncConnection

from batteries_fixtures._convert import freeze
from batteries_fixtures._graph import Edge, plan_load, sort_tables, strongly_connected
from batteries_fixtures._schema import Schema, TableInfo
from batteries_fixtures.exceptions import FixtureSchemaError, UnresolvedReferenceError

__all__ = ["NaturalKeys"]


class NaturalKeys:
    """The natural key of every row of the tables whose natural key a dump writes, by primary key.

    Built in one pass per table, nested keys first. A row whose natural key has a NULL part, is
    shared with another row, or nests such a row cannot name one row on load: it is remembered,
    and the dump refuses only when it would write that key.
    """

    def __init__(self, schema: Schema, chosen: Iterable[str], *, natural_primary: bool) -> None:
        """Check the foreign keys of the tables ``chosen`` for a dump, and plan the natural keys.

        Raises:
            FixtureSchemaError: A foreign key to a natural-key table cannot be written as its
                natural key, or a natural key contains itself.
        """
        self._schema = schema
        chosen = list(chosen)
        self._omitted = [n for n in chosen if natural_primary and schema.tables[n].surrogate_pk]
        used = set(self._omitted)
        for name in chosen:
            info = schema.tables[name]
            used.update(t for k in info.references if (t := self._target(info, k)) is not None)
        pending = list(used)
        while pending:
            info = schema.tables[pending.pop()]
            for key in info.natural_key or ():
                target = self._target(info, key)
                if target is not None and target not in used:
                    used.add(target)
                    pending.append(target)
        nesting = [
            Edge(child=name, parent=target, key=key)
            for name in sorted(used)
            for key in schema.tables[name].natural_key or ()
            if (target := self._target(schema.tables[name], key)) is not None
        ]
        _refuse_nesting_cycles(used, nesting)
        _refuse_late_natural_keys(schema, chosen, self._omitted)
        for name in sorted(set(chosen) | used):
            _refuse_raw_foreign_keys(schema, schema.tables[name], whole=name in chosen)
        self._order = sort_tables(used, nesting)
        self._maps: dict[str, dict[Any, list[Any]]] = {}
        self._bad: dict[str, dict[Any, str]] = {}

    def _target(self, info: TableInfo, key: str) -> str | None:
        """The natural-key table column ``key`` points at, when it can be written as its key."""
        target = info.references.get(key)
        if target is None:
            return None
        target_info = self._schema.tables.get(target)
        if target_info is None or target_info.natural_key is None or len(target_info.pk) != 1:
            return None
        return target

    def has(self, table: str) -> bool:
        """Whether references to ``table`` are written as its natural key."""
        return table in self._maps

    async def prepare(self, connection: AsyncConnection) -> None:
        """Read the natural keys, nested ones first; refuse omitted keys that name no one row.

        Raises:
            UnresolvedReferenceError: A table whose primary key is left out has a row whose
                natural key is NULL or shared.
        """
        for name in self._order:
            await self._load(connection, name)
        for name in self._omitted:
            bad = self._bad[name]
            if bad:
                pk = min(bad, key=repr)
                msg = (
                    f"Table {name!r} row with primary key {pk!r} {bad[pk]}, so it cannot stand "
                    f"in for the primary key the dump leaves out: {_REMEDY}"
                )
                raise UnresolvedReferenceError(msg, table=name)

    async def _load(self, connection: AsyncConnection, name: str) -> None:
        info = self._schema.tables[name]
        natural = info.natural_key
        assert natural is not None
        shown = ", ".join(natural)
        columns = [info.table.c[k] for k in natural]
        nested = {k: t for k in natural if (t := self._target(info, k)) is not None}
        mapping: dict[Any, list[Any]] = {}
        bad: dict[Any, str] = {}
        seen: dict[Hashable, Any] = {}
        result = await connection.stream(select(info.pk[0], *columns))
        async for row in result:
            pk = row[0]
            parts: list[Any] = []
            problem: str | None = None
            for column, value in zip(columns, row[1:], strict=True):
                target = nested.get(column.key)
                if value is None:
                    problem = problem or f"has a NULL {column.key!r} in its natural key ({shown})"
                    parts.append(None)
                elif target is not None:
                    inner = self._maps[target].get(value)
                    if inner is None:
                        problem = problem or f"points at {target!r} {value!r}, which does not exist"
                    elif value in self._bad[target]:
                        problem = problem or (
                            f"nests {target!r} row {value!r} in its natural key, which "
                            f"{self._bad[target][value]}"
                        )
                    parts.append(inner)
                else:
                    parts.append(info.codecs[column.key].encode(value))
            if problem is None:
                frozen = freeze(parts)
                if frozen in seen:
                    first = seen[frozen]
                    problem = (
                        f"has the same natural key {parts!r} ({shown}) as primary key {first!r}"
                    )
                    bad.setdefault(
                        first, f"has the same natural key {parts!r} ({shown}) as primary key {pk!r}"
                    )
                else:
                    seen[frozen] = pk
            if problem is not None:
                bad[pk] = problem
            mapping[pk] = parts
        self._maps[name] = mapping
        self._bad[name] = bad

    def lookup(self, table: str, value: Any, child: str, field: str) -> list[Any]:
        """The natural key of ``table``'s row ``value``, which ``child``.``field`` points at.

        Raises:
            UnresolvedReferenceError: The row does not exist, or its natural key names no one row.
        """
        found = self._maps[table].get(value)
        if found is None:
            msg = (
                f"Table {child!r} field {field!r} points at {table} {value!r}, which does not "
                "exist: the database has a dangling foreign key"
            )
            raise UnresolvedReferenceError(msg, table=child, field=field)
        problem = self._bad[table].get(value)
        if problem is not None:
            msg = (
                f"Table {child!r} field {field!r} points at {table!r} row with primary key "
                f"{value!r}, which {problem}, so its natural key names no one row: {_REMEDY}"
            )
            raise UnresolvedReferenceError(msg, table=child, field=field)
        return found


_REMEDY = "make the natural key unique and NOT NULL, or dump without natural keys"


def _refuse_nesting_cycles(tables: set[str], nesting: list[Edge]) -> None:
    """A natural key that contains itself (directly or through others) has no finite form."""
    for component in strongly_connected(tables, nesting):
        members = set(component)
        inner = [e for e in nesting if e.child in members and e.parent in members]
        if not inner:
            continue
        edge = inner[0]
        where = (
            f"a foreign key back to {edge.child!r}"
            if edge.child == edge.parent
            else f"a foreign key to {edge.parent!r}, whose natural key leads back to {edge.child!r}"
        )
        msg = (
            f"Natural key of table {edge.child!r} contains {edge.key!r}, {where}: a natural key "
            f"cannot contain itself; take {edge.key!r} out of it or dump without natural keys"
        )
        raise FixtureSchemaError(msg, table=edge.child, field=str(edge.key))


def _refuse_late_natural_keys(schema: Schema, chosen: list[str], omitted: list[str]) -> None:
    """A row found by natural key cannot use a part that a load sets only after every insert.

    A load breaks a foreign-key cycle at its nullable foreign keys (NULL first, one UPDATE
    later), so such a part is unknown when the row is looked up: keep that table's key.
    """
    if not omitted:
        return
    plan = plan_load(chosen, schema.edges(chosen), can_defer_all=True)
    for edge in plan.broken:
        info = schema.tables[edge.child]
        fk = edge.key
        assert isinstance(fk, ForeignKeyConstraint)
        late = [c.key for c in fk.columns if c.key in (info.natural_key or ())]
        if edge.child in omitted and late:
            msg = (
                f"Table {info.name!r} cannot be dumped without its primary key: its natural key "
                f"contains {late[0]!r}, a foreign key of a cycle that a load sets only after "
                f"the rows are written; dump without --natural-primary or take {late[0]!r} out "
                "of the natural key"
            )
            raise FixtureSchemaError(msg, table=info.name, field=late[0])


def _refuse_raw_foreign_keys(schema: Schema, info: TableInfo, *, whole: bool) -> None:
    """Refuse a foreign key whose raw value is a key that differs between databases.

    ``whole``: every foreign key of the table is written (the table is dumped); otherwise only
    those in its natural key are (the table is only named by natural key).
    """
    in_key = set(info.natural_key or ())
    for fk in sorted(info.table.foreign_key_constraints, key=lambda f: [c.key for c in f.columns]):
        keys = [c.key for c in fk.columns]
        if not whole and not in_key.intersection(keys):
            continue
        target = schema.tables.get(fk.referred_table.fullname)
        if target is None:
            continue
        one = len(keys) == 1 and info.references.get(keys[0]) == target.name
        if one and target.natural_key is not None:
            continue  # written as the natural key
        if not any(_surrogate(schema, target, e.column.key) for e in fk.elements):
            continue  # the referenced values are data, written as they are
        _refuse(info, target, fk)


def _surrogate(schema: Schema, info: TableInfo, key: str) -> bool:
    """Column ``key`` of ``info`` holds a key that a natural-key dump replaces or leaves out."""
    if info.natural_key is not None and key in info.pk_keys:
        return True
    target = schema.tables.get(info.references.get(key, ""))
    return target is not None and target.natural_key is not None


def _refuse(info: TableInfo, target: TableInfo, fk: ForeignKeyConstraint) -> None:
    columns = ", ".join(c.key for c in fk.columns)
    referred = ", ".join(e.column.key for e in fk.elements)
    msg = (
        f"Foreign key {info.name}({columns}) -> {target.name}({referred}) cannot be written as "
        f"a natural key (only a one-column foreign key to a one-column primary key can), and "
        f"its raw keys would name other rows in another database: dump without natural keys, "
        f"or leave table {info.name!r} out"
    )
    raise FixtureSchemaError(msg, table=info.name, field=columns)
