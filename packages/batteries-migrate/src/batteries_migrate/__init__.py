"""batteries-migrate: Alembic wired up for SQLModel, with every command as a Python function.

Example::

    import batteries_migrate

    batteries_migrate.init()                      # migrations/ with an async env.py
    batteries_migrate.make_migration("add hero")  # autogenerate from [tool.batteries] models
    batteries_migrate.upgrade()                   # to head; safe inside a FastAPI lifespan
    assert batteries_migrate.check() == []        # models and migrations agree

Every function takes ``database="default"`` (a named database of the settings) and reads the
URL, the models module and the migrations folder from ``batteries_models.BatteriesSettings``.

The names are imported on first use, so that ``fastapi-batteries db --help`` does not pay for
importing SQLAlchemy and Alembic (nor ``importlib.metadata``, for ``__version__``).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    __version__: str
    from batteries_migrate._commands import (
        branches,
        check,
        current,
        downgrade,
        heads,
        history,
        init,
        make_migration,
        merge,
        plan,
        show,
        stamp,
        upgrade,
    )
    from batteries_migrate._project import MigrationTarget, resolve_target
    from batteries_migrate._revision import Revision
    from batteries_migrate.exceptions import (
        AlreadyInitialisedError,
        DestructiveMigrationWarning,
        MigrationError,
        MigrationFailedError,
        MultipleHeadsError,
        NamingConventionWarning,
        NoModelsError,
        NotInitialisedError,
        NotNullColumnWarning,
        NotUpToDateError,
        OfflineBatchError,
        RevisionFileError,
        UnknownRevisionError,
    )

_LAZY: dict[str, str] = {
    "AlreadyInitialisedError": "batteries_migrate.exceptions",
    "DestructiveMigrationWarning": "batteries_migrate.exceptions",
    "MigrationError": "batteries_migrate.exceptions",
    "MigrationFailedError": "batteries_migrate.exceptions",
    "MigrationTarget": "batteries_migrate._project",
    "MultipleHeadsError": "batteries_migrate.exceptions",
    "NamingConventionWarning": "batteries_migrate.exceptions",
    "NoModelsError": "batteries_migrate.exceptions",
    "NotInitialisedError": "batteries_migrate.exceptions",
    "NotNullColumnWarning": "batteries_migrate.exceptions",
    "NotUpToDateError": "batteries_migrate.exceptions",
    "OfflineBatchError": "batteries_migrate.exceptions",
    "Revision": "batteries_migrate._revision",
    "RevisionFileError": "batteries_migrate.exceptions",
    "UnknownRevisionError": "batteries_migrate.exceptions",
    "branches": "batteries_migrate._commands",
    "check": "batteries_migrate._commands",
    "current": "batteries_migrate._commands",
    "downgrade": "batteries_migrate._commands",
    "heads": "batteries_migrate._commands",
    "history": "batteries_migrate._commands",
    "init": "batteries_migrate._commands",
    "make_migration": "batteries_migrate._commands",
    "merge": "batteries_migrate._commands",
    "plan": "batteries_migrate._commands",
    "resolve_target": "batteries_migrate._project",
    "show": "batteries_migrate._commands",
    "stamp": "batteries_migrate._commands",
    "upgrade": "batteries_migrate._commands",
}

__all__ = [
    "AlreadyInitialisedError",
    "DestructiveMigrationWarning",
    "MigrationError",
    "MigrationFailedError",
    "MigrationTarget",
    "MultipleHeadsError",
    "NamingConventionWarning",
    "NoModelsError",
    "NotInitialisedError",
    "NotNullColumnWarning",
    "NotUpToDateError",
    "OfflineBatchError",
    "Revision",
    "RevisionFileError",
    "UnknownRevisionError",
    "__version__",
    "branches",
    "check",
    "current",
    "downgrade",
    "heads",
    "history",
    "init",
    "make_migration",
    "merge",
    "plan",
    "resolve_target",
    "show",
    "stamp",
    "upgrade",
]


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import version

        globals()[name] = version("batteries-migrate")
        return globals()[name]
    module = _LAZY.get(name)
    if module is None:
        msg = f"module 'batteries_migrate' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
