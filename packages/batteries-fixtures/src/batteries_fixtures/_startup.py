"""The ``seed`` start-up task: ``batteries_lifespan(seed=[...])`` merges fixtures at start-up."""

from __future__ import annotations

import logging
import os
from typing import Any

from batteries_fixtures._load import load
from batteries_models import DatabaseRegistry

__all__ = ["seed"]

logger = logging.getLogger("batteries_fixtures")


async def seed(registry: DatabaseRegistry, value: Any, /) -> None:
    """Merge the fixture files ``value`` into the default database, in one transaction.

    Merge mode upserts by key, so a restart (or several workers) loading the same files changes
    nothing the second time. The models module of the settings is used when configured.
    """
    files = [os.fspath(path) for path in value]
    report = await load(registry.get(), files, mode="merge", models=registry.settings.models)
    logger.info("Seeded at start-up from %s: %s", ", ".join(files), report.summary())
