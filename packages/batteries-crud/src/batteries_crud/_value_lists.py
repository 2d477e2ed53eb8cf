"""``column IN (values)`` with the whole list bound as ONE parameter, however long it is.

SQLAlchemy's ``in_()`` binds one parameter per value, and drivers cap the count: asyncpg at
32,767 ("the number of query arguments cannot exceed 32767"), SQLite at 32,766 (999 before
3.32). One parameter per list also keeps one prepared statement for every list length.

- PostgreSQL: ``column = ANY($1)``, the list bound as an array of the column's type.
- SQLite: ``column IN (SELECT value FROM json_each(?))``, the list bound as a JSON array of the
  values as the column's type stores them; the column's affinity applies to the comparison as
  it does for a literal list.

``NOT IN`` is ``column <> ALL($1)`` and ``NOT IN (SELECT ...)``: as with a literal list, a NULL
among the values makes it match no row.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Boolean, Column, ColumnElement, String, TypeDecorator, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeEngine

__all__ = ["in_values"]


class _ValueList(TypeDecorator[Any]):
    """A Python list bound as a PostgreSQL array, or as a JSON array text on SQLite."""

    impl = String
    cache_ok = True

    def __init__(self, item_type: TypeEngine[Any]) -> None:
        super().__init__()
        self.item_type = item_type

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(ARRAY(self.item_type))
        return dialect.type_descriptor(String())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if dialect.name == "postgresql":
            return list(value)  # the ARRAY type binds each item with the column's type
        process = self.item_type.dialect_impl(dialect).bind_processor(dialect)
        items = [process(v) for v in value] if process is not None else list(value)
        return json.dumps(items, default=str)


class _InValues(FunctionElement[bool]):
    """``column IN (values)``; arguments: the column, the list parameter."""

    type = Boolean()
    name = "batteries_in_values"
    inherit_cache = True
    negate = False


class _NotInValues(_InValues):
    """``column NOT IN (values)``: a class of its own, so the cache key tells them apart."""

    name = "batteries_not_in_values"
    inherit_cache = True
    negate = True


@compiles(_InValues)
def _compile_any(element: _InValues, compiler: Any, **kw: Any) -> str:
    column, values = element.clauses
    left, right = compiler.process(column, **kw), compiler.process(values, **kw)
    return f"{left} <> ALL ({right})" if element.negate else f"{left} = ANY ({right})"


@compiles(_InValues, "sqlite")
def _compile_json_each(element: _InValues, compiler: Any, **kw: Any) -> str:
    column, values = element.clauses
    left, right = compiler.process(column, **kw), compiler.process(values, **kw)
    operator = "NOT IN" if element.negate else "IN"
    return f"{left} {operator} (SELECT value FROM json_each({right}))"


def in_values(column: Column[Any], values: Sequence[Any], *, negate: bool) -> ColumnElement[bool]:
    """``column IN values`` (``NOT IN`` with ``negate``), the values bound as one parameter."""
    parameter = bindparam(None, list(values), type_=_ValueList(column.type))
    return _NotInValues(column, parameter) if negate else _InValues(column, parameter)
