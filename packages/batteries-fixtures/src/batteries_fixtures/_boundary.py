"""Foreign keys across the edge of a dump or a truncating load, refused before anything happens.

- A dump of some tables (``--exclude``, table names) whose rows point at a table it leaves out
  would load only where those rows exist: refused, naming each such foreign key, unless
  ``allow_dangling``. Only foreign keys some row actually uses count (one query each). A subset
  (``--where``) counts only the rows it keeps, and without ``--with-related`` also refuses rows
  that point at rows another table's ``--where`` leaves out (one anti-join each).
- ``--truncate`` deletes the fixture's rows first; rows of other tables pointing at them would
  make the database refuse halfway (or, with ``ON DELETE CASCADE`` / ``SET NULL``, change tables
  the fixture does not hold): refused, naming those tables. PostgreSQL's catalog sees every
  referencing table, partitions and other schemas included.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, exists, inspect, literal_column, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from batteries_fixtures._schema import Schema
from batteries_fixtures._subset import Subset, not_null, only
from batteries_fixtures.exceptions import FixtureSchemaError

__all__ = ["refuse_dangling", "refuse_outside_children"]


async def refuse_dangling(
    connection: AsyncConnection, schema: Schema, chosen: list[str], subset: Subset | None = None
) -> None:
    """Refuse a dump whose rows point at tables, or rows, it does not include.

    With a ``subset``, only the rows it keeps count, and a foreign key into a table it limits
    (``--where`` without ``--with-related``) counts when a kept row points at a row left out:
    one anti-join per such foreign key.

    Raises:
        FixtureSchemaError: Naming every foreign key some row uses into a table or rows left
            out.
    """
    inside = set(chosen)
    dangling: list[str] = []
    left_out: list[str] = []
    for name in sorted(chosen):
        info = schema.tables[name]
        kept = subset.rows(name) if subset is not None else None
        for fk in sorted(
            info.table.foreign_key_constraints, key=lambda k: [c.key for c in k.columns]
        ):
            target = fk.referred_table.fullname
            pointing = list(fk.columns)
            rows: Select[Any] = (
                select(literal_column("1")).select_from(info.table).where(not_null(pointing))
            )
            if kept is not None:
                rows = rows.where(kept)
            if target in inside:
                if subset is None or subset.related or subset.rows(target) is None:
                    continue
                pairs = list(fk.elements)
                there = subset.kept(schema, target, [e.column for e in pairs])
                found = exists().where(*(there.c[f"k{i}"] == e.parent for i, e in enumerate(pairs)))
                rows = rows.where(~found.select_from(there))
            if (await connection.execute(select(only(rows, info).exists()))).scalar():
                columns = ", ".join(c.name for c in fk.columns)
                (left_out if target in inside else dangling).append(
                    f"{name}({columns}) -> {target}"
                )
    if dangling:
        targets = sorted({d.rpartition(" -> ")[2] for d in dangling})
        msg = (
            f"The dump would leave rows pointing at tables it does not include: "
            f"{', '.join(dangling)}; dump {', '.join(targets)} too"
            f"{', or add --with-related' if _helps(schema, subset, targets) else ''}, or "
            "pass --allow-dangling when the database you load into has those rows"
        )
        raise FixtureSchemaError(msg, table=dangling[0].partition("(")[0])
    if left_out:
        msg = (
            f"The dump would leave rows pointing at rows its --where leaves out: "
            f"{', '.join(left_out)}; add --with-related to dump the rows they point at too, "
            "or pass --allow-dangling when the database you load into has those rows"
        )
        raise FixtureSchemaError(msg, table=left_out[0].partition("(")[0])


def _helps(schema: Schema, subset: Subset | None, targets: list[str]) -> bool:
    """Whether ``--with-related`` would bring one of the ``targets`` in."""
    excluded = subset.excluded if subset is not None else frozenset()
    related = subset is not None and subset.related
    return not related and any(t in schema.tables and t not in excluded for t in targets)


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
