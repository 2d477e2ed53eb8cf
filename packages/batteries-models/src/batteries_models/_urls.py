"""Database URL handling: masking, async-driver normalisation and driver checks."""

from __future__ import annotations

import importlib.util
import re

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from batteries_models.exceptions import ConfigurationError, MissingDriverError

__all__ = ["mask_url", "normalise_url"]

_PASSWORD_IN_URL = re.compile(
    r"(?P<head>[a-zA-Z][a-zA-Z0-9+.\-]*://[^:/@\s]*:)(?P<pw>[^@\s]*)(?=@)"
)

# Async drivers we know, per backend: (driver import name, pip extra that installs it).
_ASYNC_DRIVERS: dict[str, dict[str, tuple[str, str]]] = {
    "postgresql": {
        "asyncpg": ("asyncpg", "fastapi-batteries[postgres]"),
        "psycopg": ("psycopg", "psycopg[binary]"),
    },
    "sqlite": {"aiosqlite": ("aiosqlite", "fastapi-batteries[sqlite]")},
    "mysql": {
        "aiomysql": ("aiomysql", "aiomysql"),
        "asyncmy": ("asyncmy", "asyncmy"),
    },
}
_DEFAULT_DRIVER = {"postgresql": "asyncpg", "sqlite": "aiosqlite", "mysql": "aiomysql"}
_BACKEND_ALIASES = {"postgres": "postgresql", "mariadb": "mysql"}


def mask_url(url: str | URL) -> str:
    """Return ``url`` as text with its password replaced by ``***``.

    Works on SQLAlchemy ``URL`` objects and on any text that contains URLs (an error message),
    so it is safe to call on whatever is about to be printed or logged.
    """
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    return _PASSWORD_IN_URL.sub(lambda m: m.group("head") + "***", url)


def normalise_url(url: str | URL) -> URL:
    """Parse ``url`` and make it use an async driver.

    ``postgresql://`` and ``postgres://`` become ``postgresql+asyncpg://``, ``sqlite://`` becomes
    ``sqlite+aiosqlite://``. A sync driver (``postgresql+psycopg2``) is refused with a message that
    says what to write instead. The driver must be importable.

    Raises:
        ConfigurationError: The URL cannot be parsed, names an unknown backend or a sync driver.
        MissingDriverError: The async driver is not installed.
    """
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:  # ValueError: a port that is not a number
        msg = f"Cannot parse database URL {mask_url(str(url))!r}: write it as scheme://user:password@host:port/name"
        raise ConfigurationError(msg) from exc
    if parsed.port is not None and not 0 < parsed.port < 65536:
        # Checked here: the drivers raise OverflowError from deep inside connect().
        msg = f"Port {parsed.port} in database URL {mask_url(parsed)} is not a port: use 1-65535"
        raise ConfigurationError(msg)
    backend, _, driver = parsed.drivername.partition("+")
    backend = _BACKEND_ALIASES.get(backend, backend)
    drivers = _ASYNC_DRIVERS.get(backend)
    if drivers is None:
        known = ", ".join(f"{b}+{d}://" for b, d in _DEFAULT_DRIVER.items())
        msg = (
            f"Unknown database scheme {parsed.drivername!r} in {mask_url(parsed)}: "
            f"use one of {known}"
        )
        raise ConfigurationError(msg)
    if not driver:
        driver = _DEFAULT_DRIVER[backend]
    if driver not in drivers:
        suggestion = parsed.set(drivername=f"{backend}+{_DEFAULT_DRIVER[backend]}")
        msg = (
            f"{parsed.drivername!r} is not an async driver (in {mask_url(parsed)}): "
            f"write {mask_url(suggestion)} instead"
        )
        raise ConfigurationError(msg)
    module, extra = drivers[driver]
    if importlib.util.find_spec(module) is None:
        msg = (
            f"The {backend} driver {module!r} is not installed, but {mask_url(parsed)} needs it: "
            f"pip install '{extra}'"
        )
        raise MissingDriverError(msg, driver=module, extra=extra)
    return parsed.set(drivername=f"{backend}+{driver}")
