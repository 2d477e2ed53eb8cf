"""What BaseCRUD needs to know about a table model, computed once per CRUD class."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import Column, Table, inspect
from sqlalchemy.orm import Mapper

from batteries_crud._storable import Check, column_check
from batteries_models.mixins import SoftDeleteMixin

__all__ = ["ModelInfo", "model_info"]


@dataclass(slots=True)
class ModelInfo:
    """Columns, keys and defaults of one table model."""

    model: type[Any]
    table: Table
    columns: dict[str, Column[Any]]
    pk_keys: tuple[str, ...]
    soft_delete: bool
    # Defaults of the pydantic fields: Core inserts do not run pydantic, so create_many and
    # upsert apply them by hand.
    defaults: dict[str, Any]
    factories: dict[str, Callable[[], Any]]
    onupdate: dict[str, Callable[[], Any]]
    annotations: dict[str, Any]
    # What each column can hold (integer range, text length and characters), by field.
    checks: dict[str, Check]
    _adapters: dict[str, TypeAdapter[Any]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The table name, for messages."""
        return self.table.name

    def adapter(self, key: str) -> TypeAdapter[Any]:
        """A pydantic adapter that checks and coerces a value for the column ``key``."""
        adapter = self._adapters.get(key)
        if adapter is None:
            annotation = self.annotations.get(key)
            if annotation is None:
                annotation = _python_type(self.columns[key])
            adapter = TypeAdapter(annotation)
            self._adapters[key] = adapter
        return adapter

    def row(self, data: dict[str, Any]) -> dict[str, Any]:
        """Complete ``data`` with the model's defaults into the values of one INSERT row.

        Called once per row of ``create_many``: kept to a few dict operations.
        """
        if not self.defaults and not self.factories:
            for key in self.pk_keys:
                if key in data and data[key] is None:
                    break
            else:
                return data  # nothing to add or drop: the caller's dict goes out unchanged
        row = {**self.defaults, **data}
        for key, factory in self.factories.items():
            if key not in data:
                row[key] = factory()
        for key in self.pk_keys:
            # A key given as None (autoincrement) must be omitted, not inserted as NULL.
            if key in data and data[key] is None:
                del row[key]
        return row


def _python_type(column: Column[Any]) -> Any:
    try:
        return column.type.python_type
    except NotImplementedError:
        return Any


def _without_context(function: Callable[[Any], Any]) -> Callable[[], Any]:
    # SQLAlchemy wraps a zero-argument onupdate callable into one that takes the context.
    return lambda: function(None)


def model_info(model: type[Any]) -> ModelInfo:
    """Inspect ``model`` (a mapped table model)."""
    mapper: Mapper[Any] = inspect(model)
    table = mapper.local_table
    if not isinstance(table, Table):  # pragma: no cover - SQLModel always maps a Table
        msg = f"{model.__name__} is not mapped to a table"
        raise TypeError(msg)
    columns: dict[str, Column[Any]] = {}
    for prop in mapper.column_attrs:
        column = prop.columns[0]
        if isinstance(column, Column):
            columns[prop.key] = column
    pk_keys = tuple(mapper.get_property_by_column(c).key for c in mapper.primary_key)
    defaults: dict[str, Any] = {}
    factories: dict[str, Callable[[], Any]] = {}
    annotations: dict[str, Any] = {}
    fields = getattr(model, "model_fields", {})
    for key in columns:
        info = fields.get(key)
        if info is None:
            continue
        annotations[key] = info.annotation
        if info.default_factory is not None:
            factories[key] = info.default_factory
        elif not info.is_required() and not (key in pk_keys and info.default is None):
            # A None default on a key means "let the database number it": omit the column.
            defaults[key] = info.default
    onupdate: dict[str, Callable[[], Any]] = {}
    for key, column in columns.items():
        default = column.onupdate
        if default is not None and getattr(default, "is_callable", False):
            onupdate[key] = _without_context(default.arg)  # type: ignore[attr-defined]
    return ModelInfo(
        model=model,
        table=table,
        columns=columns,
        pk_keys=pk_keys,
        soft_delete=issubclass(model, SoftDeleteMixin),
        defaults=defaults,
        factories=factories,
        onupdate=onupdate,
        annotations=annotations,
        checks={key: check for key, c in columns.items() if (check := column_check(c))},
    )
