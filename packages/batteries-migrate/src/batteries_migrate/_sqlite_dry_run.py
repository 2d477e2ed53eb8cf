"""A ``--sql`` dry run for SQLite batch operations: run them on a copy and record the SQL.

Alembic cannot render a SQLite batch ALTER offline: it copies the table, so it must reflect the
live table first. Running the real command on a backup of the database file gives the exact SQL
the upgrade would run, and leaves the real file untouched.
"""

from __future__ import annotations

import dataclasses
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from batteries_migrate._project import MigrationTarget

__all__ = ["can_copy", "copy_database", "render_statements", "temporary_folder"]

# Reads, Alembic's bookkeeping queries and our BEGIN are not part of what the upgrade changes.
_SKIPPED = ("SELECT", "PRAGMA", "BEGIN")


def can_copy(target: MigrationTarget) -> bool:
    """Whether ``target`` is a SQLite file that exists, so a copy can stand in for it."""
    database = target.url.database or ""
    if target.dialect != "sqlite" or database in ("", ":memory:") or database.startswith("file:"):
        return False
    return Path(database).is_file()


def copy_database(target: MigrationTarget, folder: Path) -> MigrationTarget:
    """Back ``target`` up into ``folder`` and return a target that points at the copy.

    The backup API, not a file copy: it sees what a WAL file holds that the main file does not.
    """
    copy = folder / "dry-run.sqlite3"
    source = sqlite3.connect(target.url.database or "")
    dest = sqlite3.connect(copy)
    try:
        source.backup(dest)
    finally:
        source.close()
        dest.close()
    return dataclasses.replace(target, url=target.url.set(database=str(copy)))


def render_statements(statements: list[tuple[str, Any]]) -> str:
    """The recorded statements as a SQL script, parameters shown in a comment."""
    lines: list[str] = []
    for statement, parameters in statements:
        text = statement.strip()
        if text.upper().startswith(_SKIPPED):
            continue
        lines.append(f"{text};")
        if parameters:
            lines.append(f"-- parameters: {parameters!r}")
        lines.append("")
    return "\n".join(lines)


def temporary_folder() -> tempfile.TemporaryDirectory[str]:
    """A folder for the copy, removed afterwards."""
    return tempfile.TemporaryDirectory(prefix="batteries-migrate-dry-run-")
