"""The ``batteries-fixtures`` command line (mounted as ``fastapi-batteries fixtures``).

Commands only parse options and call :func:`batteries_fixtures.dump` /
:func:`batteries_fixtures.load`; errors become one line on stderr and a non-zero exit.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any, Literal, NoReturn, TypeVar

import typer

if TYPE_CHECKING:
    from batteries_fixtures.formats import FixtureFormat
    from batteries_models import BatteriesSettings, Database

__all__ = ["DatabaseName", "DatabaseUrl", "ModelsOption", "app", "main"]

T = TypeVar("T")

app = typer.Typer(
    name="batteries-fixtures",
    help="Dump a database to fixtures (JSON, JSONL, YAML, CSV, Django) and load them back exactly.",
    no_args_is_help=True,
    add_completion=False,
)


DatabaseUrl = Annotated[
    str | None,
    typer.Option("--database-url", help="Database URL (default: the settings' database)."),
]
"""``--database-url``, as every command that talks to a database takes it."""
DatabaseName = Annotated[
    str | None,
    typer.Option("--database", help="Name of a database configured in the settings."),
]
"""``--database NAME``, as every command that talks to a database takes it."""
ModelsOption = Annotated[
    str | None,
    typer.Option(
        "--models",
        # Help texts are Rich markup: an unescaped "[tool.batteries]" would be read as a tag.
        help="Models module (default: the database's models, else \\[tool.batteries] models; "
        "reflect the database if unset).",
    ),
]
SchemaOption = Annotated[
    list[str] | None,
    typer.Option(
        "--schema",
        help="Also reflect the tables of this schema, named schema.table (repeatable; "
        "every schema of the search path is reflected anyway).",
    ),
]
FormatOption = Annotated[
    list[str] | None,
    typer.Option(
        "--format-option",
        "-O",
        metavar="KEY=VALUE",
        help="An option of the format (repeatable), e.g. django's table.APP.MODEL=TABLE.",
    ),
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")]
Scrub = Annotated[
    bool,
    typer.Option(
        "--scrub",
        help="Run the transforms of \\[tool.batteries.fixtures.transforms] (and those registered "
        "in Python) on every record; refuse personal-looking columns without a rule. Key: "
        "BATTERIES_SCRUB_KEY.",
    ),
]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Print counts per table.")]


@app.command()
def dump(
    tables: Annotated[
        list[str] | None, typer.Argument(help="Tables to dump (default: every table).")
    ] = None,
    exclude: Annotated[
        list[str] | None, typer.Option("--exclude", "-e", help="Table to leave out (repeatable).")
    ] = None,
    output: Annotated[
        str,
        typer.Option(
            "--output",
            "-o",
            help="File to write ('.gz', '.bz2', '.xz', '.zst' compress); '-' for stdout; "
            "a folder with --split.",
        ),
    ] = "-",
    format: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            help="json, jsonl, yaml, csv (with --split), django or a plugin's "
            "(default: from the file extension, else json).",
        ),
    ] = None,
    format_option: FormatOption = None,
    indent: Annotated[int | None, typer.Option(help="Indent JSON records.")] = None,
    natural_foreign: Annotated[
        bool, typer.Option("--natural-foreign", help="Write foreign keys as natural keys.")
    ] = False,
    natural_primary: Annotated[
        bool,
        typer.Option("--natural-primary", help="Omit surrogate keys of natural-key tables."),
    ] = False,
    split: Annotated[
        bool,
        typer.Option("--split", help="Write one file per table into the --output folder."),
    ] = False,
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs",
            "-j",
            min=1,
            help="Tables read at once on PostgreSQL, sharing one snapshot (same output).",
        ),
    ] = 1,
    allow_dangling: Annotated[
        bool,
        typer.Option(
            "--allow-dangling",
            help="Dump even when rows point at tables left out (they must exist where the "
            "dump is loaded).",
        ),
    ] = False,
    where: Annotated[
        list[str] | None,
        typer.Option(
            "--where",
            "-w",
            help="TABLE:SQL: dump only the rows of TABLE for which SQL (your own, run as "
            "written) holds (repeatable).",
        ),
    ] = None,
    with_related: Annotated[
        bool,
        typer.Option(
            "--with-related",
            help="Also dump every row the dumped rows point at, transitively (not the rows "
            "pointing at them), so the dump loads into an empty database.",
        ),
    ] = False,
    scrub: Scrub = False,
    database_url: DatabaseUrl = None,
    database: DatabaseName = None,
    models: ModelsOption = None,
    schema: SchemaOption = None,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Dump tables to a fixture (stdout by default): JSON unless the extension says otherwise."""
    from batteries_fixtures._dump import dump as dump_api
    from batteries_fixtures._subset import parse_where

    with _errors():
        conditions = parse_where(where or ())
        fmt = _format(format, format_option)
        target, model_path, settings = _target(database_url, database, models)
    with _progress(quiet=quiet) as progress, _errors():
        report = _run(
            target,
            dump_api(
                target,
                output,
                tables=tables or (),
                exclude=exclude or (),
                format=fmt,
                indent=indent,
                natural_foreign=natural_foreign,
                natural_primary=natural_primary,
                split=split,
                jobs=jobs,
                allow_dangling=allow_dangling,
                where=conditions,
                with_related=with_related,
                scrub=scrub,
                models=model_path,
                settings=settings,
                schemas=schema or (),
                progress=progress,
            ),
        )
    if verbose and not quiet:
        for table, rows in report.tables.items():
            _say(f"  {table}: {rows} rows")
    if not quiet:
        _say(report.summary())


@app.command()
def load(
    files: Annotated[
        list[str],
        typer.Argument(
            help="Fixture files (maybe compressed) or folders of them; '-' reads stdin."
        ),
    ],
    format: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            help="Format of every file: json, jsonl, yaml, csv, django or a plugin's "
            "(default: from each file's extension, else JSON or JSONL as read).",
        ),
    ] = None,
    format_option: FormatOption = None,
    append: Annotated[
        bool, typer.Option("--append", help="Insert only; an existing key is an error.")
    ] = False,
    truncate: Annotated[
        bool,
        typer.Option(
            "--truncate",
            help="First delete every row of the fixture's tables (development only: refused "
            "where BATTERIES_ENVIRONMENT=production unless --force).",
        ),
    ] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="Allow --truncate where BATTERIES_ENVIRONMENT=production."),
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate and report; write nothing.")
    ] = False,
    ignore_unknown: Annotated[
        bool,
        typer.Option(
            "--ignore-unknown",
            help="Skip tables and fields the schema lacks, and generated columns.",
        ),
    ] = False,
    scrub: Scrub = False,
    database_url: DatabaseUrl = None,
    database: DatabaseName = None,
    models: ModelsOption = None,
    schema: SchemaOption = None,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Load fixture files (merge by key by default) in one transaction."""
    from batteries_fixtures._load import load as load_api

    if append and truncate:
        _fail("--append and --truncate cannot be used together: choose one mode")
    mode: Literal["merge", "append", "truncate"] = (
        "append" if append else "truncate" if truncate else "merge"
    )
    with _errors():
        fmt = _format(format, format_option)
        from batteries_models import refuse_in_production

        target, model_path, settings = _target(database_url, database, models)
        if truncate and not dry_run:
            refuse_in_production(
                "delete every row of the fixture's tables (load --truncate)",
                settings=settings,
                force=force,
                override="pass --force",
            )
    if truncate and not dry_run and not yes:
        _confirm_truncate(target, files)
    with _progress(quiet=quiet) as progress, _errors():
        report = _run(
            target,
            load_api(
                target,
                files,
                mode=mode,
                format=fmt,
                dry_run=dry_run,
                ignore_unknown=ignore_unknown,
                scrub=scrub,
                models=model_path,
                settings=settings,
                schemas=schema or (),
                progress=progress,
            ),
        )
    if verbose and not quiet:
        for table, counts in report.tables.items():
            _say(
                f"  {table}: {counts.inserted} inserted, {counts.updated} updated, "
                f"{counts.unchanged} unchanged, {counts.skipped} skipped"
            )
    if not quiet:
        _say(report.summary())


def main() -> None:
    """Entry point of the ``batteries-fixtures`` command (and of ``python -m``)."""
    app(prog_name="batteries-fixtures")


# ---------------------------------------------------------------- helpers


def _run(database: Database, work: Coroutine[Any, Any, T]) -> T:
    """Run ``work`` in a new event loop, then close the engine's connections in that loop."""
    import asyncio

    async def run() -> T:
        try:
            return await work
        finally:
            await database.dispose()

    # The command's own process: what the imports made lives to the end, so the collector
    # need not walk it again and again while a load or dump makes millions of small objects.
    gc.freeze()
    return asyncio.run(run())


def _say(message: str) -> None:
    typer.echo(message, err=True)


def _fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code)


@contextmanager
def _errors() -> Iterator[None]:
    """Every error as one line on stderr; our warnings one line each, before it."""
    from batteries_models import BatteriesError, mask_url, warnings_as_lines

    try:
        with warnings_as_lines(_say):
            yield
    except BatteriesError as exc:
        _fail(mask_url(str(exc)))
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:
        # Never a traceback (a driver's error can print pages of row parameters): one line,
        # with the type, for a bug report.
        lines = str(exc).strip().splitlines()
        detail = f": {lines[0]}" if lines else ""
        _fail(mask_url(f"unexpected {type(exc).__name__}{detail}"))


def _format(name: str | None, options: list[str] | None) -> FixtureFormat | None:
    """The format ``--format`` names, made with its ``--format-option`` pairs."""
    if name is None:
        if options:
            _fail("--format-option configures a format: give --format NAME too")
        return None
    pairs: dict[str, str] = {}
    for option in options or ():
        key, equals, value = option.partition("=")
        if not equals or not key:
            _fail(f"--format-option {option!r} is not KEY=VALUE")
        if key in pairs:
            _fail(f"--format-option {key} is given twice: give each key once")
        pairs[key] = value
    from batteries_fixtures.formats import get_format

    return get_format(name, pairs)


def _target(
    url: str | None, name: str | None, models: str | None
) -> tuple[Database, str | None, BatteriesSettings]:
    """The database, models module and settings to use; call it inside :func:`_errors`."""
    from batteries_models import BatteriesError, BatteriesSettings, ConfigurationError, Database

    if url is not None and name is not None:
        _fail("--database-url and --database cannot be used together: choose one")
    try:
        settings = BatteriesSettings()
        # Dumps read and loads fill existing tables: a SQLite path that does not exist is an
        # error naming it, not a new empty database.
        if url is not None:
            database = Database(url, sqlite_create_file=False)
        else:
            database = Database.from_settings(
                settings.database(name or "default"),
                name=name or "default",
                sqlite_create_file=False,
            )
    except BatteriesError:
        raise
    except Exception as exc:
        msg = f"Cannot read the settings: {str(exc).splitlines()[0]}"
        raise ConfigurationError(msg) from exc
    chosen = models if models is not None else settings.models_for(name or "default")
    return database, chosen, settings


def _confirm_truncate(database: Database, files: list[str]) -> None:
    what = f"Delete every row of the tables in {', '.join(files)} from {database.masked_url}"
    if not sys.stdin.isatty():
        _fail(f"{what}? Refusing without --yes because stdin is not a terminal", code=2)
    if not typer.confirm(f"{what}, then load?", default=False, err=True):
        _fail("Aborted; nothing was changed", code=1)


@contextmanager
def _progress(*, quiet: bool) -> Iterator[Callable[[str, int, int], None] | None]:
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    tasks: dict[str, Any] = {}
    with Progress(
        TextColumn("{task.description}", markup=False),  # a table name is not Rich markup
        BarColumn(),
        MofNCompleteColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:

        def update(table: str, done: int, total: int) -> None:
            if table not in tasks:
                tasks[table] = bar.add_task(table, total=total)
            bar.update(tasks[table], completed=done, total=total)

        yield update


if __name__ == "__main__":  # python -m batteries_fixtures.cli
    main()
