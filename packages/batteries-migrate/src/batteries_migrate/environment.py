"""The runtime of the ``env.py`` that ``init`` writes: call :func:`run_env` from it.

The generated ``env.py`` is three lines::

    from alembic import context
    from batteries_migrate.environment import run_env

    run_env(context, compare_type=True, compare_server_default=True)

:func:`run_env` resolves, at run time, the database URL (from the batteries settings: the
environment, ``.env`` and ``[tool.batteries]``), the models' ``MetaData`` (from model discovery)
and the database's own version table. Nothing is copied into ``env.py``, so a fix in this package
reaches every project without editing it. Keyword arguments are passed on to Alembic's
``context.configure()``, so ``include_object``, ``include_schemas`` and friends work as usual.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from alembic.operations import ops
from sqlalchemy import event, pool
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from batteries_migrate._data_at_risk import (
    fill_not_null_columns,
    fill_null_values,
    rows_of_dropped,
    suspected_renames,
)
from batteries_migrate._enums import add_enum_creates, add_enum_drops
from batteries_migrate._foreign_keys import (
    defer_forward_foreign_keys,
    drop_tables_after_their_references,
)
from batteries_migrate._project import MigrationTarget, resolve_target
from batteries_migrate._sqlite_transactions import (
    DanglingReferencesError,
    dangling_references,
    use_transactional_ddl,
)
from batteries_migrate._type_changes import add_postgresql_using
from batteries_migrate.exceptions import NamingConventionWarning, NoModelsError
from batteries_models import (
    DEFAULT_DATABASE,
    discover_models,
    mask_url,
    require_database_file,
)
from batteries_models.exceptions import DatabaseNotFoundError, DatabaseUnreachableError

if TYPE_CHECKING:
    from alembic.autogenerate.api import AutogenContext
    from alembic.operations.ops import MigrationScript
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import MetaData
    from sqlalchemy.engine import URL, Connection

__all__ = ["load_metadata", "render_item", "run_env"]

TARGET_ATTRIBUTE = "batteries_target"
"""Key of the :class:`batteries_migrate.MigrationTarget` in ``Config.attributes``."""

METADATA_ATTRIBUTE = "batteries_metadata"
SKIP_EMPTY_ATTRIBUTE = "batteries_skip_empty"
DROPPED_ATTRIBUTE = "batteries_dropped"
DROPPED_ROWS_ATTRIBUTE = "batteries_dropped_rows"
NOT_NULL_ATTRIBUTE = "batteries_not_null"
RENAMES_ATTRIBUTE = "batteries_renames"
PROGRESS_ATTRIBUTE = "batteries_progress"
MISSING_FILE_ATTRIBUTE = "batteries_missing_file"
MissingFile = Literal["create", "error", "empty"]
"""What a SQLite file that does not exist means to a command: create it (``upgrade``), an error
(commands that read), or an empty database that is not created (the first ``makemigrations``)."""
RECORDER_ATTRIBUTE = "batteries_recorder"
# Keys a naming convention needs so that every constraint a migration creates has a name.
_CONVENTION_KEYS = {"pk", "fk", "uq", "ck"}


def run_env(context: Any, **options: Any) -> None:
    """Run the current Alembic command for the database it was called for.

    Offline (``--sql``) it renders SQL from the URL alone; online it opens an async engine, runs
    the migrations inside ``asyncio.run`` (in a worker thread when an event loop is already
    running) and, on PostgreSQL, holds a transaction-level advisory lock so that two processes
    running ``upgrade`` at once apply each revision once.

    Defaults passed to ``context.configure()``: ``compare_type=True``,
    ``compare_server_default=True``, ``render_as_batch=True`` on SQLite, the database's own
    ``version_table``, a ``render_item`` hook that imports the module of every non-SQLAlchemy
    type (``sqlmodel``'s ``AutoString``, your own ``TypeDecorator``), and the models' ``MetaData``
    with the shared naming convention.

    Args:
        context: The ``alembic.context`` module, as imported in ``env.py``.
        **options: Overrides and additions for ``context.configure()``.

    Raises:
        DatabaseUnreachableError: The server cannot be reached (URL masked).
        NoModelsError: Autogenerate runs but no models module is configured or it has no tables.
    """
    config = context.config
    target = _target(config)
    user_directives = options.pop("process_revision_directives", None)
    configure: dict[str, Any] = {
        "target_metadata": _metadata(config, target),
        "version_table": target.version_table,
        "compare_type": True,
        "compare_server_default": True,
        "render_as_batch": target.dialect == "sqlite",
        # Alembic assumes SQLite's DDL is not transactional and commits after every revision;
        # it is, once the driver no longer manages BEGIN (see _sqlite_transactions).
        "transactional_ddl": True if target.dialect == "sqlite" else None,
        "render_item": render_item,
        "process_revision_directives": _directives(config.attributes, user_directives),
    }
    applied: list[str] = []
    configure["on_version_apply"] = _on_version_apply(
        applied, config.attributes.get(PROGRESS_ATTRIBUTE)
    )
    configure.update(options)
    if context.is_offline_mode():
        context.configure(
            url=target.url, literal_binds=True, dialect_opts={"paramstyle": "named"}, **configure
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(_run_online(context, target, configure, applied))
        return
    # Called by plain Alembic inside a running loop (an async test, a lifespan): asyncio.run
    # refuses to nest, so the migration gets a thread and a loop of its own (alembic #1353).
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="batteries-migrate") as pool:
        pool.submit(asyncio.run, _run_online(context, target, configure, applied)).result()


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | bool:
    """Import the module of every type that SQLAlchemy does not own, then render it as usual.

    Alembic renders ``sqlmodel.sql.sqltypes.AutoString()`` but never imports ``sqlmodel``
    (alembic #1386, #1647), so the revision would die with ``NameError``.
    """
    if type_ == "type":
        module = type(obj).__module__
        if not module.startswith("sqlalchemy") and module != "builtins":
            autogen_context.imports.add(f"import {module}")
    return False


def load_metadata(target: MigrationTarget) -> MetaData | list[MetaData]:
    """Import the models module of ``target`` and return the ``MetaData`` of its tables.

    Raises:
        NoModelsError: No models module is configured, or it defines no table; autogenerate
            would otherwise propose to drop every table of the database.
        ModelDiscoveryError: The module cannot be imported.
    """
    if not target.models:
        own = ""
        if target.database != DEFAULT_DATABASE:
            name = target.database
            own = (
                f" (or, for this database only, models under [tool.batteries.databases.{name}]"
                f" or BATTERIES_DATABASES__{name.upper()}__MODELS)"
            )
        msg = (
            f"No models module is configured for database {target.database!r}: set models = "
            f'"app.models" under [tool.batteries] in pyproject.toml, or BATTERIES_MODELS{own}'
        )
        raise NoModelsError(msg, database=target.database, models=None)
    found = discover_models(target.models)
    if not found.tables:
        msg = (
            f"Models module {target.models!r} defines no table: import your table models in it "
            "(autogenerate would otherwise drop every table)"
        )
        raise NoModelsError(msg, database=target.database, models=target.models)
    for metadata in found.metadatas:
        if not set(metadata.naming_convention) >= _CONVENTION_KEYS:
            tables = ", ".join(sorted(metadata.tables)[:3])
            msg = (
                f"The MetaData of {tables}... has no constraint naming convention: derive the "
                "models from batteries_models.BaseModel before writing the first migration"
            )
            warnings.warn(NamingConventionWarning(msg), stacklevel=2)
    if len(found.metadatas) == 1:
        return found.metadatas[0]
    return list(found.metadatas)


def _target(config: Any) -> MigrationTarget:
    target = config.attributes.get(TARGET_ATTRIBUTE)
    if isinstance(target, MigrationTarget):
        return target
    # Run by the plain ``alembic`` command: read the settings ourselves.
    database = config.get_main_option("batteries_database") or DEFAULT_DATABASE
    return resolve_target(database)


def _metadata(config: Any, target: MigrationTarget) -> MetaData | list[MetaData] | None:
    if METADATA_ATTRIBUTE in config.attributes:
        metadata: MetaData | list[MetaData] | None = config.attributes[METADATA_ATTRIBUTE]
        return metadata
    return load_metadata(target) if target.models else None


def _directives(
    attributes: dict[str, Any], user: Callable[..., None] | None
) -> Callable[..., None]:
    def process(
        context: MigrationContext, revision: Any, directives: list[MigrationScript]
    ) -> None:
        if directives and directives[0].upgrade_ops is not None:
            script = directives[0]
            if attributes.get(SKIP_EMPTY_ATTRIBUTE) and all(
                upgrade_ops.is_empty() for upgrade_ops in script.upgrade_ops_list
            ):
                directives[:] = []
                return
            attributes[DROPPED_ATTRIBUTE] = [
                drop for upgrade_ops in script.upgrade_ops_list for drop in _drops(upgrade_ops.ops)
            ]
            attributes[DROPPED_ROWS_ATTRIBUTE] = {
                name: rows
                for ops_ in script.upgrade_ops_list
                for name, rows in rows_of_dropped(context, ops_).items()
            }
            attributes[RENAMES_ATTRIBUTE] = [
                line
                for ops_ in script.upgrade_ops_list
                for line in suspected_renames(context, ops_)
            ]
            attributes[NOT_NULL_ATTRIBUTE] = [
                found
                for ops_ in script.upgrade_ops_list
                for found in [
                    *fill_not_null_columns(context, ops_),
                    *fill_null_values(context, ops_),
                ]
            ]
            metadata = context.opts.get("target_metadata")
            for upgrade_ops, downgrade_ops in zip(
                script.upgrade_ops_list, script.downgrade_ops_list, strict=True
            ):
                defer_forward_foreign_keys(upgrade_ops, downgrade_ops)
                drop_tables_after_their_references(upgrade_ops, downgrade_ops)
                add_enum_creates(upgrade_ops, downgrade_ops, metadata)
            for container in [*script.upgrade_ops_list, *script.downgrade_ops_list]:
                add_enum_drops(container)
                add_postgresql_using(context, container)
        if user is not None:
            user(context, revision, directives)

    return process


def _drops(operations: Iterable[Any]) -> list[str]:
    found: list[str] = []
    for op in operations:
        if isinstance(op, ops.DropTableOp):
            found.append(f"table {op.table_name}")
        elif isinstance(op, ops.DropColumnOp):
            found.append(f"column {op.table_name}.{op.column_name}")
        elif isinstance(op, ops.ModifyTableOps):
            found.extend(_drops(op.ops))
    return found


def _on_version_apply(
    applied: list[str], progress: Callable[[str], None] | None
) -> Callable[..., None]:
    def on_apply(*, ctx: Any, step: Any, heads: Any, run_args: Any) -> None:
        revision = step.up_revision_id if step.is_upgrade else step.down_revision_ids
        applied.append(str(revision))
        if progress is not None:
            progress(f"{'upgrade' if step.is_upgrade else 'downgrade'} {step.up_revision_id}")

    return on_apply


async def _run_online(
    context: Any, target: MigrationTarget, configure: dict[str, Any], applied: list[str]
) -> None:
    url = _url_for_missing_file(target, context.config.attributes.get(MISSING_FILE_ATTRIBUTE))
    _check_sqlite_folder(target)
    # NullPool: the engine lives for one command; a pool would keep connections open after it.
    engine = create_async_engine(url, poolclass=pool.NullPool)
    if target.dialect == "sqlite":
        use_transactional_ddl(engine.sync_engine)
    recorded = context.config.attributes.get(RECORDER_ATTRIBUTE)
    if recorded is not None:

        @event.listens_for(engine.sync_engine, "before_cursor_execute")
        def _record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
            recorded.append((statement, parameters))

    try:
        try:
            connection = await engine.connect()
        except (OSError, DBAPIError) as exc:
            raise _unreachable(target, exc) from exc
        try:
            await connection.run_sync(_run_sync, context, target, configure, applied)
        finally:
            await connection.close()
    finally:
        await engine.dispose()


def _run_sync(
    connection: Connection,
    context: Any,
    target: MigrationTarget,
    configure: dict[str, Any],
    applied: list[str],
) -> None:
    context.configure(connection=connection, **configure)
    # One transaction for the whole command (Alembic's default, transaction_per_migration=False):
    # a failed upgrade rolls back every revision it ran, version rows included, on SQLite too.
    with context.begin_transaction():
        if target.dialect == "postgresql" and not context.is_offline_mode():
            # Transaction-level, so it is released by the commit: concurrent upgrades queue up.
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({target.lock_key})")
        context.run_migrations()
        if target.dialect == "sqlite" and applied:
            # Foreign keys were off while the migrations ran: check before committing.
            found = dangling_references(connection)
            if found:
                raise DanglingReferencesError(found, applied[-1])


def _url_for_missing_file(target: MigrationTarget, missing: MissingFile | None) -> URL:
    """The URL to connect to: the target's, unless its SQLite file must not be created.

    Plain ``alembic`` commands (no attribute) keep Alembic's behaviour: the file is created.
    """
    if missing in (None, "create"):
        return target.url
    try:
        require_database_file(target.url, name=target.database)
    except DatabaseNotFoundError:
        if missing == "empty":
            return target.url.set(database=":memory:")
        raise
    return target.url


def _check_sqlite_folder(target: MigrationTarget) -> None:
    # aiosqlite's worker thread outlives a failed connect and then calls into the closed loop
    # of asyncio.run; refuse the one common cause, a missing folder, before connecting.
    database = target.url.database or ""
    if target.dialect != "sqlite" or database in ("", ":memory:") or database.startswith("file:"):
        return
    folder = Path(database).parent
    if not folder.is_dir():
        raise _unreachable(target, FileNotFoundError(f"folder {folder} does not exist"))


def _unreachable(target: MigrationTarget, exc: BaseException) -> DatabaseUnreachableError:
    url = target.url
    host, port = url.host, url.port
    where = f"{host}:{port}" if host and port else host or url.database or "?"
    text = str(getattr(exc, "orig", None) or exc).strip()
    reason = text.splitlines()[0] if text else type(exc).__name__
    msg = (
        f"Cannot connect to database {target.database!r} at {where} ({mask_url(url)}): "
        f"{mask_url(reason, password=url.password)}; "
        "check that the server is running and the URL is right"
    )
    return DatabaseUnreachableError(msg, url=mask_url(url), host=host, port=port)
