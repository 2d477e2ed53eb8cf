"""The ``fastapi-batteries`` Typer application.

Every module imported here imports only Typer at its top: SQLAlchemy, Alembic, FastAPI, uvicorn,
IPython and the user's project are imported inside the commands, so ``--help`` stays fast.
"""

from __future__ import annotations

from typing import Annotated

import typer

from batteries_cli._config import app as config_app
from batteries_cli._dbshell import db_shell
from batteries_cli._dev import dev
from batteries_cli._groups import QuickHelpGroup
from batteries_cli._plugins import PluginGroup
from batteries_cli._shell import shell
from batteries_fixtures.cli import app as fixtures_app
from batteries_migrate.cli import app as migrate_app

__all__ = ["app"]

DEVELOPMENT_PANEL = "Development only"

app = typer.Typer(
    name="fastapi-batteries",
    help="The batteries-included data layer for FastAPI + SQLModel.",
    cls=PluginGroup,
    no_args_is_help=True,
    add_completion=False,
)

# `db` is batteries-migrate's app plus `db shell`, which is no migration command: copied into a
# group of our own, so that mounting it here does not change batteries-migrate's app.
db_app = typer.Typer(
    name="db",
    help=migrate_app.info.help,
    cls=QuickHelpGroup,
    no_args_is_help=True,
    add_completion=False,
)
db_app.registered_callback = migrate_app.registered_callback
db_app.registered_commands = [*migrate_app.registered_commands]
db_app.command("shell", context_settings={"ignore_unknown_options": True})(db_shell)

app.add_typer(db_app, name="db")
app.add_typer(fixtures_app, name="fixtures", cls=QuickHelpGroup)
app.command(rich_help_panel=DEVELOPMENT_PANEL)(dev)
app.command()(shell)
app.add_typer(config_app, name="config")

DISTRIBUTIONS = (
    "fastapi-batteries",
    "batteries-models",
    "batteries-crud",
    "batteries-migrate",
    "batteries-fixtures",
    "batteries-cli",
)


def _print_versions() -> None:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed_version

    for name in DISTRIBUTIONS:
        try:
            typer.echo(f"{name} {installed_version(name)}")
        except PackageNotFoundError:
            typer.echo(f"{name} (not installed)")


def _version_flag(value: bool) -> None:
    if value:
        _print_versions()
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            is_eager=True,
            callback=_version_flag,
            help="Print the version of every installed FastAPI Batteries package and exit.",
        ),
    ] = False,
) -> None:
    """The batteries-included data layer for FastAPI + SQLModel."""


@app.command()
def version() -> None:
    """Print the version of every installed FastAPI Batteries package."""
    _print_versions()
