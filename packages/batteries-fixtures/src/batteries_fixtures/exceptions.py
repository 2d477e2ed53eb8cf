"""Errors raised by batteries-fixtures.

Every error derives from :class:`FixtureError` (itself a
:class:`~batteries_models.exceptions.BatteriesError`), and each narrow error also inherits the
builtin that fits::

    FixtureError
    ├── FixtureFileError (OSError)               file missing, unreadable, wrong encoding
    ├── FixtureFormatError (ValueError)          invalid JSON, empty or truncated file
    ├── FixtureSchemaError (LookupError)         unknown table or field, missing natural key
    ├── FixtureValueError (ValueError)           a value that cannot be converted
    ├── DuplicateRecordError (ValueError)        the same key twice in one load
    ├── UnresolvedReferenceError (LookupError)   FK or natural key that matches no row (or several)
    ├── ForeignKeyCycleError (ValueError)        a cycle no nullable or deferrable FK can break
    ├── FixtureIntegrityError (ValueError)       the database refused a row (constraint named)
    └── FixtureConnectionError (ConnectionError) the connection was lost during a load

Messages are one line naming the file, record index, table, key and field they are about.
"""

from __future__ import annotations

from batteries_models.exceptions import BatteriesError

__all__ = [
    "DuplicateRecordError",
    "FixtureConnectionError",
    "FixtureError",
    "FixtureFileError",
    "FixtureFormatError",
    "FixtureIntegrityError",
    "FixtureSchemaError",
    "FixtureValueError",
    "ForeignKeyCycleError",
    "UnresolvedReferenceError",
]


class FixtureError(BatteriesError):
    """Root of every batteries-fixtures error.

    Attributes:
        path: The fixture file concerned (``"-"`` for stdin), when there is one.
        record: The 0-based index of the record in its file, when there is one.
        table: The table concerned, when there is one.
        field: The field (column) concerned, when there is one.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        record: int | None = None,
        table: str | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.path = path
        self.record = record
        self.table = table
        self.field = field


class FixtureFileError(FixtureError, OSError):
    """A fixture file cannot be read: missing, unreadable, or not UTF-8."""


class FixtureFormatError(FixtureError, ValueError):
    """A fixture file is not valid JSON/JSONL, is empty, truncated, or a record is malformed.

    Attributes:
        line: 1-based line of the problem, when known.
        column: 1-based column of the problem, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        record: int | None = None,
        table: str | None = None,
        field: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        super().__init__(message, path=path, record=record, table=table, field=field)
        self.line = line
        self.column = column


class FixtureSchemaError(FixtureError, LookupError):
    """A record names a table or field the schema does not have, or lacks a required field."""


class FixtureValueError(FixtureError, ValueError):
    """A value cannot be converted to its column's type."""


class DuplicateRecordError(FixtureError, ValueError):
    """Two records of one load have the same primary or natural key."""


class UnresolvedReferenceError(FixtureError, LookupError):
    """A foreign key or natural key matches no row (or several rows)."""


class ForeignKeyCycleError(FixtureError, ValueError):
    """Tables form a foreign-key cycle that no nullable or deferrable foreign key can break.

    Attributes:
        cycle: The tables of the cycle, in order.
    """

    def __init__(self, message: str, *, cycle: tuple[str, ...]) -> None:
        super().__init__(message, table=cycle[0] if cycle else None)
        self.cycle = cycle


class FixtureIntegrityError(FixtureError, ValueError):
    """The database refused the loaded rows: a unique, check or foreign-key constraint failed.

    Attributes:
        constraint: The name of the violated constraint, when the database reports it.
    """

    def __init__(
        self,
        message: str,
        *,
        table: str | None = None,
        constraint: str | None = None,
        path: str | None = None,
        record: int | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message, path=path, record=record, table=table, field=field)
        self.constraint = constraint


class FixtureConnectionError(FixtureError, ConnectionError):
    """The connection to the database was lost during a load.

    Attributes:
        committed: ``False`` when the load certainly wrote nothing; ``None`` when the connection
            was lost while committing, so the server may or may not have committed.
    """

    def __init__(
        self, message: str, *, table: str | None = None, committed: bool | None = False
    ) -> None:
        super().__init__(message, table=table)
        self.committed = committed
