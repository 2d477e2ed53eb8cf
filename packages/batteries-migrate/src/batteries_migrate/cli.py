"""The ``db`` command line: a Typer app that parses options and calls the Python API.

Mounted by batteries-cli as ``fastapi-batteries db``::

    fastapi-batteries db init
    fastapi-batteries db makemigrations -m "add hero"
    fastapi-batteries db upgrade
    fastapi-batteries db downgrade -1 --yes

Every command takes ``--database NAME`` (default ``default``); the commands that talk to the
database also take ``--database-url`` and ``--models``, as the fixtures commands do. Heavy
modules (SQLAlchemy, Alembic, the models) are imported inside the commands, so ``--help`` stays
fast. Errors print one line on stderr and exit with status 1; ``check`` also exits 1 when models
and migrations differ.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:
    from batteries_migrate._revision import Revision
    from batteries_models import BatteriesSettings

__all__ = ["Models", "app"]

app = typer.Typer(
    name="db",
    help="Database migrations: Alembic wired up for SQLModel.",
    no_args_is_help=True,
    add_completion=False,
)

Database = Annotated[
    str,
    typer.Option(
        "--database", "-d", help="Name of a database configured in the settings.", show_default=True
    ),
]
DatabaseUrl = Annotated[
    str | None,
    typer.Option("--database-url", help="Database URL (default: the settings' database)."),
]
Models = Annotated[
    str | None, typer.Option("--models", help="Models module (default: [tool.batteries] models).")
]
"""``--models``, as every command that talks to a database takes it."""
Sql = Annotated[bool, typer.Option("--sql", help="Dry run: print the SQL, change nothing.")]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
# Lets `downgrade -1` through: Click would otherwise read "-1" as an unknown option.
_RELATIVE = {"ignore_unknown_options": True}

Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")]
ShowTraceback = Annotated[
    bool, typer.Option("--traceback", help="On error, print the full traceback before the line.")
]


@app.callback()
def _main() -> None:
    """Database migrations: Alembic wired up for SQLModel."""
    # The models module is imported relative to the project folder, as `alembic` does with
    # prepend_sys_path = "."; a console script does not have the current folder on sys.path.
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)


@app.command()
def init(database: Database = "default", traceback: ShowTraceback = False) -> None:
    """Create the migrations folder (env.py, script.py.mako, versions/)."""
    from batteries_migrate import _commands

    with _errors(traceback):
        folder = _commands.init(database=database)
    typer.echo(f"Created {folder}/ for database {database!r}: now run makemigrations")


@app.command()
def makemigrations(
    message: Annotated[str, typer.Option("--message", "-m", help="What the revision does.")],
    empty: Annotated[bool, typer.Option("--empty", help="Write a blank revision.")] = False,
    database: Database = "default",
    database_url: DatabaseUrl = None,
    models: Models = None,
    traceback: ShowTraceback = False,
) -> None:
    """Write a revision from the differences between the models and the database."""
    from batteries_migrate import _commands

    with _errors(traceback), _warnings():
        settings = _settings(database, database_url, models)
        revision = _commands.make_migration(
            message, empty=empty, database=database, settings=settings
        )
    if revision is None:
        typer.echo("No changes detected: nothing written (use --empty for a blank revision)")
    else:
        typer.echo(f"Wrote {revision.path} ({revision.id}: {revision.message})")


@app.command(context_settings=_RELATIVE)
def upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
    sql: Sql = False,
    quiet: Quiet = False,
    database: Database = "default",
    database_url: DatabaseUrl = None,
    models: Models = None,
    traceback: ShowTraceback = False,
) -> None:
    """Apply the migrations up to REVISION (head by default)."""
    from batteries_migrate import _commands

    with _errors(traceback), _progress(quiet or sql) as (progress, done):
        settings = _settings(database, database_url, models)
        output = _commands.upgrade(
            revision, sql=sql, database=database, settings=settings, progress=progress
        )
    _finish(output, done, "Applied", database, quiet)


@app.command(context_settings=_RELATIVE)
def downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision: -1, base, an id.")],
    sql: Sql = False,
    yes: Yes = False,
    quiet: Quiet = False,
    database: Database = "default",
    database_url: DatabaseUrl = None,
    models: Models = None,
    traceback: ShowTraceback = False,
) -> None:
    """Revert the migrations down to REVISION (asks for confirmation)."""
    from batteries_migrate import _commands

    if not sql:
        _confirm(f"Downgrade database {database!r} to {revision}? Data may be lost.", yes)
    with _errors(traceback), _progress(quiet or sql) as (progress, done):
        settings = _settings(database, database_url, models)
        output = _commands.downgrade(
            revision, sql=sql, database=database, settings=settings, progress=progress
        )
    _finish(output, done, "Reverted", database, quiet)


@app.command()
def current(
    database: Database = "default",
    database_url: DatabaseUrl = None,
    models: Models = None,
    traceback: ShowTraceback = False,
) -> None:
    """Print the revision the database is at."""
    from batteries_migrate import _commands

    with _errors(traceback):
        settings = _settings(database, database_url, models)
        revisions = _commands.current(database=database, settings=settings)
    typer.echo("\n".join(revisions) if revisions else "(no revision applied)")


@app.command()
def history(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show file paths.")] = False,
    database: Database = "default",
    traceback: ShowTraceback = False,
) -> None:
    """List the revisions, newest first."""
    from batteries_migrate import _commands

    with _errors(traceback):
        _print_revisions(_commands.history(database=database), verbose=verbose)


@app.command()
def heads(database: Database = "default", traceback: ShowTraceback = False) -> None:
    """List the head revisions (more than one means a merge is needed)."""
    from batteries_migrate import _commands

    with _errors(traceback):
        _print_revisions(_commands.heads(database=database))


@app.command()
def branches(database: Database = "default", traceback: ShowTraceback = False) -> None:
    """List the branch points."""
    from batteries_migrate import _commands

    with _errors(traceback):
        _print_revisions(_commands.branches(database=database))


@app.command(context_settings=_RELATIVE)
def stamp(
    revision: Annotated[str, typer.Argument(help="Revision to record.")],
    sql: Sql = False,
    yes: Yes = False,
    database: Database = "default",
    database_url: DatabaseUrl = None,
    models: Models = None,
    traceback: ShowTraceback = False,
) -> None:
    """Record REVISION as applied without running migrations (asks for confirmation)."""
    from batteries_migrate import _commands

    if not sql:
        _confirm(f"Record {revision} as the revision of database {database!r}?", yes)
    with _errors(traceback):
        settings = _settings(database, database_url, models)
        output = _commands.stamp(revision, sql=sql, database=database, settings=settings)
    typer.echo(output if output is not None else f"Stamped database {database!r} at {revision}")


@app.command()
def merge(
    message: Annotated[str, typer.Option("--message", "-m", help="Message.")] = "merge heads",
    database: Database = "default",
    traceback: ShowTraceback = False,
) -> None:
    """Write a revision that joins every head into one."""
    from batteries_migrate import _commands

    with _errors(traceback):
        revision = _commands.merge(message=message, database=database)
    typer.echo(f"Wrote {revision.path} ({revision.id} merges {', '.join(revision.down_revisions)})")


@app.command(context_settings=_RELATIVE)
def show(
    revision: Annotated[str, typer.Argument(help="A revision id, head, current.")],
    database: Database = "default",
    database_url: DatabaseUrl = None,
    models: Models = None,
    traceback: ShowTraceback = False,
) -> None:
    """Show one revision."""
    from batteries_migrate import _commands

    with _errors(traceback):
        settings = _settings(database, database_url, models)
        _print_revisions(
            _commands.show(revision, database=database, settings=settings), verbose=True
        )


@app.command()
def check(
    database: Database = "default",
    database_url: DatabaseUrl = None,
    models: Models = None,
    traceback: ShowTraceback = False,
) -> None:
    """Exit 1 when the models differ from the migrated database (for CI)."""
    from batteries_migrate import _commands

    with _errors(traceback), _warnings():
        settings = _settings(database, database_url, models)
        differences = _commands.check(database=database, settings=settings)
    if differences:
        typer.echo(f"Models and migrations of database {database!r} differ:", err=True)
        for line in differences:
            typer.echo(f"  - {line}", err=True)
        typer.echo("Run makemigrations to write a migration for them.", err=True)
        raise typer.Exit(1)
    typer.echo("Models and migrations agree.")


# ---------------------------------------------------------------- helpers


def _settings(database: str, url: str | None, models: str | None) -> BatteriesSettings | None:
    """The settings with ``--database-url`` and ``--models`` applied; ``None`` when neither is."""
    if url is None and models is None:
        return None
    if url is not None and database != "default":
        _fail("--database-url and --database cannot be used together: choose one")
    from batteries_models import BatteriesSettings

    return BatteriesSettings().with_overrides(database_url=url, models=models)


def _fail(message: str) -> NoReturn:
    typer.secho(f"Error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


@contextmanager
def _errors(show_traceback: bool = False) -> Iterator[None]:
    """Every error as one red line on stderr, exit 1; ``--traceback`` prints the chain first."""
    from batteries_models import mask_url
    from batteries_models.exceptions import BatteriesError

    try:
        yield
    except (typer.Exit, typer.Abort, typer.exceptions.TyperException):
        raise
    except Exception as exc:
        if show_traceback:
            import traceback

            sys.stderr.write(mask_url("".join(traceback.format_exception(exc))))
        if isinstance(exc, BatteriesError):
            _fail(mask_url(str(exc)))
        # Not translated (yet): still one line, not hundreds of lines of traceback.
        text = str(exc).strip()
        first = f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__
        _fail(mask_url(f"{first} (run again with --traceback for the details)"))


@contextmanager
def _warnings() -> Iterator[None]:
    """Show our warnings as one yellow line each, after the command; others as Python would."""
    from batteries_migrate.exceptions import (
        DestructiveMigrationWarning,
        NamingConventionWarning,
        NotNullColumnWarning,
    )

    ours = (DestructiveMigrationWarning, NamingConventionWarning, NotNullColumnWarning)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
    finally:
        # Shown after catch_warnings has put showwarning back: inside it, showwarning appends to
        # the very list being read, and the loop never ends.
        for warning in caught:
            if isinstance(warning.message, ours):
                typer.secho(f"Warning: {warning.message}", fg=typer.colors.YELLOW, err=True)
            else:
                warnings.showwarning(
                    warning.message, warning.category, warning.filename, warning.lineno
                )


def _stdin_is_interactive() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def _confirm(question: str, yes: bool) -> None:
    if yes:
        return
    if not _stdin_is_interactive():
        _fail("this command changes the database and stdin is not a terminal: pass --yes")
    if not typer.confirm(question, default=False):
        _fail("aborted, nothing changed")


@contextmanager
def _progress(quiet: bool) -> Iterator[tuple[Callable[[str], None], list[str]]]:
    done: list[str] = []
    if quiet or not sys.stderr.isatty():
        yield done.append, done
        return
    from rich.console import Console

    with Console(stderr=True).status("Migrating...") as status:

        def step(text: str) -> None:
            done.append(text)
            status.update(f"Migrating... {len(done)} done, last: {text}")

        yield step, done


def _finish(output: str | None, done: list[str], verb: str, database: str, quiet: bool) -> None:
    if output is not None:
        typer.echo(output, nl=False)
    elif not quiet:
        typer.echo(f"{verb} {len(done)} revision(s) on database {database!r}")


def _print_revisions(revisions: list[Revision], *, verbose: bool = False) -> None:
    for revision in revisions:
        typer.echo(str(revision))
        if verbose:
            typer.echo(f"    {revision.path}")
