"""Mixins for table models: primary keys, timestamps and soft delete.

Combine them with :class:`~batteries_models.BaseModel` and with each other::

    class Hero(BaseModel, UUIDMixin, TimestampMixin, SoftDeleteMixin, table=True):
        name: str
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement
from sqlmodel import Field, SQLModel, col

from batteries_models._uuid import uuid7

__all__ = ["IntIDMixin", "SoftDeleteMixin", "TimestampMixin", "UUIDMixin", "utcnow"]


def utcnow() -> datetime:
    """Return the current time as a timezone-aware UTC datetime."""
    return datetime.now(UTC)


class IntIDMixin(SQLModel):
    """An auto-incrementing integer primary key ``id``; ``None`` until the row is flushed."""

    id: int | None = Field(default=None, primary_key=True)


class UUIDMixin(SQLModel):
    """A UUID primary key ``id``, a time-ordered UUIDv7 generated in Python on construction."""

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)


class TimestampMixin(SQLModel):
    """``created_at`` and ``updated_at``, timezone-aware UTC.

    Both are set on insert; ``updated_at`` is refreshed by every UPDATE statement SQLAlchemy
    emits for the table (ORM flushes and ``update(Model)`` bulk statements alike) unless the
    statement sets it explicitly.
    """

    created_at: datetime = Field(default_factory=utcnow, nullable=False)
    updated_at: datetime = Field(
        default_factory=utcnow, nullable=False, sa_column_kwargs={"onupdate": utcnow}
    )


class SoftDeleteMixin(SQLModel):
    """A nullable ``deleted_at``: a row is soft-deleted when it holds a time.

    batteries-crud hides soft-deleted rows by default. Without it, filter with
    :meth:`not_deleted`.
    """

    deleted_at: datetime | None = Field(default=None, index=True)

    @property
    def is_deleted(self) -> bool:
        """Whether this row is soft-deleted."""
        return self.deleted_at is not None

    def soft_delete(self, at: datetime | None = None) -> None:
        """Mark this row deleted (now, or at ``at``); flush or commit to persist it."""
        self.deleted_at = at or utcnow()

    def restore(self) -> None:
        """Undo :meth:`soft_delete`."""
        self.deleted_at = None

    @classmethod
    def not_deleted(cls) -> ColumnElement[bool]:
        """A WHERE clause that keeps live rows: ``select(Hero).where(Hero.not_deleted())``."""
        column: Any = cls.deleted_at
        return col(column).is_(None)
