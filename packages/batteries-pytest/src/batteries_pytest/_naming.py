"""Where the test database is: the configured name plus ``_test`` (and the xdist worker id)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import URL

from batteries_models import ConfigurationError, mask_url, normalise_url
from batteries_pytest._options import TEST_URL_VARIABLE, Options

__all__ = ["MEMORY", "database_name", "url_for_tests"]

SUFFIX = "_test"
MEMORY = "file::memory:"
_POSTGRES_NAME_LIMIT = 63  # longer identifiers are cut silently, and the cut loses the suffix


def url_for_tests(configured: URL, options: Options, folder: Path) -> URL:
    """The URL of the test database for ``configured``.

    Args:
        configured: The project's URL of the database under test.
        options: The run's options (explicit URL, worker id, SQLite in memory).
        folder: Where a SQLite test database file goes.

    Raises:
        ConfigurationError: An unsupported database, a name PostgreSQL would cut, or an
            explicit database whose name does not end in ``_test`` (unless allowed).
    """
    explicit = options.explicit_url is not None
    url = normalise_url(options.explicit_url) if options.explicit_url else configured
    dialect = url.get_backend_name()
    if dialect == "sqlite":
        found = _sqlite(url, options, folder, explicit=explicit)
    elif dialect == "postgresql":
        found = _postgresql(url, options.worker, explicit=explicit)
    else:
        msg = (
            f"batteries-pytest runs tests on PostgreSQL and SQLite, not {dialect} "
            f"({mask_url(url)}): set {TEST_URL_VARIABLE} to one of those"
        )
        raise ConfigurationError(msg)
    name = database_name(found)
    if not name.endswith(SUFFIX) and not options.allow_any_name:
        msg = (
            f"Refusing to use database {name!r} ({mask_url(found)}) for tests: the plugin drops "
            f"and re-creates it, and its name does not end in {SUFFIX!r}; rename it, or set "
            "batteries_allow_any_database_name = true in the pytest ini options"
        )
        raise ConfigurationError(msg)
    return found


def database_name(url: URL) -> str:
    """The name the ``_test`` rule applies to: the database, or the SQLite file's stem."""
    database = url.database or ""
    if url.get_backend_name() != "sqlite":
        return database
    if database == MEMORY:
        return f"memory{SUFFIX}"
    return Path(database).stem


def _with_worker(name: str, worker: str | None) -> str:
    """``app_test`` becomes ``app_gw0_test``: the name still ends in ``_test``."""
    if worker is None:
        return name
    if name.endswith(SUFFIX):
        return f"{name.removesuffix(SUFFIX)}_{worker}{SUFFIX}"
    return f"{name}_{worker}"


def _postgresql(url: URL, worker: str | None, *, explicit: bool) -> URL:
    base = url.database or url.username or "postgres"
    name = _with_worker(base if explicit else f"{base}{SUFFIX}", worker)
    if len(name.encode()) > _POSTGRES_NAME_LIMIT:
        msg = (
            f"The test database name {name!r} is longer than PostgreSQL's "
            f"{_POSTGRES_NAME_LIMIT} bytes: use a shorter database name, or set "
            f"{TEST_URL_VARIABLE}"
        )
        raise ConfigurationError(msg)
    return url.set(database=name)


def _sqlite(url: URL, options: Options, folder: Path, *, explicit: bool) -> URL:
    database = url.database or ""
    memory = database in ("", ":memory:") or database.startswith("file::memory:")
    memory = memory or url.query.get("mode") == "memory"
    if memory or options.sqlite_in_memory:
        # The shared-cache memory database: every connection of this process sees it, as long as
        # one stays open (Django's test databases on SQLite work the same way). Each xdist
        # worker is a process of its own, so it has its own.
        return URL.create(url.drivername, database=MEMORY, query={"cache": "shared", "uri": "true"})
    path = Path(database)
    if explicit:
        return url.set(database=str(path.with_stem(_with_worker(path.stem, options.worker))))
    name = _with_worker(f"{path.stem}{SUFFIX}", options.worker)
    return url.set(database=str(folder / f"{name}{path.suffix}"))
