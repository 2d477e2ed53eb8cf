"""The SQLModel base class for table models, with a shared, convention-named ``MetaData``."""

from __future__ import annotations

import datetime as dt
import inspect as inspect_module
import uuid
from typing import Any, ClassVar

from pydantic import SerializerFunctionWrapHandler, model_serializer
from pydantic.fields import FieldInfo
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


def _field_order(cls: type[SQLModel], fields: dict[str, FieldInfo]) -> list[str]:
    """Primary key, own fields, then the mixins' bookkeeping fields (see :class:`BaseModel`)."""
    from batteries_models.mixins import SoftDeleteMixin, TimestampMixin

    redeclared = inspect_module.get_annotations(cls)
    bookkeeping = [
        name
        for mixin in (TimestampMixin, SoftDeleteMixin)
        if issubclass(cls, mixin)
        for name in mixin.__pydantic_fields__
        if name in fields and name not in redeclared
    ]
    keys = [name for name, info in fields.items() if _is_primary_key(info)]
    keys = [name for name in keys if name not in bookkeeping]
    rest = [name for name in fields if name not in keys and name not in bookkeeping]
    return [*keys, *rest, *bookkeeping]


def _is_primary_key(info: FieldInfo) -> bool:
    if getattr(info, "primary_key", False) is True:
        return True
    return bool(getattr(getattr(info, "sa_column", None), "primary_key", False))


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

    Fields come in one order everywhere (table columns, ``model_fields``, JSON, fixtures): the
    primary key first, then the model's own fields, then the bookkeeping columns of
    :class:`~batteries_models.TimestampMixin` and :class:`~batteries_models.SoftDeleteMixin`
    (``created_at``, ``updated_at``, ``deleted_at``). Pydantic alone collects the fields of the
    last base first, which put ``id`` after the timestamps.
    """

    metadata: ClassVar[MetaData] = MetaData(naming_convention=NAMING_CONVENTION)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        """Put the fields in order before SQLModel builds the table's columns from them."""
        super().__pydantic_init_subclass__(**kwargs)
        fields = cls.__pydantic_fields__
        order = _field_order(cls, fields)
        if order != list(fields):
            cls.__pydantic_fields__ = {name: fields[name] for name in order}
            # Rebuilt from the fields as now ordered; an annotation not resolvable yet (a
            # forward reference) leaves it to pydantic's own rebuild on first use.
            cls.model_rebuild(force=True, raise_errors=False)

    @model_serializer(mode="wrap")
    def _serialize_in_field_order(self, handler: SerializerFunctionWrapHandler) -> Any:
        # Pydantic writes a table model's values in the order of its __dict__, which SQLAlchemy
        # fills as it loads a row: JSON follows the fields' order instead.
        data = handler(self)
        if not isinstance(data, dict):
            return data
        fields = type(self).__pydantic_fields__
        ordered = {name: data[name] for name in fields if name in data}
        if len(ordered) < len(data):
            ordered.update((key, value) for key, value in data.items() if key not in ordered)
        return ordered

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
