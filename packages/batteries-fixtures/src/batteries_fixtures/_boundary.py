"""Foreign keys across the edge of a dump or a truncating load, refused before anything happens.

- A dump of some tables (``--exclude``, table names) whose rows point at a table it leaves out
  would load only where those rows exist: refused, naming each such foreign key, unless
  ``allow_dangling``. Only foreign keys some row actually uses count (one query each).
- ``--truncate`` deletes the fixture's rows first; rows of other tables pointing at them would
  make the database refuse halfway (or, with ``ON DELETE CASCADE`` / ``SET NULL``, change tables
  the fixture does not hold): refused, naming those tables. PostgreSQL's catalog sees every
  referencing table, partitions and other schemas included.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import exists, inspect, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from batteries_fixtures._schema import Schema
from batteries_fixtures.exceptions import FixtureSchemaError

__all__ = ["refuse_dangling", "refuse_outside_children"]


async def refuse_dangling(connection: AsyncConnection, schema: Schema, chosen: list[str]) -> None:
    """Refuse a dump whose rows point at tables it does not include.

    Raises:
        FixtureSchemaError: Naming every foreign key some row uses into a table left out.
    """
    inside = set(chosen)
    dangling: list[str] = []
    for name in sorted(chosen):
        table = schema.tables[name].table
        for fk in sorted(table.foreign_key_constraints, key=lambda k: [c.key for c in k.columns]):
            target = fk.referred_table.fullname
            if target in inside:
                continue
            used = exists().where(*(c.is_not(None) for c in fk.columns)).select_from(table)
            if (await connection.execute(select(used))).scalar():
                columns = ", ".join(c.name for c in fk.columns)
                dangling.append(f"{name}({columns}) -> {target}")
    if not dangling:
        return
    targets = sorted({d.rpartition(" -> ")[2] for d in dangling})
    msg = (
        f"The dump would leave rows pointing at tables it does not include: "
        f"{', '.join(dangling)}; dump {', '.join(targets)} too, or pass --allow-dangling when "
        "the database you load into has those rows"
    )
    raise FixtureSchemaError(msg, table=dangling[0].partition("(")[0])


_REFERENCING = """
SELECT c.conrelid::regclass::text, c.confrelid::regclass::text, c.conname,
       ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY AS k(n, i)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n
             ORDER BY k.i)
FROM pg_catalog.pg_constraint c
WHERE c.contype = 'f' AND c.conparentid = 0
  AND COALESCE(pg_catalog.pg_partition_root(c.confrelid), c.confrelid)
      = ANY(ARRAY(SELECT to_regclass(q) FROM unnest(CAST(:quoted AS text[])) q))
  AND COALESCE(pg_catalog.pg_partition_root(c.conrelid), c.conrelid)
      <> ALL(ARRAY(SELECT to_regclass(q) FROM unnest(CAST(:quoted AS text[])) q))
ORDER BY 1, 3
"""


async def refuse_outside_children(
    connection: AsyncConnection, schema: Schema, names: Iterable[str]
) -> None:
    """Refuse to truncate tables that rows of tables outside ``names`` point at.

    Raises:
        FixtureSchemaError: Naming the referencing tables and their foreign keys.
    """
    tables = sorted(names)
    found: list[tuple[str, str, list[str]]] = await connection.run_sync(
        _referencing, schema, tables
    )
    preparer = connection.dialect.identifier_preparer
    blocking: list[str] = []
    for child, parent, columns in found:
        used = " AND ".join(f"{preparer.quote(c)} IS NOT NULL" for c in columns)
        query = f"SELECT EXISTS (SELECT 1 FROM {child} WHERE {used})"
        if (await connection.exec_driver_sql(query)).scalar():
            blocking.append(f"{child}({', '.join(columns)}) -> {parent}")
    if not blocking:
        return
    children = sorted({b.partition("(")[0] for b in blocking})
    msg = (
        f"--truncate would delete rows that rows of tables outside the fixture point at: "
        f"{', '.join(blocking)}; add {', '.join(children)} to the fixture (their rows are then "
        "replaced too), or load without --truncate to merge"
    )
    raise FixtureSchemaError(msg, table=blocking[0].rpartition(" -> ")[2])


def _referencing(sync: Connection, schema: Schema, names: list[str]) -> list[Any]:
    """``(child, parent, columns)`` of each foreign key from outside ``names`` into them.

    Child and parent are ready to appear in SQL (quoted as the database prints them).
    """
    preparer = sync.dialect.identifier_preparer
    quoted = {name: preparer.format_table(schema.tables[name].table) for name in names}
    if sync.dialect.name == "postgresql":
        rows = sync.execute(text(_REFERENCING), {"quoted": list(quoted.values())}).all()
        return [(child, parent, list(columns)) for child, parent, _name, columns in rows]
    inspector = inspect(sync)
    # SQLite's foreign keys name a table of their own database, case-insensitively.
    inside = {
        schema.tables[name].table.name.lower(): name
        for name in names
        if schema.tables[name].table.schema is None
    }
    result: list[Any] = []
    for table in sorted(inspector.get_table_names()):
        if table.lower() in inside:
            continue
        for fk in inspector.get_foreign_keys(table):
            parent = inside.get(str(fk["referred_table"]).lower())
            if parent is None:
                continue
            result.append((preparer.quote(table), quoted[parent], fk["constrained_columns"]))
    return result
