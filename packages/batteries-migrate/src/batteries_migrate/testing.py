"""Checks of a project's migrations for its own test suite, in the spirit of pytest-alembic.

Each check raises ``AssertionError`` with a one-line reason, so it reads well in pytest::

    # tests/test_migrations.py
    from batteries_migrate.testing import assert_migrations_healthy

    def test_migrations(empty_database_url, monkeypatch):
        monkeypatch.setenv("BATTERIES_DATABASE_URL", empty_database_url)
        assert_migrations_healthy()

Point the settings at an **empty, throwaway** database: the checks upgrade and downgrade it.
Every check takes ``database`` and ``settings`` like the commands do.
"""

from __future__ import annotations

from typing import NoReturn

from batteries_migrate._commands import check, current, downgrade, heads, history, upgrade
from batteries_models import DEFAULT_DATABASE, BatteriesSettings

__all__ = [
    "assert_migrations_healthy",
    "assert_models_match_ddl",
    "assert_single_head",
    "assert_up_down_consistency",
    "assert_upgrade_from_base",
]


def assert_single_head(
    *, database: str = DEFAULT_DATABASE, settings: BatteriesSettings | None = None
) -> None:
    """Fail when the migrations have several heads (two branches not merged yet).

    Reads files only; the database is not contacted.
    """
    found = heads(database=database, settings=settings)
    ids = ", ".join(head.id for head in found)
    if len(found) != 1:
        _fail(
            f"database {database!r} has {len(found)} migration heads ({ids or 'none'}): "
            "run `fastapi-batteries db merge`"
        )


def assert_upgrade_from_base(
    *, database: str = DEFAULT_DATABASE, settings: BatteriesSettings | None = None
) -> None:
    """Upgrade an empty database from base to head, one revision at a time.

    The message names the first revision that fails.
    """
    if current(database=database, settings=settings):
        _fail(f"database {database!r} is not empty: run the checks on a throwaway database")
    for revision in reversed(history(database=database, settings=settings)):
        try:
            upgrade(revision.id, database=database, settings=settings)
        except Exception as exc:
            msg = f"upgrade to {revision.id} ({revision.message}) failed: {exc}"
            raise AssertionError(msg) from exc


def assert_up_down_consistency(
    *, database: str = DEFAULT_DATABASE, settings: BatteriesSettings | None = None
) -> None:
    """From head, downgrade one revision at a time to base, then upgrade to head again.

    Catches downgrades that fail, and downgrades that leave something behind that the next
    upgrade trips on (a PostgreSQL ENUM type, an index). Starts at head: run
    :func:`assert_upgrade_from_base` first.
    """
    steps = len(history(database=database, settings=settings))
    for _ in range(steps):
        at = current(database=database, settings=settings)
        try:
            downgrade("-1", database=database, settings=settings)
        except Exception as exc:
            msg = f"downgrade from {', '.join(at)} failed: {exc}"
            raise AssertionError(msg) from exc
    left = current(database=database, settings=settings)
    if left:
        _fail(f"database {database!r} is still at {', '.join(left)} after every downgrade")
    try:
        upgrade(database=database, settings=settings)
    except Exception as exc:
        msg = f"upgrade to head after a full downgrade failed: {exc}"
        raise AssertionError(msg) from exc


def assert_models_match_ddl(
    *, database: str = DEFAULT_DATABASE, settings: BatteriesSettings | None = None
) -> None:
    """Upgrade to head, then fail if the models differ from the schema the migrations built."""
    upgrade(database=database, settings=settings)
    differences = check(database=database, settings=settings)
    if differences:
        _fail(
            f"models and migrations of database {database!r} differ: {'; '.join(differences)}; "
            "run `fastapi-batteries db makemigrations`"
        )


def assert_migrations_healthy(
    *, database: str = DEFAULT_DATABASE, settings: BatteriesSettings | None = None
) -> None:
    """Run every check, in order, on an empty throwaway database."""
    assert_single_head(database=database, settings=settings)
    assert_upgrade_from_base(database=database, settings=settings)
    assert_up_down_consistency(database=database, settings=settings)
    assert_models_match_ddl(database=database, settings=settings)


def _fail(message: str) -> NoReturn:
    # Raised, not asserted: `python -O` strips assert statements from library code.
    raise AssertionError(message)
