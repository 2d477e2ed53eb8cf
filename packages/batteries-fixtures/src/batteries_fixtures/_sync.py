"""Blocking wrappers of the async API, for scripts and REPLs without an event loop."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy.engine import URL

from batteries_fixtures._dump import dump
from batteries_fixtures._load import Source, load
from batteries_fixtures._outputs import Output
from batteries_fixtures._reports import DumpReport, LoadReport
from batteries_models import Database

__all__ = ["dump_sync", "load_sync"]


def dump_sync(database: Database | str | URL, output: Output = None, **options: Any) -> DumpReport:
    """Run :func:`~batteries_fixtures.dump` to completion; same arguments.

    Do not call it from a running event loop (``await dump(...)`` there).
    """
    return asyncio.run(dump(database, output, **options))


def load_sync(
    database: Database | str | URL, sources: Source | list[Source], **options: Any
) -> LoadReport:
    """Run :func:`~batteries_fixtures.load` to completion; same arguments.

    Do not call it from a running event loop (``await load(...)`` there).
    """
    return asyncio.run(load(database, sources, **options))
