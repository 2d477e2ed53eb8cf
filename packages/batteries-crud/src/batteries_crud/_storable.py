"""Whether a database column can hold a value: integer ranges, string lengths and characters.

SQLite and PostgreSQL disagree here: SQLite stores any 64-bit integer and any string length in
any column and keeps NUL characters, PostgreSQL refuses all three (and both drivers fail on a
lone surrogate, which UTF-8 cannot encode). Checking in Python, by the column's declared type,
makes both backends refuse the same values, with the field named, before any SQL is sent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import BigInteger, Column, Integer, SmallInteger, String, TypeDecorator

__all__ = ["Check", "column_check", "first_problem", "integer_problem", "text_problem"]

Check = Callable[[Any, bool], str | None]
"""``check(value, with_length)``: why the column cannot hold ``value``, or ``None``."""

BIGINT_MAX = 2**63 - 1
"""The largest value of a 64-bit signed integer (LIMIT, OFFSET, SQLite INTEGER, BIGINT)."""

_INTEGER_BITS: tuple[tuple[type[Integer], int], ...] = (
    (BigInteger, 63),
    (SmallInteger, 15),
    (Integer, 31),  # last: BigInteger and SmallInteger are Integers too
)


def integer_problem(value: int, bits: int) -> str | None:
    """Why a signed integer column of ``bits`` + 1 bits cannot hold ``value``, or ``None``."""
    if -(2**bits) <= value < 2**bits:
        return None
    return f"out of range: the column holds integers from {-(2**bits)} to {2**bits - 1}"


def text_problem(value: str) -> str | None:
    """Why no text column can hold ``value`` (a NUL, a lone surrogate), or ``None``."""
    if "\x00" in value:
        return "contains a NUL character (\\x00), which PostgreSQL cannot store"
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "contains a lone surrogate, which is not valid Unicode text"
    return None


def _base_type(column: Column[Any]) -> Any:
    type_ = column.type
    while isinstance(type_, TypeDecorator):  # SQLModel's AutoString and UTCDateTime
        type_ = type_.impl_instance
    return type_


def _integer_check(bits: int) -> Check:
    low, high = -(2**bits), 2**bits - 1

    def check(value: Any, _with_length: bool) -> str | None:
        if type(value) is int:
            return None if low <= value <= high else integer_problem(value, bits)
        if isinstance(value, int) and not isinstance(value, bool):  # IntEnum members
            return integer_problem(value, bits)
        return None

    check.all_fine = lambda values: _ints_fine(values, low, high)  # type: ignore[attr-defined]
    return check


def _text_check(length: int | None) -> Check:
    def check(value: Any, with_length: bool) -> str | None:
        if not isinstance(value, str):
            return None
        if with_length and length is not None and len(value) > length:
            return f"too long: {len(value)} characters, the column holds at most {length}"
        return text_problem(value)

    check.all_fine = lambda values: _texts_fine(values, length)  # type: ignore[attr-defined]
    return check


# Whole-column checks for create_many and upsert_many: a few C-level passes over a column's
# values instead of a Python call per value; only a column that fails is checked value by
# value, to name the offending value.


_NONE = type(None)


def _ints_fine(values: list[Any], low: int, high: int) -> bool:
    types = set(map(type, values))
    if not types <= {int, _NONE}:
        return False  # other types (IntEnum, bool, str): let the per-value check decide
    if _NONE in types:
        values = [v for v in values if v is not None]
    return not values or (low <= min(values) and max(values) <= high)


def _texts_fine(values: list[Any], length: int | None) -> bool:
    types = set(map(type, values))
    if not types <= {str, _NONE}:
        return False
    if _NONE in types:
        values = [v for v in values if v is not None]
    if not values:
        return True
    if length is not None and max(map(len, values)) > length:
        return False
    joined = "".join(values)
    return joined.isascii() and "\x00" not in joined


def first_problem(check: Check, values: list[Any]) -> tuple[Any, str] | None:
    """The first of ``values`` the column cannot hold and why, or ``None`` when all fit."""
    if check.all_fine(values):  # type: ignore[attr-defined]
        return None
    for value in values:
        if value is not None and (problem := check(value, True)) is not None:
            return value, problem
    return None


def column_check(column: Column[Any]) -> Check | None:
    """The check of the values ``column`` can hold, or ``None`` when there is nothing to check.

    Integers are bounded by the declared type as PostgreSQL implements it (SMALLINT, INTEGER,
    BIGINT), on SQLite too; strings by the declared length (``max_length``, ``String(n)``).
    """
    type_ = _base_type(column)
    if isinstance(type_, Integer):
        for kind, bits in _INTEGER_BITS:
            if isinstance(type_, kind):
                return _integer_check(bits)
    if isinstance(type_, String):
        return _text_check(type_.length)
    return None
