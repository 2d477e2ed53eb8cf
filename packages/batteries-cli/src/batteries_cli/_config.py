"""``fastapi-batteries config``: the project's settings, and the checks to run before a deploy."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from batteries_cli._errors import describe, errors, fail, warn
from batteries_cli._migrations import migration_state
from batteries_cli._options import DatabaseName, DatabaseUrl, Models

if TYPE_CHECKING:
    from batteries_models import BatteriesSettings, SettingSource, SettingsReport

__all__ = ["app", "check"]

app = typer.Typer(
    name="config",
    help="The project's settings: show where each came from, check them before a deploy.",
    no_args_is_help=True,
    add_completion=False,
)

Status = Literal["ok", "FAIL", "skip"]


@dataclass(frozen=True)
class Check:
    """The outcome of one check, printed as one line."""

    status: Status
    what: str
    detail: str

    def line(self) -> str:
        """``ok    what: detail``."""
        return f"{self.status:<6}{self.what}: {self.detail}"


@app.command()
def show(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Print every setting, its value (passwords masked) and where it came from.

    Precedence, highest first: environment variables, .env in the working folder, .env in the
    project root, the tool.batteries table of pyproject.toml, the secrets folder, defaults.
    """
    from batteries_cli._options import settings_warnings
    from batteries_models import BatteriesSettings

    with errors(), settings_warnings():
        report = BatteriesSettings().explain()
    if as_json:
        import json

        typer.echo(json.dumps(_as_json(report), indent=2))
        return
    typer.echo(f"project root: {report.project_root}")
    typer.echo(f"files read:   {report.files_read() or 'none'}")
    typer.echo(f"precedence:   {PRECEDENCE}")
    rows = [(entry.name, entry.display, entry.describe()) for entry in report.values]
    widths = [max(len(row[column]) for row in [HEADER, *rows]) for column in range(2)]
    for name, value, origin in [HEADER, *rows]:
        typer.echo(f"{name:<{widths[0]}}  {value:<{widths[1]}}  {origin}")


PRECEDENCE = (
    "environment > .env (working folder) > .env (project root) > [tool.batteries] "
    "> secrets folder > default"
)
HEADER = ("setting", "value", "from")


def _as_json(report: SettingsReport) -> dict[str, Any]:
    def value(entry: SettingSource) -> Any:
        # Strings (URLs) only as displayed, masked; plain values keep their JSON type.
        plain = entry.value is None or isinstance(entry.value, bool | int | float)
        return entry.value if plain else entry.display

    return {
        "project_root": str(report.project_root),
        "pyproject": str(report.pyproject) if report.pyproject is not None else None,
        "env_files": [str(path) for path in report.env_files],
        "settings": [
            {
                "name": entry.name,
                "value": value(entry),
                "origin": entry.origin,
                "path": str(entry.path) if entry.path is not None else None,
                "key": entry.key,
            }
            for entry in report.values
        ],
    }


@app.command()
def check(
    app_path: Annotated[
        str | None,
        typer.Option("--app", help="The app, as module:attribute (default: as dev finds it)."),
    ] = None,
    factory: Annotated[
        bool, typer.Option("--factory", help="--app names a function that builds the app.")
    ] = False,
    database: DatabaseName = None,
    database_url: DatabaseUrl = None,
    models: Models = None,
) -> None:
    """Check settings, models, databases, migrations and the app; exit 1 if any check fails.

    One line per check. Every configured database is checked, or only the one of --database
    or --database-url.
    """
    if database is not None and database_url is not None:
        fail("--database-url and --database cannot be used together: choose one")
    colours = {"ok": typer.colors.GREEN, "FAIL": typer.colors.RED, "skip": typer.colors.YELLOW}
    counts = {"ok": 0, "FAIL": 0, "skip": 0}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for result in _checks(app_path, factory, database, database_url, models):
            counts[result.status] += 1
            typer.secho(result.line(), fg=colours[result.status])
    for warning in caught:
        warn(str(warning.message))
    typer.echo(f"{counts['ok']} ok, {counts['FAIL']} failed, {counts['skip']} skipped")
    if counts["FAIL"]:
        raise typer.Exit(1)


def _checks(
    app_path: str | None,
    factory: bool,
    database: str | None,
    database_url: str | None,
    models: str | None,
) -> Iterator[Check]:
    from batteries_models import BatteriesSettings, BatteriesWarning, discover_models

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", BatteriesWarning)
            settings = BatteriesSettings().with_overrides(database_url=database_url, models=models)
    except Exception as exc:
        yield Check("FAIL", "settings", describe(exc))
        return
    # A key nobody reads is a setting that silently does not apply: fail the gate on it.
    unknown = [str(w.message) for w in caught if isinstance(w.message, BatteriesWarning)]
    for other in (w for w in caught if not isinstance(w.message, BatteriesWarning)):
        warnings.showwarning(other.message, other.category, other.filename, other.lineno)
    for message in unknown:
        yield Check("FAIL", "settings", message)
    if not unknown:
        yield Check("ok", "settings", f"valid (environment: {settings.environment})")

    names = [database or "default"] if database or database_url else settings.database_names()
    # Each database's models: its own ([tool.batteries.databases.<name>] models) or the
    # project's; each module is imported once.
    have_models: dict[str | None, bool] = {}
    for name in names or ["default"]:
        module = settings.models_for(name)
        if module in have_models:
            continue
        have_models[module] = False
        label = "models" if module == settings.models else f"models ({name})"
        if module is None:
            yield Check("skip", label, "no models module configured ([tool.batteries] models)")
            continue
        try:
            found = discover_models(module)
        except Exception as exc:
            yield Check("FAIL", label, describe(exc))
        else:
            have_models[module] = bool(found.tables)
            yield Check("ok", label, f"{module} imports ({len(found.tables)} tables)")

    if not names:
        yield Check("FAIL", "databases", "none configured: set DATABASE_URL")
    for name in names:
        yield from _database_checks(name, settings, have_models[settings.models_for(name)])

    yield _app_check(app_path, factory, settings)


def _database_checks(name: str, settings: BatteriesSettings, have_models: bool) -> Iterator[Check]:
    """Reachable, at head, no model change without a migration: each only if the one before is."""
    import batteries_migrate

    what = f"database {name!r}"
    try:
        url = _reach(name, settings)
    except Exception as exc:
        yield Check("FAIL", what, describe(exc))
        yield Check("skip", f"migrations of {name!r}", "the database is unreachable")
        return
    yield Check("ok", what, f"reachable ({url})")

    what = f"migrations of {name!r}"
    try:
        state = migration_state(name, settings)
    except Exception as exc:
        yield Check("FAIL", what, describe(exc))
        return
    flag = "" if name == "default" else f" --database {name}"
    if not state.initialised:
        yield Check("skip", what, f"no migrations folder at {state.directory}")
        return
    if len(state.heads) > 1:
        heads = ", ".join(state.heads)
        yield Check("FAIL", what, f"{len(state.heads)} heads ({heads}): run db merge{flag}")
        return
    if not state.at_head:
        yield Check(
            "FAIL",
            what,
            f"not at head ({state.behind()}): run fastapi-batteries db upgrade{flag}",
        )
        return
    yield Check("ok", what, f"at head {', '.join(state.heads) or '(no revision)'}")

    what = f"model changes of {name!r}"
    if not have_models:
        yield Check("skip", what, "no models to compare with the migrations")
        return
    try:
        differences = batteries_migrate.check(database=name, settings=settings)
    except Exception as exc:
        yield Check("FAIL", what, describe(exc))
        return
    if differences:
        listed = "; ".join(differences[:3]) + ("; ..." if len(differences) > 3 else "")
        yield Check(
            "FAIL",
            what,
            f"{len(differences)} change(s) without a migration ({listed}): "
            f"run fastapi-batteries db makemigrations{flag}",
        )
    else:
        yield Check("ok", what, "every model change has a migration")


def _reach(name: str, settings: BatteriesSettings) -> str:
    """Connect to database ``name``; its masked URL. A missing SQLite file is not created."""
    import asyncio

    from batteries_models import Database

    database = Database.from_settings(settings.database(name), name=name, sqlite_create_file=False)

    async def ping() -> None:
        try:
            await database.ping()
        finally:
            await database.dispose()

    asyncio.run(ping())
    return database.masked_url


def _app_check(app_path: str | None, factory: bool, settings: BatteriesSettings) -> Check:
    from batteries_models import AppDiscoveryError, discover_app

    try:
        found = discover_app(app_path, factory=factory, settings=settings)
        found.load()
    except AppDiscoveryError as exc:
        if not exc.path and app_path is None:  # no app anywhere: a project may have none
            return Check("skip", "app", "none found (set [tool.batteries] app)")
        return Check("FAIL", "app", describe(exc))
    except Exception as exc:
        return Check("FAIL", "app", describe(exc))
    return Check("ok", "app", f"{found.import_string} imports (from {found.source})")
