"""Turn what callers pass (a ``Database`` or a URL) into a ``Database``, and progress callbacks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from sqlalchemy.engine import URL

from batteries_models import Database

__all__ = ["Progress", "open_database"]


Progress = Callable[[str, int, int], None]
"""Called as rows of a table are done: ``progress(table, done, total)``."""


@asynccontextmanager
async def open_database(target: Database | str | URL) -> AsyncIterator[Database]:
    """Yield ``target`` as a ``Database``; one built here from a URL is disposed afterwards.

    One built here never creates a SQLite file: a dump reads, a load fills existing tables.
    """
    if isinstance(target, Database):
        yield target
        return
    database = Database(target, sqlite_create_file=False)
    try:
        yield database
    finally:
        await database.dispose()
