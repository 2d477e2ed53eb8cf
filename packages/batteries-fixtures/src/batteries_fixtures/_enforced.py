"""The checks SQLite's own constraints make on a load's happy path, so the load skips them.

With ``PRAGMA foreign_keys`` on and nothing deferred, SQLite checks each ``INSERT ... SELECT``
at the end of the statement: a row pointing at a missing parent, or a primary key given twice,
fails it and nothing of it is written. Scanning every staged row first for an error that
almost never comes would cost about a tenth of a load; so for the keys the database checks
itself, the scans run only after it refused a statement, to name the record (the messages
stay the same). A key the database does not check (foreign keys off, a constraint the models
declare but the table lacks, a deferrable one, a table of an attached database) keeps its scan.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from batteries_fixtures._schema import Schema, TableInfo

__all__ = ["Enforced", "enforced_by_database"]


@dataclass
class Enforced:
    """What the database checks itself during the writes of a load.

    Attributes:
        foreign_keys: Per table, the single-column foreign keys (column keys) it checks.
        primary_keys: The tables whose primary key it keeps unique, where the fixture's
            records can only be told apart by that key (no natural key).
    """

    foreign_keys: dict[str, set[str]] = field(default_factory=dict)
    primary_keys: set[str] = field(default_factory=set)


async def enforced_by_database(
    connection: AsyncConnection,
    schema: Schema,
    names: Iterable[str],
    *,
    deferred: bool,
    inserts_only: bool,
) -> Enforced:
    """What SQLite checks at the end of each statement, for the tables ``names``.

    ``deferred``: the load defers foreign keys (a cycle), so they are checked at the commit,
    where no record can be named: every scan stays. ``inserts_only``: the writes are plain
    inserts (append, truncate), which a primary key given twice fails; a merge's upsert would
    let the second record overwrite the first instead.
    """
    found = Enforced()
    if schema.dialect.name != "sqlite":
        return found
    # A caller's own transaction may defer every key already (the pragma lasts until it ends).
    checks_keys = (
        not deferred
        and await _scalar(connection, "PRAGMA foreign_keys") == 1
        and await _scalar(connection, "PRAGMA defer_foreign_keys") == 0
    )
    for name in names:
        info = schema.tables[name]
        if info.table.schema is not None:  # an attached database: left to the scans
            continue
        quoted = connection.dialect.identifier_preparer.quote(info.table.name)
        if inserts_only and info.natural_key is None and info.pk:
            columns: Any = (await connection.exec_driver_sql(f"PRAGMA table_info({quoted})")).all()
            stored_pk = {str(row[1]).lower() for row in columns if row[5]}
            if stored_pk == {c.name.lower() for c in info.pk}:
                found.primary_keys.add(name)
        if checks_keys:
            keys = await _foreign_keys(connection, info, quoted)
            if keys:
                found.foreign_keys[name] = keys
    return found


async def _foreign_keys(connection: AsyncConnection, info: TableInfo, quoted: str) -> set[str]:
    """The model's single-column foreign keys that the stored table declares, not deferrable."""
    ddl = await _scalar(
        connection,
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
        (info.table.name,),
    )
    if not isinstance(ddl, str) or "DEFERRABLE" in ddl.upper():
        return set()  # "NOT DEFERRABLE" too: rare, and a scan is never wrong
    rows: Any = (await connection.exec_driver_sql(f"PRAGMA foreign_key_list({quoted})")).all()
    parts: dict[int, list[Any]] = {}
    for row in rows:
        parts.setdefault(int(row[0]), []).append(row)
    # SQLite's names are case-insensitive, as the DDL may spell them otherwise than the models.
    declared = {
        (str(row[3]).lower(), str(row[2]).lower(), None if row[4] is None else str(row[4]).lower())
        for group in parts.values()
        if len(group) == 1
        for row in group
    }
    keys: set[str] = set()
    for column in info.table.columns:
        if len(column.foreign_keys) != 1:
            continue
        referred = next(iter(column.foreign_keys)).column
        parent = referred.table
        if parent.schema is not None:
            continue
        implicit = [c.name for c in parent.primary_key.columns] == [referred.name]
        child_column, parent_name = column.name.lower(), parent.name.lower()
        if (child_column, parent_name, referred.name.lower()) in declared or (
            implicit and (child_column, parent_name, None) in declared
        ):
            keys.add(column.key)
    return keys


async def _scalar(connection: AsyncConnection, sql: str, parameters: tuple[Any, ...] = ()) -> Any:
    result = await connection.exec_driver_sql(sql, parameters)
    row = result.first()
    return None if row is None else row[0]
