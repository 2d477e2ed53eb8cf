"""The migration commands as Python functions, one per Alembic command."""

from __future__ import annotations

import io
import shutil
import warnings
from argparse import Namespace
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

from batteries_migrate._project import MigrationTarget, resolve_target
from batteries_migrate._revision import Revision
from batteries_migrate.exceptions import (
    AlreadyInitialisedError,
    DestructiveMigrationWarning,
    MigrationError,
    NotInitialisedError,
)
from batteries_models import DEFAULT_DATABASE, BatteriesSettings

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

__all__ = [
    "branches",
    "check",
    "current",
    "downgrade",
    "heads",
    "history",
    "init",
    "make_migration",
    "merge",
    "show",
    "stamp",
    "upgrade",
]

_TEMPLATE_FILES = ("env.py", "script.py.mako", "README")


def init(*, database: str = DEFAULT_DATABASE, settings: BatteriesSettings | None = None) -> Path:
    """Create the migrations folder of ``database``: ``env.py``, ``script.py.mako``, ``versions/``.

    The folder is ``[tool.batteries] migrations`` (default ``migrations``) for the ``default``
    database and ``<migrations>/<name>`` for every other one. ``env.py`` holds no URL and no model
    import: both are read from the settings when a command runs.

    Args:
        database: The name of the database in the settings.
        settings: The settings to read; ``BatteriesSettings()`` when not given.

    Returns:
        The migrations folder.

    Raises:
        AlreadyInitialisedError: The folder already has an ``env.py``.
        ConfigurationError: ``database`` has no URL configured.
    """
    target = resolve_target(database, settings=settings)
    directory = target.directory
    if (directory / "env.py").exists():
        msg = (
            f"{directory} already holds the migrations of database {database!r} (env.py exists): "
            "nothing to do, run makemigrations"
        )
        raise AlreadyInitialisedError(msg, database=database, path=str(directory))
    (directory / "versions").mkdir(parents=True, exist_ok=True)
    templates = files("batteries_migrate").joinpath("_templates")
    for name in _TEMPLATE_FILES:
        with templates.joinpath(name).open("rb") as source, (directory / name).open("wb") as dest:
            shutil.copyfileobj(source, dest)
    return directory


def make_migration(
    message: str,
    *,
    autogenerate: bool = True,
    empty: bool = False,
    database: str = DEFAULT_DATABASE,
    settings: BatteriesSettings | None = None,
) -> Revision | None:
    """Write a new revision file, by default from the differences between models and database.

    Like Django's ``makemigrations``, nothing is written when autogenerate finds no change; pass
    ``empty=True`` for a blank revision to fill in by hand. A revision that drops tables or
    columns is written, and a :class:`DestructiveMigrationWarning` names what it drops.

    Args:
        message: What the revision does; it becomes the file's docstring and name.
        autogenerate: Compare the models with the database (which must be at head).
        empty: Write a blank revision, whatever the models say.
        database: The name of the database in the settings.
        settings: The settings to read; ``BatteriesSettings()`` when not given.

    Returns:
        The revision written, or ``None`` when autogenerate found nothing to do.

    Raises:
        NotInitialisedError: ``init`` has not been run for this database.
        NotUpToDateError: The database is not at the head revision.
        MultipleHeadsError: The migrations have several heads; ``merge`` them first.
        NoModelsError: No models module is configured, or it defines no table.
        DatabaseUnreachableError: The database cannot be reached.
    """
    from alembic import command

    from batteries_migrate._runner import translate_errors
    from batteries_migrate.environment import (
        DROPPED_ATTRIBUTE,
        SKIP_EMPTY_ATTRIBUTE,
        load_metadata,
    )

    target = resolve_target(database, settings=settings)
    auto = autogenerate and not empty
    metadata = load_metadata(target) if auto else None
    config = _config(target, metadata=metadata, attributes={SKIP_EMPTY_ATTRIBUTE: auto})
    script_directory = _script_directory(target, config)
    _check_revision(target, script_directory, "head")
    with translate_errors(target):
        written = _run(lambda: command.revision(config, message=message, autogenerate=auto))
    script = written[0] if isinstance(written, list) and written else written
    if script is None or isinstance(script, list):
        return None
    revision = Revision.from_script(script)
    dropped: list[str] = config.attributes.get(DROPPED_ATTRIBUTE) or []
    if dropped:
        msg = (
            f"Revision {revision.id} DROPS {', '.join(dropped)}: data will be lost; if a model "
            f"was renamed or not imported, edit or delete {revision.path} before upgrading"
        )
        warnings.warn(
            DestructiveMigrationWarning(msg, path=str(revision.path), dropped=dropped), stacklevel=2
        )
    return revision


def upgrade(
    target: str = "head",
    *,
    sql: bool = False,
    database: str = DEFAULT_DATABASE,
    settings: BatteriesSettings | None = None,
    progress: Callable[[str], None] | None = None,
) -> str | None:
    """Apply the revisions up to ``target`` (``head`` by default).

    On PostgreSQL a transaction-level advisory lock makes concurrent upgrades (several workers
    starting at once) wait for each other. Safe to call from a running event loop (a FastAPI
    lifespan): the command then runs in a worker thread.

    Args:
        target: A revision id, ``head``, ``+1``...; ``FROM:TO`` with ``sql=True``.
        sql: Dry run: return the SQL instead of running it. Without ``FROM:``, it starts at the
            database's current revision (read from the database).
        database: The name of the database in the settings.
        settings: The settings to read; ``BatteriesSettings()`` when not given.
        progress: Called with ``"upgrade <rev>"`` after each revision is applied.

    Returns:
        The SQL when ``sql`` is true, else ``None``.

    Raises:
        NotInitialisedError: ``init`` has not been run for this database.
        UnknownRevisionError: ``target`` is not a revision of the folder.
        MultipleHeadsError: ``head`` is ambiguous; ``merge`` the heads first.
        OfflineBatchError: ``sql`` on SQLite with a batch (table copy) operation.
        DatabaseUnreachableError: The database cannot be reached.
    """
    return _migrate("upgrade", target, sql, database, settings, progress)


def downgrade(
    target: str,
    *,
    sql: bool = False,
    database: str = DEFAULT_DATABASE,
    settings: BatteriesSettings | None = None,
    progress: Callable[[str], None] | None = None,
) -> str | None:
    """Revert the revisions down to ``target`` (``-1`` for the last one, ``base`` for all).

    Args:
        target: A revision id, ``-1``, ``base``...; ``FROM:TO`` with ``sql=True``.
        sql: Dry run: return the SQL instead of running it. Without ``FROM:``, it starts at the
            database's current revision (read from the database).
        database: The name of the database in the settings.
        settings: The settings to read; ``BatteriesSettings()`` when not given.
        progress: Called with ``"downgrade <rev>"`` after each revision is reverted.

    Returns:
        The SQL when ``sql`` is true, else ``None``.

    Raises:
        NotInitialisedError: ``init`` has not been run for this database.
        UnknownRevisionError: ``target`` is not a revision of the folder.
        DatabaseUnreachableError: The database cannot be reached.
    """
    return _migrate("downgrade", target, sql, database, settings, progress)


def stamp(
    target: str,
    *,
    sql: bool = False,
    purge: bool = False,
    database: str = DEFAULT_DATABASE,
    settings: BatteriesSettings | None = None,
) -> str | None:
    """Record ``target`` as the database's revision without running any migration.

    Args:
        target: The revision to record (``head``, ``base``, an id).
        sql: Dry run: return the SQL instead of running it.
        purge: Empty the version table first.
        database: The name of the database in the settings.
        settings: The settings to read; ``BatteriesSettings()`` when not given.

    Returns:
        The SQL when ``sql`` is true, else ``None``.

    Raises:
        UnknownRevisionError: ``target`` is not a revision of the folder.
        DatabaseUnreachableError: The database cannot be reached.
    """
    from alembic import command

    from batteries_migrate._runner import translate_errors

    resolved = resolve_target(database, settings=settings)
    output = io.StringIO() if sql else None
    config = _config(resolved, output=output)
    _check_revision(resolved, _script_directory(resolved, config), target)
    with translate_errors(resolved, target):
        _run(lambda: command.stamp(config, target, sql=sql, purge=purge))
    return output.getvalue() if output is not None else None


def current(
    *, database: str = DEFAULT_DATABASE, settings: BatteriesSettings | None = None
) -> tuple[str, ...]:
    """Return the revision ids the database is at: empty before the first upgrade.

    Raises:
        NotInitialisedError: ``init`` has not been run for this database.
        DatabaseUnreachableError: The database cannot be reached.
    """
    target = resolve_target(database, settings=settings)
    config = _config(target)
    return _database_heads(target, config, _script_directory(target, config))


def history(
    *, database: str = DEFAULT_DATABASE, settings: BatteriesSettings | None = None
) -> list[Revision]:
    """Return every revision, newest first. Reads files only; the database is not contacted.

    Raises:
        NotInitialisedError: ``init`` has not been run for this database.
    """
    target = resolve_target(database, settings=settings)
    script_directory = _script_directory(target, _config(target))
    from batteries_migrate._runner import translate_errors

    with translate_errors(target):
        return [Revision.from_script(s) for s in script_directory.walk_revisions()]


def heads(
    *, database: str = DEFAULT_DATABASE, settings: BatteriesSettings | None = None
) -> list[Revision]:
    """Return the head revisions: one normally, several after parallel branches.

    Raises:
        NotInitialisedError: ``init`` has not been run for this database.
    """
    target = resolve_target(database, settings=settings)
    script_directory = _script_directory(target, _config(target))
    scripts = script_directory.get_revisions(script_directory.get_heads())
    return [Revision.from_script(s) for s in scripts if s is not None]


def branches(
    *, database: str = DEFAULT_DATABASE, settings: BatteriesSettings | None = None
) -> list[Revision]:
    """Return the branch points: revisions that several revisions follow.

    Raises:
        NotInitialisedError: ``init`` has not been run for this database.
    """
    return [r for r in history(database=database, settings=settings) if r.is_branch_point]


def merge(
    revisions: str | tuple[str, ...] = "heads",
    *,
    message: str = "merge heads",
    database: str = DEFAULT_DATABASE,
    settings: BatteriesSettings | None = None,
) -> Revision:
    """Write a revision that joins ``revisions`` (every head by default) into one head.

    Raises:
        NotInitialisedError: ``init`` has not been run for this database.
        MigrationError: There is only one head: nothing to merge.
        UnknownRevisionError: A revision is not in the folder.
    """
    from alembic import command

    from batteries_migrate._runner import translate_errors

    target = resolve_target(database, settings=settings)
    config = _config(target)
    script_directory = _script_directory(target, config)
    if revisions == "heads" and len(script_directory.get_heads()) < 2:
        msg = f"The migrations of database {database!r} have one head: nothing to merge"
        raise MigrationError(msg, database=database)
    with translate_errors(target):
        script = _run(lambda: command.merge(config, revisions, message=message))
    if script is None:  # pragma: no cover - Alembic returns the script it wrote
        msg = f"Alembic wrote no merge revision for database {database!r}"
        raise MigrationError(msg, database=database)
    return Revision.from_script(script)


def show(
    revision: str, *, database: str = DEFAULT_DATABASE, settings: BatteriesSettings | None = None
) -> list[Revision]:
    """Return the revision(s) that ``revision`` names (an id, ``head``, ``heads``, ``current``).

    Raises:
        NotInitialisedError: ``init`` has not been run for this database.
        UnknownRevisionError: ``revision`` is not in the folder.
    """
    from batteries_migrate._runner import translate_errors

    target = resolve_target(database, settings=settings)
    config = _config(target)
    script_directory = _script_directory(target, config)
    if revision == "current":
        names: Any = _database_heads(target, config, script_directory)
    else:
        _check_revision(target, script_directory, revision)
        names = revision
    with translate_errors(target, revision):
        return [Revision.from_script(s) for s in script_directory.get_revisions(names) if s]


def check(
    *, database: str = DEFAULT_DATABASE, settings: BatteriesSettings | None = None
) -> list[str]:
    """Compare the models with the database at head; return the differences, one line each.

    An empty list means models and migrations agree. Run it in CI after ``upgrade`` to catch a
    model change that has no migration.

    Raises:
        NotInitialisedError: ``init`` has not been run for this database.
        NotUpToDateError: The database is not at the head revision: ``upgrade`` first.
        NoModelsError: No models module is configured, or it defines no table.
        DatabaseUnreachableError: The database cannot be reached.
    """
    from alembic import command
    from alembic.util import AutogenerateDiffsDetected

    from batteries_migrate._diffs import describe
    from batteries_migrate._runner import translate_errors
    from batteries_migrate.environment import load_metadata

    target = resolve_target(database, settings=settings)
    config = _config(target, metadata=load_metadata(target))
    _script_directory(target, config)
    try:
        with translate_errors(target):
            _run(lambda: command.check(config))
    except AutogenerateDiffsDetected as exc:
        return describe(list(exc.diffs))
    return []


# ---------------------------------------------------------------- helpers


def _migrate(
    direction: str,
    revision: str,
    sql: bool,
    database: str,
    settings: BatteriesSettings | None,
    progress: Callable[[str], None] | None,
) -> str | None:
    from alembic import command

    from batteries_migrate._runner import translate_errors
    from batteries_migrate.environment import PROGRESS_ATTRIBUTE

    target = resolve_target(database, settings=settings)
    output = io.StringIO() if sql else None
    config = _config(target, output=output, attributes={PROGRESS_ATTRIBUTE: progress})
    script_directory = _script_directory(target, config)
    _check_revision(target, script_directory, revision)
    argument = revision
    if sql and ":" not in revision:
        argument = _offline_range(target, config, script_directory, revision, direction)
    run = command.upgrade if direction == "upgrade" else command.downgrade
    with translate_errors(target, revision):
        _run(lambda: run(config, argument, sql=sql))
    return output.getvalue() if output is not None else None


def _offline_range(
    target: MigrationTarget,
    config: Config,
    script_directory: ScriptDirectory,
    revision: str,
    direction: str,
) -> str:
    # Offline mode cannot read the database, so Alembic would print the SQL from base: start
    # at the revision the database is really at, which is what the real command would run.
    at = _database_heads(target, config, script_directory)
    if len(at) > 1:
        msg = (
            f"Database {target.database!r} is at several revisions ({', '.join(at)}): "
            "give the range explicitly, as FROM:TO"
        )
        raise MigrationError(msg, database=target.database)
    start = at[0] if at else "base"
    if direction == "downgrade" and start == "base":
        msg = f"Database {target.database!r} has no revision applied: nothing to downgrade"
        raise MigrationError(msg, database=target.database)
    if direction == "upgrade" and start == "base":
        return revision
    if direction == "downgrade" and revision.startswith("-"):
        steps = int(revision[1:] or 1)
        revision = _walk_down(script_directory, start, steps)
    return f"{start}:{revision}"


def _walk_down(script_directory: ScriptDirectory, start: str, steps: int) -> str:
    rev = start
    for _ in range(steps):
        script = script_directory.get_revision(rev)
        down = script.down_revision if script is not None else None
        if down is None:
            return "base"
        rev = down if isinstance(down, str) else down[0]
    return rev


def _database_heads(
    target: MigrationTarget, config: Config, script_directory: ScriptDirectory
) -> tuple[str, ...]:
    from alembic.runtime.environment import EnvironmentContext

    from batteries_migrate._runner import translate_errors

    found: list[str] = []

    def read(_rev: Any, context: Any) -> list[Any]:
        found.extend(context.get_current_heads())
        return []

    def work() -> None:
        with EnvironmentContext(config, script_directory, fn=read, dont_mutate=True):
            script_directory.run_env()

    with translate_errors(target):
        _run(work)
    return tuple(found)


def _check_revision(
    target: MigrationTarget, script_directory: ScriptDirectory, revision: str
) -> None:
    """Fail before connecting when a revision named in ``revision`` does not exist."""
    from alembic.script.revision import RevisionError
    from alembic.util import CommandError

    from batteries_migrate._runner import multiple_heads, unknown_revision

    for part in revision.split(":"):
        if not part or part[0] in "+-" or part in ("base", "heads"):
            continue
        try:
            script_directory.get_revisions(part)
        except (CommandError, RevisionError) as exc:
            text = str(exc)
            if "Multiple head" in text:
                raise multiple_heads(target, list(script_directory.get_heads())) from exc
            if "Can't locate" in text or "No such revision" in text:
                raise unknown_revision(target, part) from exc


def _config(
    target: MigrationTarget,
    *,
    output: io.StringIO | None = None,
    metadata: Any = None,
    attributes: dict[str, Any] | None = None,
) -> Config:
    from batteries_migrate._config import build_config

    config = build_config(target, output=output, metadata=metadata, attributes=attributes)
    # We return data instead of printing: silence Alembic's own messages.
    config.cmd_opts = Namespace(quiet=True)
    config.stdout = io.StringIO()
    return config


def _script_directory(target: MigrationTarget, config: Config) -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    location = Path(config.get_main_option("script_location") or target.directory)
    if not (location / "env.py").is_file():
        msg = (
            f"No migrations folder for database {target.database!r} at {target.directory}: "
            f"run `fastapi-batteries db init{_db_flag(target)}` first"
        )
        raise NotInitialisedError(msg, database=target.database, path=str(target.directory))
    return ScriptDirectory.from_config(config)


def _db_flag(target: MigrationTarget) -> str:
    return "" if target.database == DEFAULT_DATABASE else f" --database {target.database}"


def _run(work: Callable[[], Any]) -> Any:
    from batteries_migrate._runner import run_alembic

    return run_alembic(work)
