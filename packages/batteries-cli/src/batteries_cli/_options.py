"""The options every command that talks to a database takes, and what they resolve to.

Their names and help are those of the fixtures and ``db`` commands: ``--database NAME``,
``--database-url`` and ``--models``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from batteries_cli._errors import errors, fail

if TYPE_CHECKING:
    from batteries_models import BatteriesSettings

__all__ = ["DatabaseName", "DatabaseUrl", "Force", "Models", "resolve_settings"]

DatabaseName = Annotated[
    str | None,
    typer.Option("--database", help="Name of a database configured in the settings."),
]
DatabaseUrl = Annotated[
    str | None,
    typer.Option("--database-url", help="Database URL (default: the settings' database)."),
]
Models = Annotated[
    str | None,
    typer.Option("--models", help="Models module (default: [tool.batteries] models)."),
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

    with errors():
        settings = BatteriesSettings().with_overrides(database_url=database_url, models=models)
    return database or DEFAULT_DATABASE, settings
