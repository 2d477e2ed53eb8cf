"""The ``fastapi-batteries`` Typer application."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as installed_version

import typer

from batteries_fixtures.cli import app as fixtures_app
from batteries_migrate.cli import app as db_app

__all__ = ["app"]

app = typer.Typer(
    name="fastapi-batteries",
    help="The batteries-included data layer for FastAPI + SQLModel.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(db_app, name="db")
app.add_typer(fixtures_app, name="fixtures")

_DISTRIBUTIONS = (
    "fastapi-batteries",
    "batteries-models",
    "batteries-crud",
    "batteries-migrate",
    "batteries-fixtures",
    "batteries-cli",
)


@app.callback()
def _root() -> None:
    """The batteries-included data layer for FastAPI + SQLModel."""


@app.command()
def version() -> None:
    """Print the version of every installed FastAPI Batteries package."""
    for name in _DISTRIBUTIONS:
        try:
            typer.echo(f"{name} {installed_version(name)}")
        except PackageNotFoundError:
            typer.echo(f"{name} (not installed)")
