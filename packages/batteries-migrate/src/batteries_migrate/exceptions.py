"""Errors and warnings raised by batteries-migrate.

Every error derives from :class:`MigrationError`, itself a
:class:`~batteries_models.exceptions.BatteriesError`; narrow errors also inherit the builtin that
fits::

    BatteriesError
    └── MigrationError
        ├── NotInitialisedError (FileNotFoundError)
        ├── AlreadyInitialisedError (FileExistsError)
        ├── UnknownRevisionError (LookupError)
        ├── MultipleHeadsError (RuntimeError)
        ├── NotUpToDateError (RuntimeError)
        ├── OfflineBatchError (ValueError)
        ├── NoModelsError (ValueError)
        ├── MigrationFailedError (RuntimeError)
        └── RevisionFileError (ImportError)

Warnings (each a ``batteries_models.BatteriesWarning``, so a ``UserWarning``):
:class:`DestructiveMigrationWarning`, :class:`NamingConventionWarning` and
:class:`NotNullColumnWarning`. An unreachable database
raises batteries-models'
:class:`~batteries_models.exceptions.DatabaseUnreachableError`, with the URL masked.
Messages are one line: what is wrong and what to do.
"""

from __future__ import annotations

from collections.abc import Sequence

from batteries_models.exceptions import BatteriesError, BatteriesWarning

__all__ = [
    "AlreadyInitialisedError",
    "DestructiveMigrationWarning",
    "MigrationError",
    "MigrationFailedError",
    "MultipleHeadsError",
    "NamingConventionWarning",
    "NoModelsError",
    "NotInitialisedError",
    "NotNullColumnWarning",
    "NotUpToDateError",
    "OfflineBatchError",
    "RevisionFileError",
    "UnknownRevisionError",
]


class MigrationError(BatteriesError):
    """Root of every batteries-migrate error; also raised for Alembic errors we do not narrow.

    Attributes:
        database: The name of the database the command acted on.
    """

    def __init__(self, message: str, *, database: str) -> None:
        super().__init__(message)
        self.database = database


class NotInitialisedError(MigrationError, FileNotFoundError):
    """The migrations folder of the database does not exist yet.

    Attributes:
        path: The folder that was looked for.
    """

    def __init__(self, message: str, *, database: str, path: str) -> None:
        super().__init__(message, database=database)
        self.path = path


class AlreadyInitialisedError(MigrationError, FileExistsError):
    """``init`` found an ``env.py`` in the migrations folder already.

    Attributes:
        path: The existing migrations folder.
    """

    def __init__(self, message: str, *, database: str, path: str) -> None:
        super().__init__(message, database=database)
        self.path = path


class UnknownRevisionError(MigrationError, LookupError):
    """A revision given to a command does not exist in the migrations folder.

    Attributes:
        revision: The revision as given.
    """

    def __init__(self, message: str, *, database: str, revision: str) -> None:
        super().__init__(message, database=database)
        self.revision = revision


class MultipleHeadsError(MigrationError, RuntimeError):
    """The migrations have several heads, so ``head`` is ambiguous; ``merge`` them.

    Attributes:
        heads: The head revision ids.
    """

    def __init__(self, message: str, *, database: str, heads: Sequence[str]) -> None:
        super().__init__(message, database=database)
        self.heads = tuple(heads)


class NotUpToDateError(MigrationError, RuntimeError):
    """Autogenerate needs the database at the head revision, and it is not.

    Attributes:
        current: The revisions the database is at.
        heads: The head revisions of the migrations folder.
    """

    def __init__(
        self, message: str, *, database: str, current: Sequence[str], heads: Sequence[str]
    ) -> None:
        super().__init__(message, database=database)
        self.current = tuple(current)
        self.heads = tuple(heads)


class OfflineBatchError(MigrationError, ValueError):
    """A SQLite batch operation (ALTER by table copy) cannot be rendered as SQL offline.

    Attributes:
        revision: The revision that holds the batch operation, when known.
    """

    def __init__(self, message: str, *, database: str, revision: str | None = None) -> None:
        super().__init__(message, database=database)
        self.revision = revision


class NoModelsError(MigrationError, ValueError):
    """Autogenerate has no models to compare with: none configured, or none found.

    Attributes:
        models: The models module that was configured, if any.
    """

    def __init__(self, message: str, *, database: str, models: str | None) -> None:
        super().__init__(message, database=database)
        self.models = models


class MigrationFailedError(MigrationError, RuntimeError):
    """A migration raised while it ran; the whole command was rolled back.

    ``upgrade`` and ``downgrade`` run in one transaction, on SQLite as on PostgreSQL, so the
    database is left exactly as it was before the command (``current``).

    Attributes:
        revision: The revision that failed, when known.
        operation: The statement of the revision file that failed
            (``op.add_column('hero', 'email')``), when known.
        reason: The first line of the error it raised.
        path: The revision file, when known.
        line: The line of ``path`` that failed, when known.
        current: The revisions the database is (still) at.
    """

    def __init__(
        self,
        message: str,
        *,
        database: str,
        revision: str | None,
        operation: str | None,
        reason: str,
        path: str | None = None,
        line: int | None = None,
        current: Sequence[str] = (),
    ) -> None:
        super().__init__(message, database=database)
        self.revision = revision
        self.operation = operation
        self.reason = reason
        self.path = path
        self.line = line
        self.current = tuple(current)


class RevisionFileError(MigrationError, ImportError):
    """A revision file cannot be loaded: a syntax error, or an error when its module runs.

    Attributes:
        path: The revision file.
        line: The line the error is on, when known.
    """

    def __init__(self, message: str, *, database: str, path: str, line: int | None) -> None:
        super().__init__(message, database=database)
        self.path = path
        self.line = line


class DestructiveMigrationWarning(BatteriesWarning):
    """An autogenerated migration drops tables or columns: read it before you run it.

    Attributes:
        path: The revision file that was written.
        dropped: What the migration drops (``table hero``, ``column hero.age``).
    """

    def __init__(self, message: str, *, path: str, dropped: Sequence[str]) -> None:
        super().__init__(message)
        self.path = path
        self.dropped = tuple(dropped)


class NamingConventionWarning(BatteriesWarning):
    """The models' ``MetaData`` has no constraint naming convention.

    Unnamed constraints cannot be dropped or altered by later migrations, and SQLite's batch mode
    refuses them; adding a convention later makes autogenerate rename every constraint.
    """


class NotNullColumnWarning(BatteriesWarning):
    """A migration adds a NOT NULL column to an existing table, which has rows or may have.

    With a literal default in the model, the migration fills the existing rows with it (a
    ``server_default`` removed right after, unless the model has one); without one, the file
    must be edited before it can run on a table with rows.

    Attributes:
        path: The revision file that was written.
        columns: The columns (``hero.email``).
    """

    def __init__(self, message: str, *, path: str, columns: Sequence[str]) -> None:
        super().__init__(message)
        self.path = path
        self.columns = tuple(columns)
