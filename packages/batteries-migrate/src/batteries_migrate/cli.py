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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
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
    str | None,
    # Help texts are Rich markup: an unescaped "[tool.batteries]" would be read as a tag.
    typer.Option("--models", help="Models module (default: \\[tool.batteries] models)."),
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
    typer.echo(f"Created {_shown(folder)}/ for database {database!r}: now run makemigrations")


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

    settings = _settings(database, database_url, models, traceback)

    with _errors(traceback):
        revision = _commands.make_migration(
            message, empty=empty, database=database, settings=settings
        )
    if revision is None:
        typer.echo("No changes detected: nothing written (use --empty for a blank revision)")
    else:
        typer.echo(f"Wrote {_shown(revision.path)} ({revision.id}: {revision.message})")


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
    """Apply the migrations up to REVISION (head by default), naming each one."""
    from batteries_migrate import _commands

    settings = _settings(database, database_url, models, traceback)

    with _errors(traceback), _progress(quiet or sql) as (progress, done):
        output = _commands.upgrade(
            revision, sql=sql, database=database, settings=settings, progress=progress
        )
    if output is not None:
        typer.echo(output, nl=False)
    elif not quiet:
        with _errors(traceback):
            _report("Applied", done, database, f"database {database!r} is already at {revision}")


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
    """Revert the migrations down to REVISION (lists them and asks for confirmation)."""
    from batteries_migrate import _commands

    settings = _settings(database, database_url, models, traceback)

    if not sql:
        with _errors(traceback):
            reverting = _commands.plan(
                revision, downgrade=True, database=database, settings=settings
            )
        if not reverting:
            if not quiet:
                typer.echo(f"Nothing to revert: database {database!r} is already at {revision}")
            return
        count = _revisions_text(len(reverting))
        listed = "".join(f"\n  {r.id} {r.message}" for r in reverting)
        _confirm(
            f"Downgrade database {database!r} to {revision}, reverting {count}:{listed}\n"
            "Data they added may be lost. Revert them?",
            yes,
            what=f"reverts {count} ({', '.join(r.id for r in reverting)})",
        )
    with _errors(traceback), _progress(quiet or sql) as (progress, done):
        output = _commands.downgrade(
            revision, sql=sql, database=database, settings=settings, progress=progress
        )
    if output is not None:
        typer.echo(output, nl=False)
    elif not quiet:
        with _errors(traceback):
            _report("Reverted", done, database, f"database {database!r} is already at {revision}")


@app.command()
def current(
    database: Database = "default",
    database_url: DatabaseUrl = None,
    models: Models = None,
    traceback: ShowTraceback = False,
) -> None:
    """Print the revision the database is at."""
    from batteries_migrate import _commands

    settings = _settings(database, database_url, models, traceback)

    with _errors(traceback):
        revisions = _commands.current(database=database, settings=settings)
        heads = {head.id for head in _commands.heads(database=database, settings=settings)}
    lines = [f"{rev} (head)" if rev in heads else rev for rev in revisions]
    typer.echo("\n".join(lines) if lines else "(no revision applied)")


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

    settings = _settings(database, database_url, models, traceback)

    if not sql:
        with _errors(traceback):
            now = (
                ", ".join(_commands.current(database=database, settings=settings)) or "no revision"
            )
        _confirm(
            f"Record {revision} as the revision of database {database!r} (at {now} now), "
            "without running any migration?",
            yes,
            what=f"records {revision} as the revision of database {database!r}",
        )
    with _errors(traceback):
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
    merged = ", ".join(revision.down_revisions)
    typer.echo(f"Wrote {_shown(revision.path)} ({revision.id} merges {merged})")


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

    settings = _settings(database, database_url, models, traceback)

    with _errors(traceback):
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

    settings = _settings(database, database_url, models, traceback)

    with _errors(traceback):
        differences = _commands.check(database=database, settings=settings)
    if differences:
        typer.echo(f"Models and migrations of database {database!r} differ:", err=True)
        for line in differences:
            typer.echo(f"  - {line}", err=True)
        typer.echo("Run makemigrations to write a migration for them.", err=True)
        raise typer.Exit(1)
    typer.echo("Models and migrations agree.")


# ---------------------------------------------------------------- helpers


def _settings(
    database: str, url: str | None, models: str | None, show_traceback: bool
) -> BatteriesSettings | None:
    """The settings with ``--database-url`` and ``--models`` applied; ``None`` when neither is."""
    if url is None and models is None:
        return None
    if url is not None and database != "default":
        _fail("--database-url and --database cannot be used together: choose one")
    from batteries_models import BatteriesSettings

    with _errors(show_traceback):
        settings = BatteriesSettings().with_overrides(database_url=url, models=models)
    return settings


def _fail(message: str) -> NoReturn:
    typer.secho(f"Error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


@contextmanager
def _errors(show_traceback: bool = False) -> Iterator[None]:
    """Every error as one red line on stderr, exit 1; ``--traceback`` prints the chain first.

    Our warnings (an unknown setting, a migration that drops a table) are one yellow line each,
    shown before the error line when the command fails.
    """
    from batteries_models import mask_url, warnings_as_lines
    from batteries_models.exceptions import BatteriesError

    try:
        with warnings_as_lines(_warn):
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


def _warn(line: str) -> None:
    typer.secho(line, fg=typer.colors.YELLOW, err=True)


def _stdin_is_interactive() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def _confirm(question: str, yes: bool, *, what: str = "changes the database") -> None:
    if yes:
        return
    if not _stdin_is_interactive():
        _fail(f"this command {what} and stdin is not a terminal: pass --yes")
    if not typer.confirm(question, default=False):
        _fail("aborted, nothing changed")


@contextmanager
def _progress(quiet: bool) -> Iterator[tuple[Callable[[str], None], list[str]]]:
    done: list[str] = []
    if quiet or not sys.stderr.isatty():
        yield done.append, done
        return
    from rich.console import Console
    from rich.markup import escape

    with Console(stderr=True).status("Migrating...") as status:

        def step(text: str) -> None:
            done.append(text)
            status.update(f"Migrating... {len(done)} done, last: {escape(text)}")

        yield step, done


def _report(verb: str, done: list[str], database: str, nothing: str) -> None:
    """``Applied 2 revisions on database 'default':`` and one line per revision, id and message."""
    if not done:
        typer.echo(f"Nothing to do: {nothing}")
        return
    from batteries_migrate import _commands

    messages = {r.id: r.message for r in _commands.history(database=database)}
    typer.echo(f"{verb} {_revisions_text(len(done))} on database {database!r}:")
    for step in done:
        revision = step.rpartition(" ")[2]  # progress reports "upgrade <id>", "downgrade <id>"
        typer.echo(f"  {revision} {messages.get(revision, '')}".rstrip())


def _revisions_text(count: int) -> str:
    return f"{count} revision{'' if count == 1 else 's'}"


def _shown(path: Path) -> str:
    """``path`` relative to the project root (the folder of pyproject.toml), as the docs show."""
    from batteries_models import BatteriesError, BatteriesSettings

    try:
        return str(path.absolute().relative_to(BatteriesSettings().project_root))
    except (BatteriesError, ValueError):  # settings read fine a moment ago; outside the root
        return str(path)


def _print_revisions(revisions: list[Revision], *, verbose: bool = False) -> None:
    for revision in revisions:
        typer.echo(str(revision))
        if verbose:
            typer.echo(f"    {_shown(revision.path)}")
