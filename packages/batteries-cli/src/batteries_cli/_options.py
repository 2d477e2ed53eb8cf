"""The options every command that talks to a database takes, and what they resolve to.

``--database NAME`` and ``--database-url`` are the fixtures commands' own, ``--models`` the
``db`` commands' own (the fixtures' help adds that they reflect the database without one).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from batteries_cli._errors import errors, fail
from batteries_fixtures.cli import DatabaseName, DatabaseUrl
from batteries_migrate.cli import Models

if TYPE_CHECKING:
    from batteries_models import BatteriesSettings

__all__ = [
    "DatabaseName",
    "DatabaseUrl",
    "Force",
    "Models",
    "resolve_settings",
    "settings_warnings",
]

Force = Annotated[
    bool,
    typer.Option("--force", help="Run even where BATTERIES_ENVIRONMENT=production."),
]


def resolve_settings(
    database: str | None, database_url: str | None, models: str | None
) -> tuple[str, BatteriesSettings]:
    """The database name to use and the settings with ``--database-url``/``--models`` applied.

    Exits with one line when both ``--database`` and ``--database-url`` are given, or when the
    settings do not validate.
    """
    if database is not None and database_url is not None:
        fail("--database-url and --database cannot be used together: choose one")
    from batteries_models import DEFAULT_DATABASE, BatteriesSettings

    with errors(), settings_warnings():
        settings = BatteriesSettings().with_overrides(database_url=database_url, models=models)
    return database or DEFAULT_DATABASE, settings


@contextmanager
def settings_warnings() -> Iterator[None]:
    """Show the settings' warnings (an unknown ``[tool.batteries]`` key) as one line each."""
    from batteries_models import warnings_as_lines

    with warnings_as_lines(lambda line: typer.secho(line, fg=typer.colors.YELLOW, err=True)):
        yield
