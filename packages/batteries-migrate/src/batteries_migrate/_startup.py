"""The ``migrate`` start-up task: ``batteries_lifespan(migrate=True)`` upgrades to head."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from batteries_migrate._commands import upgrade
from batteries_models import DEFAULT_DATABASE, DatabaseRegistry

__all__ = ["migrate"]

logger = logging.getLogger("batteries_migrate")


async def migrate(registry: DatabaseRegistry, value: Any, /) -> None:
    """Upgrade the default database of ``registry``'s settings to head.

    It runs in a worker thread: the async ``env.py`` calls ``asyncio.run``, which cannot run in
    the app's loop (alembic #1353), and the thread keeps the loop free meanwhile. On PostgreSQL
    ``upgrade`` holds an advisory lock, so workers starting together apply each revision once:
    the first applies them, the others wait for its commit and find nothing left to do.
    """
    applied: list[str] = []
    await asyncio.to_thread(
        upgrade,
        "head",
        database=DEFAULT_DATABASE,
        settings=registry.settings,
        progress=applied.append,
    )
    logger.info("Database %r at head: applied %d revision(s)", DEFAULT_DATABASE, len(applied))
