"""Keyset pagination's SQL: a total ordering, and the rows that come after a cursor."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, tuple_

from batteries_crud._model_info import ModelInfo
from batteries_crud.exceptions import InvalidFilterError

__all__ = ["keyset_keys", "rows_after"]


def keyset_keys(info: ModelInfo, order_by: Sequence[str] | str) -> list[str]:
    """The field names of ``order_by`` followed by the primary key fields it leaves out."""
    keys = list((order_by,) if isinstance(order_by, str) else order_by)
    if not all(isinstance(key, str) for key in keys):
        msg = f"paginate_keyset orders by field names only, got {order_by!r}"
        raise InvalidFilterError(msg, table=info.name, field="order_by")
    names = {key.removeprefix("-") for key in keys}
    keys += [pk for pk in info.pk_keys if pk not in names]
    return keys


def rows_after(info: ModelInfo, keys: Sequence[str], values: Sequence[Any]) -> Any:
    """The WHERE clause of the rows after ``values`` in the order ``keys``."""
    for key, value in zip(keys, values, strict=True):
        if value is None:
            msg = (
                f"Keyset pagination cannot continue after a NULL in {key!r}: "
                f"order by NOT NULL fields"
            )
            raise InvalidFilterError(msg, table=info.name, field="order_by")
    columns = [info.columns[key.removeprefix("-")] for key in keys]
    descending = {key.startswith("-") for key in keys}
    if len(descending) == 1:
        # One direction: a row-value comparison, (a, b) > (:a, :b), which PostgreSQL
        # answers from an index on (a, b) and SQLite (3.15+) understands.
        if len(columns) == 1:
            column, value = columns[0], values[0]
            return column < value if True in descending else column > value
        row, after = tuple_(*columns), tuple_(*values)
        return row < after if True in descending else row > after
    # Mixed directions: (a > :a) OR (a = :a AND b < :b) OR ...
    branches: list[ColumnElement[bool]] = []
    for i, (key, column, value) in enumerate(zip(keys, columns, values, strict=True)):
        equal = [c == v for c, v in zip(columns[:i], values[:i], strict=True)]
        step = column < value if key.startswith("-") else column > value
        branches.append(and_(*equal, step))
    return or_(*branches)
