"""``fastapi-batteries dev``: the app under uvicorn with reload, as ``fastapi dev`` runs it.

Before serving it loads ``.env``, finds the app, optionally migrates and seeds the database, and
prints what it resolved (app, database with its password masked, migration state).
"""

from __future__ import annotations

import importlib.util
import os
from typing import TYPE_CHECKING, Annotated

import typer

from batteries_cli._errors import describe, errors, fail
from batteries_cli._options import DatabaseName, DatabaseUrl, Force, Models, resolve_settings

if TYPE_CHECKING:
    from batteries_models import BatteriesSettings

__all__ = ["dev"]

_NO_UVICORN = (
    "fastapi-batteries dev serves the app with uvicorn, which is not installed: "
    "pip install 'fastapi-batteries[dev]' (or pip install 'uvicorn[standard]')"
)


def dev(
    app: Annotated[
        str | None,
        typer.Option(
            "--app",
            help="The app, as module:attribute or a file (default: \\[tool.batteries] app, "
            "else main.py, app.py, api.py, app/main.py, app/app.py, app/api.py).",
        ),
    ] = None,
    factory: Annotated[
        bool, typer.Option("--factory", help="--app names a function that builds the app.")
    ] = False,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    reload: Annotated[
        bool, typer.Option("--reload/--no-reload", help="Restart when a source file changes.")
    ] = True,
    migrate: Annotated[
        bool, typer.Option("--migrate", help="Upgrade the database to head before serving.")
    ] = False,
    seed: Annotated[
        list[str] | None,
        typer.Option(
            "--seed",
            metavar="FILE",
            help="Fixture file to merge into the database before serving, after --migrate "
            "(repeatable).",
        ),
    ] = None,
    force: Force = False,
    database: DatabaseName = None,
    database_url: DatabaseUrl = None,
    models: Models = None,
) -> None:
    """Serve the app with reload, after migrating and seeding if asked (development only)."""
    name, settings = resolve_settings(database, database_url, models)
    from batteries_models import discover_app, mask_url, refuse_in_production

    with errors():
        refuse_in_production(
            "run the development server (fastapi-batteries dev)",
            settings=settings,
            force=force,
            override="pass --force",
        )
    if importlib.util.find_spec("uvicorn") is None:
        fail(_NO_UVICORN)
    dotenv = _load_dotenv(settings)
    if database_url is not None:
        os.environ["BATTERIES_DATABASE_URL"] = database_url  # the app serves that database too
    if models is not None:
        os.environ["BATTERIES_MODELS"] = models
    with errors():
        found = discover_app(app, factory=factory, settings=settings)
    kind = "factory, " if factory else ""
    _say("app", f"{found.import_string} ({kind}from {found.source})")
    if dotenv:
        _say("env", f"loaded {', '.join(dotenv)} (variables already set win)")
    configured = name in settings.database_names()
    if not configured and (migrate or seed):
        with errors():
            settings.database(name)  # the one-line error that says what to set
    if configured:
        _say("database", f"{name} {mask_url(settings.database(name).url)}")
        _say(
            "migrations", _migrate(name, settings) if migrate else _migration_state(name, settings)
        )
        if seed:
            _say("seeded", _seed(name, settings, seed))
    else:
        _say("database", "none configured (set DATABASE_URL)")
    _say("serving", f"http://{host}:{port}{' with reload' if reload else ''} (Ctrl+C stops)")

    import uvicorn

    uvicorn.run(
        found.import_string,
        host=host,
        port=port,
        reload=reload,
        reload_dirs=[str(found.root)] if reload else None,
        factory=factory,
        app_dir=str(found.root),
    )


def _say(what: str, text: str) -> None:
    typer.echo(f"  {what:<11}{text}", err=True)


def _load_dotenv(settings: BatteriesSettings) -> list[str]:
    """Load the ``.env`` files the settings read into the app's environment; real ones win.

    The working folder's file first, then the project root's: a variable is set by the first
    file that has it, as the settings read them.
    """
    from dotenv import load_dotenv

    files = list(settings.explain().env_files)
    for path in files:
        load_dotenv(path, override=False)
    return [str(path) for path in files]


def _migrate(name: str, settings: BatteriesSettings) -> str:
    import batteries_migrate

    applied: list[str] = []
    with errors():
        batteries_migrate.upgrade(database=name, settings=settings, progress=applied.append)
        at = batteries_migrate.current(database=name, settings=settings)
    return f"applied {len(applied)} revision(s), at head {', '.join(at) or '(empty)'}"


def _migration_state(name: str, settings: BatteriesSettings) -> str:
    """Where the database stands against its migrations; never stops the server from starting."""
    from batteries_cli._migrations import migration_state

    try:
        state = migration_state(name, settings)
    except Exception as exc:
        return f"unknown: {describe(exc)}"
    if not state.initialised:
        return f"no migrations folder at {state.directory}"
    if state.at_head:
        return f"at head {', '.join(state.at) or '(no revision)'}"
    return f"NOT at head ({state.behind()}): pass --migrate to upgrade"


def _seed(name: str, settings: BatteriesSettings, files: list[str]) -> str:
    import asyncio

    from batteries_fixtures import load
    from batteries_models import Database

    with errors():
        database = Database.from_settings(settings.database(name), name=name)

        async def run() -> str:
            try:
                report = await load(database, files, mode="merge", models=settings.models)
            finally:
                await database.dispose()
            return report.summary()

        return asyncio.run(run())
