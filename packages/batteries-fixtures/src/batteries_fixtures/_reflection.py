"""What SQLAlchemy's reflection does not say about a database, read from its catalog once.

- **Schemas.** Every table visible through the search path is named bare (``film``); a table of a
  schema named with ``schemas`` that the search path does not show is ``schema.table``. Each
  table is reflected once, whichever way it is reached.
- **Partitions.** A partitioned table is one table: its partitions are not tables of their own
  (selecting or inserting through the parent reaches them), and the foreign keys declared on
  its partitions only (as databases made before PostgreSQL 11 do) become the parent's, so the
  parent is ordered after the tables its rows point at.
- **Columns.** Generated columns (``GENERATED ALWAYS AS (...) STORED``), identity columns, and
  every sequence a column default calls (``nextval(...)``, owned by the column or not), so the
  models need not declare them.
- **Inheritance.** A table with ``INHERITS`` children is read with ``ONLY``: its children's rows
  are theirs, not its own.

PostgreSQL 12 or later (``pg_partition_root``); SQLite has none of these but generated columns,
which SQLAlchemy reflects, and attached databases as schemas.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Exists,
    ForeignKeyConstraint,
    MetaData,
    Table,
    exists,
    inspect,
    literal,
    select,
    text,
)
from sqlalchemy.engine import Connection

from batteries_fixtures.exceptions import FixtureSchemaError

__all__ = [
    "Catalog",
    "ColumnFacts",
    "SequenceRef",
    "column_facts",
    "own_rows_exist",
    "read_catalog",
    "reflect",
    "unknown_table_hint",
]

# Bookkeeping tables of migration tools: never data to dump when reflecting.
_SKIPS = frozenset({"alembic_version"})


@dataclass(frozen=True)
class SequenceRef:
    """A sequence a column default draws from.

    Attributes:
        name: Its name as PostgreSQL prints a ``regclass`` (quoted, schema when needed).
        increment: Its ``INCREMENT BY``; negative for a descending sequence.
    """

    name: str
    increment: int


@dataclass
class ColumnFacts:
    """What the catalog says about one table's columns, by column name.

    Attributes:
        generated: Generated (computed) columns.
        identity: Identity columns, with ``True`` for ``GENERATED ALWAYS``.
        sequences: The sequence each column's default draws from, for integer columns.
    """

    generated: set[str] = field(default_factory=set)
    identity: dict[str, bool] = field(default_factory=dict)
    sequences: dict[str, SequenceRef] = field(default_factory=dict)


@dataclass
class Catalog:
    """The tables of the database that reflection must treat apart (PostgreSQL).

    Attributes:
        partitions: Fixture name of every partition, to the name of its top partitioned table.
        inherited: Tables with ``INHERITS`` children (not partitions), read with ``ONLY``.
        visible: ``(schema, table)`` of every table the search path shows unqualified.
        names: The fixture name of every table, by oid.
    """

    partitions: dict[str, str] = field(default_factory=dict)
    inherited: set[str] = field(default_factory=set)
    visible: set[tuple[str, str]] = field(default_factory=set)
    names: dict[int, str] = field(default_factory=dict)


_TABLES = """
SELECT c.oid, n.nspname, c.relname, pg_catalog.pg_table_is_visible(c.oid),
       CASE WHEN c.relispartition THEN pg_catalog.pg_partition_root(c.oid)::oid END,
       EXISTS (SELECT 1 FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class k
               ON k.oid = i.inhrelid WHERE i.inhparent = c.oid AND NOT k.relispartition)
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND c.relpersistence <> 't'
  AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
"""


_OLDEST_POSTGRESQL = (12,)
"""``pg_partition_root`` came with PostgreSQL 12."""


def read_catalog(sync: Connection) -> Catalog:
    """Partitions, inheritance parents and visible tables of a PostgreSQL database."""
    catalog = Catalog()
    if sync.dialect.name != "postgresql":
        return catalog
    version = sync.dialect.server_version_info or ()
    if version < _OLDEST_POSTGRESQL:
        shown = ".".join(str(part) for part in version)
        msg = (
            f"Fixtures need PostgreSQL 12 or later, and this server is {shown}: "
            "upgrade the server, or dump it with pg_dump"
        )
        raise FixtureSchemaError(msg)
    rows = sync.execute(text(_TABLES)).all()
    for oid, schema, table, visible, _root, _inherited in rows:
        catalog.names[int(oid)] = table if visible else f"{schema}.{table}"
        if visible:
            catalog.visible.add((schema, table))
    for oid, _schema, _table, _visible, root, inherited in rows:
        name = catalog.names[int(oid)]
        if root is not None:
            catalog.partitions[name] = catalog.names[int(root)]
        if inherited:
            catalog.inherited.add(name)
    return catalog


def searched_schemas(sync: Connection, schemas: Sequence[str]) -> list[str]:
    """The named schemas that exist; refuse one that does not, naming those that do."""
    if not schemas:
        return []
    known = [s for s in inspect(sync).get_schema_names() if s != "information_schema"]
    for name in schemas:
        if name not in known:
            msg = (
                f"Unknown schema {name!r}: the database has {', '.join(sorted(known))}; "
                "check the --schema option"
            )
            raise FixtureSchemaError(msg)
    return list(dict.fromkeys(schemas))


def reflect(
    sync: Connection, metadata: MetaData, catalog: Catalog, schemas: Sequence[str]
) -> list[Table]:
    """Reflect the tables of the search path and of ``schemas`` into ``metadata``.

    Returns the tables a fixture holds: partitions and migration bookkeeping left out, each
    partitioned table with the foreign keys of its partitions.
    """
    named = searched_schemas(sync, schemas)
    default = inspect(sync).default_schema_name

    def wanted(schema: str | None) -> Any:
        def only(table: str, _metadata: MetaData) -> bool:
            if table in _SKIPS:
                return False
            if schema is None:
                return table not in catalog.partitions
            # A table the search path shows is reflected once, under its bare name.
            if (schema, table) in catalog.visible:
                return False
            return f"{schema}.{table}" not in catalog.partitions

        return only

    metadata.reflect(bind=sync, only=wanted(None))
    for schema in named:
        if schema != default:
            metadata.reflect(bind=sync, schema=schema, only=wanted(schema))
    if catalog.partitions:
        _adopt_partition_keys(sync, metadata, catalog)
    return [
        t
        for t in metadata.tables.values()
        if t.name not in _SKIPS and t.fullname not in catalog.partitions
    ]


_PARTITION_KEYS = """
SELECT pg_catalog.pg_partition_root(c.conrelid)::oid, c.conname, c.confrelid,
       ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY AS k(n, i)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n
             ORDER BY k.i),
       ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY AS k(n, i)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n
             ORDER BY k.i),
       c.condeferrable, c.condeferred
FROM pg_catalog.pg_constraint c JOIN pg_catalog.pg_class p ON p.oid = c.conrelid
WHERE c.contype = 'f' AND p.relispartition AND c.conparentid = 0
ORDER BY 1, c.conname
"""


def _adopt_partition_keys(sync: Connection, metadata: MetaData, catalog: Catalog) -> None:
    """Give each partitioned table the foreign keys declared on its partitions only.

    Keys declared on the parent are cloned to every partition (``conparentid`` set) and are
    the parent's already; the others are copied once per distinct key (columns, referred
    table and columns). Partitions have the parent's columns, by name.
    """
    for root, name, referred, columns, referred_columns, deferrable, deferred in sync.execute(
        text(_PARTITION_KEYS)
    ).all():
        parent = metadata.tables.get(catalog.names.get(int(root), ""))
        target_name = catalog.names.get(int(referred))
        if parent is None or target_name is None:
            continue
        target_name = catalog.partitions.get(target_name, target_name)
        target = _table(sync, metadata, target_name)
        if any(
            [c.name for c in fk.columns] == list(columns)
            and fk.referred_table is target
            and [e.column.name for e in fk.elements] == list(referred_columns)
            for fk in parent.foreign_key_constraints
        ):
            continue
        parent.append_constraint(
            ForeignKeyConstraint(
                list(columns),
                [target.c[c] for c in referred_columns],
                name=name,
                deferrable=bool(deferrable) or None,
                initially="DEFERRED" if deferred else None,
            )
        )


def _table(sync: Connection, metadata: MetaData, name: str) -> Table:
    """The reflected table of fixture name ``name``, reflected now if it was not yet."""
    found = metadata.tables.get(name)
    if found is not None:
        return found
    schema, _, table = name.rpartition(".")
    return Table(table, metadata, schema=schema or None, autoload_with=sync)


_COLUMNS = """
WITH t AS (
    SELECT name, to_regclass(quoted) AS relid
    FROM unnest(CAST(:names AS text[]), CAST(:quoted AS text[])) AS t(name, quoted)
), drawn AS (
    SELECT ad.adrelid AS relid, ad.adnum AS attnum, d.refobjid AS seq
    FROM pg_catalog.pg_attrdef ad
    JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_attrdef'::regclass
         AND d.objid = ad.oid AND d.refclassid = 'pg_catalog.pg_class'::regclass
    WHERE ad.adrelid IN (SELECT relid FROM t)
    UNION
    SELECT d.refobjid, d.refobjsubid, d.objid
    FROM pg_catalog.pg_depend d
    WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.deptype = 'i'
      AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid IN (SELECT relid FROM t)
), sequences AS (
    SELECT drawn.relid, drawn.attnum, s.oid::regclass::text AS name, p.seqincrement
    FROM drawn
    JOIN pg_catalog.pg_class s ON s.oid = drawn.seq AND s.relkind = 'S'
    JOIN pg_catalog.pg_sequence p ON p.seqrelid = s.oid
)
SELECT DISTINCT ON (t.name, a.attnum)
       t.name, a.attname, a.attidentity <> '', a.attidentity = 'a', a.attgenerated <> '',
       q.name, q.seqincrement
FROM t
JOIN pg_catalog.pg_attribute a
  ON a.attrelid = t.relid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_catalog.pg_type y ON y.oid = a.atttypid
LEFT JOIN sequences q
  ON q.relid = a.attrelid AND q.attnum = a.attnum
 AND COALESCE(NULLIF(y.typbasetype, 0), a.atttypid)
     IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype, 'numeric'::regtype)
WHERE a.attidentity <> '' OR a.attgenerated <> '' OR q.name IS NOT NULL
ORDER BY t.name, a.attnum, q.name
"""


def column_facts(sync: Connection, tables: Iterable[tuple[str, Table]]) -> dict[str, ColumnFacts]:
    """Generated, identity and sequence-drawing columns of ``(fixture name, table)`` pairs.

    One catalog query on PostgreSQL; on SQLite only the generated columns SQLAlchemy knows.
    """
    pairs = list(tables)
    facts: dict[str, ColumnFacts] = {name: ColumnFacts() for name, _ in pairs}
    for name, table in pairs:
        facts[name].generated.update(c.name for c in table.columns if c.computed is not None)
    if sync.dialect.name != "postgresql" or not pairs:
        return facts
    preparer = sync.dialect.identifier_preparer
    rows = sync.execute(
        text(_COLUMNS),
        {
            "names": [name for name, _ in pairs],
            "quoted": [preparer.format_table(table) for _, table in pairs],
        },
    ).all()
    for name, column, identity, always, generated, sequence, increment in rows:
        found = facts[name]
        if generated:
            found.generated.add(column)
        if identity:
            found.identity[column] = bool(always)
        if sequence is not None:
            found.sequences[column] = SequenceRef(str(sequence), int(increment))
    return facts


def unknown_table_hint(name: str, partitions: dict[str, str], schemas: Sequence[str]) -> str:
    """What to do about a table name the schema lacks: a partition, or an unsearched schema."""
    parent = partitions.get(name)
    if parent is not None:
        return (
            f"; {name!r} is a partition of {parent!r}: its rows are dumped and loaded as part "
            f"of {parent!r}"
        )
    schema, dot, _ = name.rpartition(".")
    if dot and schema not in schemas:
        return f"; for a table of schema {schema!r}, pass --schema {schema}"
    return ""


def own_rows_exist(table: Table, *conditions: ColumnElement[bool], only: bool) -> Exists:
    """``EXISTS`` a row of ``table`` meeting ``conditions``; with ``only``, not a child's row."""
    if not only:
        return exists().where(*conditions)
    return exists(select(literal(1)).where(*conditions).with_hint(table, "ONLY", "postgresql"))
