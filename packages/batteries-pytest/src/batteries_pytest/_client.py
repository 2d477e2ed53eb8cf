"""The ``client`` fixture: an ``httpx.AsyncClient`` on the app, in the test's transaction.

The app's lifespan runs (asgi-lifespan's ``LifespanManager``, as FastAPI's documentation advises
for ``AsyncClient``), so ``batteries_lifespan`` and the app's own start-up code run as they would
under a server; the session dependency of the database under test is overridden so that every
request gets a session of the test's connection.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlmodel.ext.asyncio.session import AsyncSession

from batteries_models import BatteriesSettings, ConfigurationError, Database
from batteries_models.fastapi import session_dependency

__all__ = ["import_app", "open_client"]


def import_app(settings: BatteriesSettings) -> FastAPI:
    """The app named by ``[tool.batteries] app`` (``"module:attribute"``).

    Raises:
        ConfigurationError: No app is configured, or it cannot be imported.
    """
    where = settings.app
    if not where:
        msg = (
            'The client fixture needs the FastAPI app: set app = "main:app" under '
            "[tool.batteries] in pyproject.toml (or BATTERIES_APP), or define an `app` fixture"
        )
        raise ConfigurationError(msg)
    module_name, _, attribute = where.partition(":")
    # Like `python -m`: the project's own modules import from the folder pytest runs in.
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        found: Any = getattr(importlib.import_module(module_name), attribute or "app")
    except (ImportError, AttributeError) as exc:
        msg = f"Cannot import the app {where!r} ([tool.batteries] app): {exc}"
        raise ConfigurationError(msg) from exc
    if not isinstance(found, FastAPI):
        msg = (
            f"{where!r} ([tool.batteries] app) is a {type(found).__name__}, not a FastAPI app: "
            "for an app factory, define an `app` fixture that calls it"
        )
        raise ConfigurationError(msg)
    return found


def _session_override(sessions: Database) -> Callable[[], AsyncIterator[AsyncSession]]:
    async def test_session() -> AsyncIterator[AsyncSession]:
        async with sessions.session() as session:
            yield session

    return test_session


@asynccontextmanager
async def open_client(
    app: FastAPI, database: str, sessions: Database
) -> AsyncIterator[httpx.AsyncClient]:
    """A client on ``app`` whose requests get their sessions from ``sessions.session()``."""
    key = session_dependency(database)
    had_one = key in app.dependency_overrides
    previous = app.dependency_overrides.get(key)
    app.dependency_overrides[key] = _session_override(sessions)
    try:
        # No time limit: a start-up that migrates may take a while on a busy machine.
        async with LifespanManager(app, startup_timeout=None, shutdown_timeout=None) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                yield client
    finally:
        if previous is not None and had_one:
            app.dependency_overrides[key] = previous
        else:
            app.dependency_overrides.pop(key, None)
