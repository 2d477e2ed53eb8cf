"""A SQLite URL names a file; commands that only read must not create it by connecting."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from batteries_models._urls import mask_url
from batteries_models.exceptions import DatabaseNotFoundError

__all__ = ["refuse_missing_file", "require_database_file", "sqlite_file"]


def sqlite_file(url: str | URL) -> Path | None:
    """The file a SQLite URL names; ``None`` for another backend, memory or a ``file:`` URI."""
    parsed = make_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return None
    if database.startswith("file:"):
        return None  # a URI: its mode= says itself whether SQLite may create the file
    return Path(database)


def require_database_file(url: str | URL, *, name: str = "default") -> None:
    """Raise :class:`DatabaseNotFoundError` when ``url`` names a SQLite file that does not exist.

    Connecting to such a URL would create an empty database file, so a command that only reads
    (``db current``, ``fixtures dump``) would report on an empty database instead of saying the
    path is wrong. Other backends have nothing to check here: their servers refuse an unknown
    database themselves.

    Args:
        url: The database URL.
        name: The name of the database in the settings, for the message.
    """
    path = sqlite_file(url)
    if path is None or path.exists():
        return
    relative = "" if path.is_absolute() else f" (a relative path starts at {os.getcwd()})"
    msg = (
        f"Database {name!r} is a SQLite file that does not exist: {path.absolute()} "
        f"({mask_url(make_url(url))}); check the URL{relative}, or create the database first "
        "(`fastapi-batteries db upgrade` creates it)"
    )
    raise DatabaseNotFoundError(msg, url=mask_url(make_url(url)), path=str(path.absolute()))


def refuse_missing_file(engine: AsyncEngine, *, name: str) -> None:
    """Make every new connection of ``engine`` check its file first (SQLite's ``connect``)."""
    url = engine.url

    @event.listens_for(engine.sync_engine, "do_connect")
    def _check(_dialect: Any, _record: Any, _cargs: Any, _cparams: Any) -> None:
        require_database_file(url, name=name)  # returns None: the next listener connects
