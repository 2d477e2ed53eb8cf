"""Turn what callers pass (a ``Database``, a URL or a database name) into a ``Database``."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from sqlalchemy.engine import URL

from batteries_fixtures._schema import Models
from batteries_models import BatteriesSettings, Database

__all__ = ["Progress", "open_database"]


Progress = Callable[[str, int, int], None]
"""Called as rows of a table are done: ``progress(table, done, total)``."""

Target = Database | str | URL
"""A :class:`~batteries_models.Database`, a database URL, or the name of a configured database."""

# A URL always has "scheme:"; a name of the settings (BATTERIES_DATABASES__<NAME>__URL) never.
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


@asynccontextmanager
async def open_database(
    target: Target, models: Models, settings: BatteriesSettings | None
) -> AsyncIterator[tuple[Database, Models]]:
    """Yield ``target`` as a ``Database``, with the models to use for it.

    A name (``"legacy"``) reads that database's URL from ``settings`` (``BatteriesSettings()``
    when not given), and its models module (``databases.<name>.models``, else the project's
    ``models``) when ``models`` is ``None``. A ``Database`` or a URL keeps ``models`` as given
    (``None``: reflect). One built here is disposed afterwards and never creates a SQLite file:
    a dump reads, a load fills existing tables.

    Raises:
        ConfigurationError: No database of that name is configured.
    """
    if isinstance(target, Database):
        yield target, models
        return
    if isinstance(target, str) and _NAME.match(target):
        active = settings if settings is not None else BatteriesSettings()
        database = Database.from_settings(
            active.database(target), name=target, sqlite_create_file=False
        )
        if models is None:
            models = active.models_for(target)
    else:
        database = Database(target, sqlite_create_file=False)
    try:
        yield database, models
    finally:
        await database.dispose()
