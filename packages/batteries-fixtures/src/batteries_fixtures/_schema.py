"""The tables a dump or load works on: from models, a MetaData, or by reflecting the database."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlalchemy import Column, ForeignKeyConstraint, MetaData, Table, inspect
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from batteries_fixtures._codecs import Codec, codec_for
from batteries_fixtures._graph import Edge
from batteries_fixtures._pg_types import give_domains_operators, register_types
from batteries_fixtures._reflection import (
    Catalog,
    ColumnFacts,
    SequenceRef,
    column_facts,
    read_catalog,
    reflect,
)
from batteries_fixtures.exceptions import FixtureSchemaError

__all__ = ["Models", "Schema", "TableInfo", "load_schema"]

Models = str | MetaData | Iterable[type[Any] | Table] | None
"""Where the tables come from: a models module path, a ``MetaData``, classes/``Table`` objects,
or ``None`` to reflect the database."""


@dataclass
class TableInfo:
    """One table and what fixtures need to know about it.

    Attributes:
        table: The SQLAlchemy table.
        name: Its name in fixtures (``schema.name`` when in a schema).
        pk: Its primary-key columns.
        natural_key: Column keys of its natural key, when it declares one.
        codecs: The codec of each column, by column key.
        references: For one-column foreign keys to a one-column primary key, the referenced
            table name by column key.
        unsupported: Columns whose type has no codec, with the reason.
        generated: Keys of generated (computed) columns: the database writes them, so
            fixtures leave them out.
        identity: Keys of identity columns, ``True`` for ``GENERATED ALWAYS`` (an insert that
            gives one says ``OVERRIDING SYSTEM VALUE``).
        sequences: The sequence each column's default draws from, by column key (PostgreSQL).
        only: The table has ``INHERITS`` children, whose rows are read apart (``ONLY``).
        transforms: The rules its model declares (``__fixture_transforms__``, or the
            ``Table``'s ``info["fixture_transforms"]``), by column key (``"*"``: the record).
    """

    table: Table
    name: str
    pk: list[Column[Any]]
    natural_key: tuple[str, ...] | None
    codecs: dict[str, Codec]
    references: dict[str, str] = field(default_factory=dict)
    unsupported: dict[str, str] = field(default_factory=dict)
    generated: frozenset[str] = frozenset()
    identity: dict[str, bool] = field(default_factory=dict)
    sequences: dict[str, SequenceRef] = field(default_factory=dict)
    only: bool = False
    transforms: dict[str, Any] = field(default_factory=dict)

    def check_supported(self) -> None:
        """Raise ``FixtureSchemaError`` when a column type has no fixture codec."""
        for key, reason in self.unsupported.items():
            msg = (
                f"Column {self.name}.{key} cannot be written to or read from a fixture: "
                f"{reason}; exclude table {self.name!r}"
            )
            raise FixtureSchemaError(msg, table=self.name, field=key)

    @cached_property
    def pk_keys(self) -> list[str]:
        """Keys of the primary-key columns, in order."""
        return [c.key for c in self.pk]

    @cached_property
    def columns(self) -> list[Column[Any]]:
        """The columns a fixture holds, in table order: every one but the generated ones."""
        return [c for c in self.table.columns if c.key not in self.generated]

    @cached_property
    def column_keys(self) -> frozenset[str]:
        """Keys of the columns a fixture holds (generated columns left out)."""
        return frozenset(c.key for c in self.columns)

    @cached_property
    def required(self) -> tuple[str, ...]:
        """Columns a record must give: NOT NULL and without any default."""
        return tuple(
            c.key
            for c in self.columns
            if not c.nullable
            and c.default is None
            and c.server_default is None
            and c.key not in self.identity
        )

    @cached_property
    def generated_key(self) -> str | None:
        """The autoincrement column, which a record may leave out when it has a natural key."""
        column = self.table.autoincrement_column
        return None if column is None else column.key

    @property
    def surrogate_pk(self) -> bool:
        """The primary key can be left out (``--natural-primary``) and found again on load.

        True when the table has a natural key, a one-column primary key outside it, and the
        database or the column default can generate that key.
        """
        if self.natural_key is None or len(self.pk) != 1:
            return False
        column = self.pk[0]
        if column.key in self.natural_key:
            return False
        generated = column is self.table.autoincrement_column
        return generated or column.default is not None or column.server_default is not None


@dataclass
class Schema:
    """The tables of one dump or load, by fixture name.

    Attributes:
        tables: Every table, by fixture name.
        dialect: The database's dialect.
        partitions: Partitions (not tables of their own here), to their partitioned table.
        schemas: The schemas named to search besides the search path.
    """

    tables: dict[str, TableInfo]
    dialect: Dialect
    partitions: dict[str, str] = field(default_factory=dict)
    schemas: tuple[str, ...] = ()

    def edges(self, names: Iterable[str] | None = None) -> list[Edge]:
        """Foreign keys between the given tables (every table by default)."""
        chosen = set(self.tables if names is None else names)
        result: list[Edge] = []
        for name in sorted(chosen):
            info = self.tables[name]
            for fk in sorted(info.table.foreign_key_constraints, key=_fk_sort_key):
                parent = fk.referred_table.fullname
                if parent not in chosen:
                    continue
                result.append(
                    Edge(
                        child=name,
                        parent=parent,
                        key=fk,
                        # Setting a key later finds the row by its primary key: a table
                        # without one cannot have a cycle broken at its foreign keys.
                        nullable=bool(info.pk) and all(c.nullable for c in fk.columns),
                        deferrable=bool(fk.deferrable),
                    )
                )
        return result


def _fk_sort_key(fk: ForeignKeyConstraint) -> tuple[str, ...]:
    return tuple(c.key for c in fk.columns)


async def load_schema(
    connection: AsyncConnection, models: Models, schemas: Sequence[str] = ()
) -> Schema:
    """Collect the tables of ``models`` (or reflect them) that exist in the database.

    Reflection covers every schema of the search path and the schemas named in ``schemas``;
    partitions are not tables of their own (see ``_reflection``).

    Raises:
        FixtureSchemaError: A model's table does not exist in the database, a natural key
            names a column the table does not have, or a schema does not exist.
    """
    dialect = connection.dialect
    catalog: Catalog = await connection.run_sync(read_catalog)
    natural: dict[str, tuple[str, ...]] = {}
    transforms: dict[str, dict[str, Any]] = {}
    if models is None:
        metadata = MetaData()
        tables: list[Table] = await connection.run_sync(_reflect, metadata, catalog, schemas)
    else:
        if schemas:
            msg = (
                "--schema applies when the database is reflected; with models, each table's "
                "schema is its own (Table(..., schema=...)): leave --schema out"
            )
            raise FixtureSchemaError(msg)
        tables, natural, transforms = _tables_of(models)
        missing: list[str] = await connection.run_sync(_missing, tables)
        if missing:
            msg = (
                f"Table {missing[0]!r} of the models does not exist in the database: "
                "create it (run the migrations) or leave it out of the models"
            )
            raise FixtureSchemaError(msg, table=missing[0])
    infos: dict[str, TableInfo] = {}
    for table in tables:
        info = _table_info(table, natural.get(table.fullname), dialect)
        info.transforms = transforms.get(table.fullname) or dict(
            table.info.get("fixture_transforms") or {}
        )
        infos[table.fullname] = info
    facts: dict[str, ColumnFacts] = await connection.run_sync(
        column_facts, [(name, info.table) for name, info in infos.items()]
    )
    for name, info in infos.items():
        _apply_facts(info, facts[name], only=name in catalog.inherited)
    return Schema(
        tables=infos, dialect=dialect, partitions=catalog.partitions, schemas=tuple(schemas)
    )


def _missing(sync: Connection, tables: list[Table]) -> list[str]:
    """Names of ``tables`` the database does not have, sorted."""
    inspector = inspect(sync)
    existing: dict[str | None, set[str]] = {}
    missing: list[str] = []
    for table in tables:
        if table.schema not in existing:
            existing[table.schema] = set(inspector.get_table_names(schema=table.schema))
        if table.name not in existing[table.schema]:
            missing.append(table.fullname)
    return sorted(missing)


def _reflect(
    sync: Connection, metadata: MetaData, catalog: Catalog, schemas: Sequence[str]
) -> list[Table]:
    postgres = sync.dialect.name == "postgresql"
    if postgres:
        register_types(sync)  # no NullType (and no warning) for point, xml, ltree...
    tables = reflect(sync, metadata, catalog, schemas)
    if postgres:
        give_domains_operators(metadata)
    return tables


def _apply_facts(info: TableInfo, facts: ColumnFacts, *, only: bool) -> None:
    """Record what the catalog says of the table's columns (by name) on ``info`` (by key)."""
    key_of = {c.name: c.key for c in info.table.columns}
    info.generated = frozenset(key_of[n] for n in facts.generated)
    info.identity = {key_of[n]: always for n, always in facts.identity.items()}
    info.sequences = {key_of[n]: ref for n, ref in facts.sequences.items()}
    info.only = only
    for key in info.generated:  # never read nor written: a type without codec is no matter
        info.unsupported.pop(key, None)


def _tables_of(
    models: str | MetaData | Iterable[type[Any] | Table],
) -> tuple[list[Table], dict[str, tuple[str, ...]], dict[str, dict[str, Any]]]:
    """The tables of ``models``, with the natural keys and transforms their models declare."""
    natural: dict[str, tuple[str, ...]] = {}
    transforms: dict[str, dict[str, Any]] = {}

    def declared(name: str, model: Any) -> None:
        key = getattr(model, "__natural_key__", None)
        if key is not None:
            natural[name] = tuple(key)
        rules = getattr(model, "__fixture_transforms__", None)
        if rules:
            transforms[name] = dict(rules)

    if isinstance(models, str):
        from batteries_models import discover_models

        found = discover_models(models)
        for name, model in found.models.items():
            declared(name, model)
        return list(found.tables.values()), natural, transforms
    if isinstance(models, MetaData):
        return list(models.tables.values()), natural, transforms
    tables: list[Table] = []
    for item in models:
        if isinstance(item, Table):
            tables.append(item)
            continue
        table = getattr(item, "__table__", None)
        if not isinstance(table, Table):
            msg = f"{item!r} is neither a table model nor a Table"
            raise FixtureSchemaError(msg)
        tables.append(table)
        declared(table.fullname, item)
    return tables, natural, transforms


def _table_info(table: Table, declared: tuple[str, ...] | None, dialect: Dialect) -> TableInfo:
    natural_key = declared
    if natural_key is None and table.info.get("natural_key") is not None:
        natural_key = tuple(table.info["natural_key"])
    if natural_key is not None:
        for key in natural_key:
            if key not in table.c:
                msg = (
                    f"Natural key of table {table.fullname!r} names column {key!r}, which the "
                    "table does not have: fix __natural_key__ or info['natural_key']"
                )
                raise FixtureSchemaError(msg, table=table.fullname, field=key)
    codecs: dict[str, Codec] = {}
    unsupported: dict[str, str] = {}
    for column in table.columns:
        try:
            codecs[column.key] = codec_for(column, dialect)
        except (TypeError, ValueError) as exc:
            # Only a problem if this table is dumped or loaded: other tables must still work.
            unsupported[column.key] = str(exc)
    references: dict[str, str] = {}
    for fk in table.foreign_key_constraints:
        # Natural keys stand in for a primary key: only one-column FKs to one can use them.
        referred = fk.elements[0].column
        if len(fk.columns) == 1 and list(referred.table.primary_key.columns) == [referred]:
            references[next(iter(fk.columns)).key] = fk.referred_table.fullname
    return TableInfo(
        table=table,
        name=table.fullname,
        pk=list(table.primary_key.columns),
        natural_key=natural_key,
        codecs=codecs,
        references=references,
        unsupported=unsupported,
    )
