"""Checks that refuse a call's paging, filter or lookup arguments before any SQL is sent."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from batteries_crud._filters import parse_key
from batteries_crud._model_info import ModelInfo
from batteries_crud._storable import BIGINT_MAX
from batteries_crud.exceptions import InvalidFilterError

__all__ = ["check_window", "require_exact_lookup", "require_filter"]


def check_window(info: ModelInfo, limit: int, offset: int) -> None:
    """Refuse a ``limit`` below 1 or an ``offset`` below 0 (or either not a whole number).

    Both are 64-bit integers in SQL: larger values are refused too, not sent to the driver.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= BIGINT_MAX:
        msg = f"limit must be a whole number from 1 to {BIGINT_MAX}, got {limit!r}"
        raise InvalidFilterError(msg, table=info.name, field="limit")
    if isinstance(offset, bool) or not isinstance(offset, int) or not 0 <= offset <= BIGINT_MAX:
        msg = f"offset must be a whole number from 0 to {BIGINT_MAX}, got {offset!r}"
        raise InvalidFilterError(msg, table=info.name, field="offset")


def require_filter(
    info: ModelInfo, method: str, where: Sequence[Any], lookup: Mapping[str, Any]
) -> None:
    """Refuse a bulk ``method`` call without any filter, which would touch every row."""
    if not where and not lookup:
        msg = (
            f"{method}() without a filter would touch every row of {info.name!r}: "
            f"pass a filter, or sqlalchemy.true() to mean every row"
        )
        raise InvalidFilterError(msg, table=info.name, field="where")


def require_exact_lookup(info: ModelInfo, lookup: Mapping[str, Any]) -> None:
    """Refuse an empty ``lookup``, or one with ``__`` lookups, for get/update_or_create."""
    if not lookup:
        msg = f"Give at least one field=value that identifies the row of {info.name!r}"
        raise InvalidFilterError(msg, table=info.name, field="lookup")
    for key in lookup:
        field, kind = parse_key(info, key)
        if kind != "exact" or field != key:
            msg = f"get_or_create and update_or_create take field=value only, got {key!r}"
            raise InvalidFilterError(msg, table=info.name, field=key)
