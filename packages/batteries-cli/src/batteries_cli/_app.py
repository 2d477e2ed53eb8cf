"""The ``fastapi-batteries`` Typer application."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as installed_version

import typer

__all__ = ["app"]

app = typer.Typer(
    name="fastapi-batteries",
    help="The batteries-included data layer for FastAPI + SQLModel.",
    no_args_is_help=True,
    add_completion=False,
)

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
