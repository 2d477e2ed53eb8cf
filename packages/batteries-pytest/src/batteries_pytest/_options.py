"""The plugin's command-line and ini options, read once per run into :class:`Options`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

__all__ = ["TEST_URL_VARIABLE", "Options", "add_options", "options_of"]

TEST_URL_VARIABLE = "BATTERIES_TEST_DATABASE_URL"
"""An explicit URL for the test database, instead of the configured name plus ``_test``."""

_KEY = pytest.StashKey["Options"]()


@dataclass(frozen=True)
class Options:
    """What the command line and the ini file ask of the plugin."""

    reuse_db: bool
    create_db: bool
    database: str
    fixture_dirs: tuple[Path, ...]
    sqlite_in_memory: bool
    allow_any_name: bool
    worker: str | None
    explicit_url: str | None

    @property
    def keep(self) -> bool:
        """Keep the test database after the run, and reuse one from an earlier run."""
        return self.reuse_db and not self.create_db


def add_options(parser: pytest.Parser) -> None:
    """Register the options (``pytest_addoption``)."""
    group = parser.getgroup("batteries", "FastAPI Batteries test database")
    group.addoption(
        "--reuse-db",
        action="store_true",
        default=False,
        help="Keep the test database after the run and reuse it next time (migrated to head).",
    )
    group.addoption(
        "--create-db",
        action="store_true",
        default=False,
        help="Re-create the test database even with --reuse-db.",
    )
    parser.addini(
        "batteries_database",
        "Name of the database in the settings that tests use (default: default).",
        default="default",
    )
    parser.addini(
        "batteries_fixture_dirs",
        "Folders searched for @pytest.mark.fixtures files after the test's own folder.",
        type="paths",
        default=[],
    )
    parser.addini(
        "batteries_sqlite",
        "SQLite test database: 'file' (under pytest's tmp folder) or 'memory'.",
        default="file",
    )
    parser.addini(
        "batteries_allow_any_database_name",
        f"Allow a {TEST_URL_VARIABLE} database whose name does not end in _test.",
        type="bool",
        default=False,
    )


def options_of(config: pytest.Config) -> Options:
    """The options of this run, read on first use."""
    found = config.stash.get(_KEY, None)
    if found is not None:
        return found
    sqlite = str(config.getini("batteries_sqlite")).strip().lower()
    if sqlite not in ("file", "memory"):
        msg = f"batteries_sqlite must be 'file' or 'memory', got {sqlite!r}"
        raise pytest.UsageError(msg)
    found = Options(
        reuse_db=bool(config.getoption("reuse_db")),
        create_db=bool(config.getoption("create_db")),
        database=str(config.getini("batteries_database")).strip() or "default",
        fixture_dirs=tuple(Path(p) for p in config.getini("batteries_fixture_dirs")),
        sqlite_in_memory=sqlite == "memory",
        allow_any_name=bool(config.getini("batteries_allow_any_database_name")),
        # pytest-xdist names each worker's process in the environment (gw0, gw1...).
        worker=os.environ.get("PYTEST_XDIST_WORKER") or None,
        explicit_url=os.environ.get(TEST_URL_VARIABLE) or None,
    )
    config.stash[_KEY] = found
    return found
