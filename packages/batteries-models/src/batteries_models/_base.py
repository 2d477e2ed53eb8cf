"""The SQLModel base class for table models, with a shared, convention-named ``MetaData``."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, ClassVar

from sqlalchemy import MetaData, inspect
from sqlmodel import SQLModel

__all__ = ["NAMING_CONVENTION", "BaseModel"]

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Constraint naming convention of :attr:`BaseModel.metadata`.

Migrations need stable names to drop or alter a constraint; SQLite's batch mode refuses
unnamed ones. The convention is in place before the first migration is written.
"""

_MAX_VALUE_REPR = 40


def _short_repr(value: Any) -> str:
    """A value as ``repr`` shows it, with datetimes in ISO form and long values shortened."""
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    text = repr(value)
    if len(text) > _MAX_VALUE_REPR and not isinstance(value, uuid.UUID):
        return text[: _MAX_VALUE_REPR - 3] + "..."
    return text


class BaseModel(SQLModel):
    """Base class for table models: ``class Hero(BaseModel, UUIDMixin, table=True): ...``.

    All subclasses share one ``MetaData`` (``BaseModel.metadata``) that carries
    :data:`NAMING_CONVENTION`, so migrations and fixtures see every table in one place.
    ``model_dump`` and ``model_validate`` stay pydantic's.
    """

    metadata: ClassVar[MetaData] = MetaData(naming_convention=NAMING_CONVENTION)

    def to_dict(self) -> dict[str, Any]:
        """Return the column values of a table model keyed by attribute name.

        Unlike ``model_dump`` this never touches relationships, so it is safe on instances whose
        relationships are not loaded (no lazy load, no ``MissingGreenlet`` in async code).
        """
        mapper = inspect(type(self))
        return {attr.key: getattr(self, attr.key) for attr in mapper.column_attrs}

    @property
    def identity(self) -> tuple[Any, ...]:
        """The primary-key values of this row, in primary-key column order."""
        mapper = inspect(type(self))
        return tuple(
            getattr(self, mapper.get_property_by_column(c).key) for c in mapper.primary_key
        )

    def __repr__(self) -> str:
        if getattr(type(self), "__table__", None) is None:
            return super().__repr__()
        values = self.to_dict()
        mapper = inspect(type(self))
        pk_keys = [mapper.get_property_by_column(c).key for c in mapper.primary_key]
        ordered = pk_keys + [k for k in values if k not in pk_keys]
        body = ", ".join(f"{k}={_short_repr(values[k])}" for k in ordered)
        return f"{type(self).__name__}({body})"
