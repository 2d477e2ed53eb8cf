"""Errors raised by batteries-crud.

Each error derives from :class:`CRUDError` (itself a
:class:`~batteries_models.exceptions.BatteriesError`) and from the builtin that fits, so
``except LookupError`` or ``except ValueError`` keep working::

    BatteriesError
    └── CRUDError
        ├── NotFoundError (LookupError)
        ├── MultipleFoundError (LookupError)
        ├── ConflictError
        ├── InvalidFilterError (ValueError)
        ├── InvalidValueError (ValueError)
        └── CRUDDefinitionError (TypeError)

Messages are one line: what is wrong and what to do. The structured attributes (``table``,
``field``, ``constraint``, ``columns``...) let an API build its own response.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from batteries_models.exceptions import BatteriesError

__all__ = [
    "CRUDDefinitionError",
    "CRUDError",
    "ConflictError",
    "ConflictKind",
    "InvalidFilterError",
    "InvalidValueError",
    "MultipleFoundError",
    "NotFoundError",
]

ConflictKind = Literal["unique", "foreign_key", "not_null", "check", "unknown"]
"""Which kind of integrity constraint a :class:`ConflictError` reports."""


class CRUDError(BatteriesError):
    """Root of every error raised by batteries-crud.

    Attributes:
        table: The table of the model the operation was about.
    """

    def __init__(self, message: str, *, table: str) -> None:
        super().__init__(message)
        self.table = table


class NotFoundError(CRUDError, LookupError):
    """No row has the primary key (or matches the lookup) that was asked for.

    Attributes:
        table: The table that was searched.
        key: The primary key, or the lookup as a dict, that matched nothing.
    """

    def __init__(self, message: str, *, table: str, key: Any) -> None:
        super().__init__(message, table=table)
        self.key = key


class MultipleFoundError(CRUDError, LookupError):
    """A lookup that must match at most one row (``get_by``) matched several.

    Attributes:
        table: The table that was searched.
        lookup: The lookup that matched several rows.
    """

    def __init__(self, message: str, *, table: str, lookup: dict[str, Any]) -> None:
        super().__init__(message, table=table)
        self.lookup = lookup


class ConflictError(CRUDError):
    """A write broke an integrity constraint (unique, foreign key, not null, check).

    The database error is chained as ``__cause__``. After a ``ConflictError`` raised by a flush,
    the transaction must be rolled back (the session scopes of batteries-models do it when the
    error leaves the block); ``get_or_create`` and ``update_or_create`` use a savepoint instead.

    Attributes:
        table: The table of the model that was written.
        kind: ``"unique"``, ``"foreign_key"``, ``"not_null"``, ``"check"`` or ``"unknown"``.
        constraint: The constraint name, when the database reports it or it can be inferred.
        columns: The columns of the constraint, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        table: str,
        kind: ConflictKind,
        constraint: str | None,
        columns: Sequence[str],
    ) -> None:
        super().__init__(message, table=table)
        self.kind: ConflictKind = kind
        self.constraint = constraint
        self.columns: tuple[str, ...] = tuple(columns)


class InvalidFilterError(CRUDError, ValueError):
    """A field, lookup, ordering, value, cursor or limit is not valid for the model.

    Raised before any SQL is sent.

    Attributes:
        table: The table of the model.
        field: The offending field or argument name (``"name__foo"``, ``"limit"``...).
        valid: The names that would have been accepted, when there is a finite list.
    """

    def __init__(self, message: str, *, table: str, field: str, valid: Sequence[str] = ()) -> None:
        super().__init__(message, table=table)
        self.field = field
        self.valid: tuple[str, ...] = tuple(valid)


class InvalidValueError(CRUDError, ValueError):
    """A value to write does not validate, or is one the database cannot hold.

    Raised by the writes (``create``, ``create_many``, ``update``, ``upsert``...) for a value
    that fails the model's validation, an integer beyond the column type's range, a string
    longer than the column or holding a NUL character or a lone surrogate. Checked in Python
    before any SQL is sent, so SQLite and PostgreSQL refuse the same values; a value the
    database still refuses (a numeric overflow) is reported the same way, the driver's error
    chained.

    Attributes:
        table: The table of the model.
        field: The offending field, or ``""`` when the database did not say which.
        reason: Why the value was refused, in a few words.
        errors: Pydantic's field errors (``loc``, ``msg``, ``type``), when validation failed.
    """

    def __init__(
        self,
        message: str,
        *,
        table: str,
        field: str,
        reason: str,
        errors: Sequence[dict[str, Any]] = (),
    ) -> None:
        super().__init__(message, table=table)
        self.field = field
        self.reason = reason
        self.errors: tuple[dict[str, Any], ...] = tuple(errors)


class CRUDDefinitionError(CRUDError, TypeError):
    """A ``BaseCRUD`` subclass is defined wrongly (no table model among its parameters).

    Attributes:
        table: Empty when no table model could be found.
        crud: The name of the faulty ``BaseCRUD`` subclass.
    """

    def __init__(self, message: str, *, crud: str, table: str = "") -> None:
        super().__init__(message, table=table)
        self.crud = crud
