"""Make a SQLite migration one transaction, as it already is on PostgreSQL.

Python's ``sqlite3`` driver opens a transaction only before INSERT/UPDATE/DELETE, so every
``CREATE``/``ALTER``/``DROP`` of a migration ran in autocommit mode: a migration that failed half
way kept its first operations (and a batch table copy had already dropped the old table), while
the version row rolled back. SQLAlchemy's documented recipe ("Serializable isolation / Savepoints
/ Transactional DDL") takes BEGIN away from the driver and emits it from the ``begin`` event;
SQLite's DDL is transactional once it runs inside that BEGIN.

Foreign keys are OFF for the migration's connection, as the SQLite manual's ALTER procedure and
Django's schema editor do: a batch operation copies a table and drops the old one, and with
enforcement on that ``DROP TABLE`` deletes (``ON DELETE CASCADE``) or refuses the rows that refer
to it. ``PRAGMA foreign_keys`` is a no-op inside a transaction, so it is set on connect.
:func:`check_foreign_keys` runs ``PRAGMA foreign_key_check`` before the commit instead, so a
migration cannot commit rows that point nowhere.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

__all__ = ["DanglingReferencesError", "dangling_references", "use_transactional_ddl"]


class DanglingReferencesError(Exception):
    """SQLite's foreign key check found rows that point nowhere after the migrations ran."""

    def __init__(self, found: list[str], revision: str | None) -> None:
        super().__init__(f"rows refer to missing rows: {'; '.join(found)}")
        self.revision = revision


def use_transactional_ddl(engine: Engine) -> None:
    """Let SQLAlchemy, not the driver, emit BEGIN on ``engine``; foreign keys off."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=OFF")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # IMMEDIATE: take the write lock now, so a concurrent writer makes us wait (busy
        # timeout) instead of failing the migration half way with "database is locked".
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def dangling_references(connection: Connection, limit: int = 3) -> list[str]:
    """Describe rows whose foreign key points at no row: ``hero.team_id (rowid 4) -> team``."""
    rows = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    found: list[str] = []
    for table, rowid, parent, fk_index in rows[:limit]:
        columns = [
            fk[3]
            for fk in connection.exec_driver_sql(f'PRAGMA foreign_key_list("{table}")').all()
            if fk[0] == fk_index
        ]
        found.append(f"{table}.{','.join(columns) or '?'} (rowid {rowid}) -> {parent}")
    if len(rows) > limit:
        found.append(f"and {len(rows) - limit} more")
    return found
