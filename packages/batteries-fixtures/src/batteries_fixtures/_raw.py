"""Values in the database's own form: ``{"$raw": ...}`` in fixtures, raw values when staging.

Some values have no faithful Python form: an infinite or BC date on PostgreSQL, an interval of
months, a ``json`` document's exact text, an array whose lower bound is not 1, a SQLite date
stored in another text form. A dump writes them as the database's own text (PostgreSQL's output
text, SQLite's stored value); a load hands that text to the database untouched:

- the codec returns a :class:`RawText` (or :class:`RawInt`, :class:`RawFloat` on SQLite);
- the converter skips the column's bind processor for it;
- on PostgreSQL, rows holding one are staged with ``INSERT ... VALUES (CAST(CAST($n AS TEXT)
  AS type))``, so the database parses the text with the column's type (a domain's constraints
  included) and names the record when it refuses it; the other rows still go by ``COPY``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Column
from sqlalchemy.engine import Dialect

__all__ = [
    "RAW_KEY",
    "RAW_TYPES",
    "RawFloat",
    "RawInt",
    "RawText",
    "array_literal",
    "cast_mark",
    "raw_of",
    "raw_positions",
    "split_raw_rows",
    "wrap_raw",
]

RAW_KEY = "$raw"
"""Key of the object holding a value in the database's own form: ``{"$raw": "infinity"}``."""


class RawText(str):
    """Text the database parses itself (PostgreSQL) or stores as it is (SQLite)."""

    __slots__ = ()


class RawInt(int):
    """An integer SQLite stores as it is, in a column whose type would convert it."""

    __slots__ = ()


class RawFloat(float):
    """A real SQLite stores as it is, in a column whose type would convert it."""

    __slots__ = ()


RAW_TYPES = frozenset({RawText, RawInt, RawFloat})
"""The classes of raw values: bind processors skip them."""


def wrap_raw(value: Any) -> dict[str, Any]:
    """The fixture's form of a value kept in the database's own form."""
    return {RAW_KEY: value}


def raw_of(value: Any) -> Any:
    """The inner value of ``{"$raw": value}``, or ``None`` when ``value`` is not that object."""
    if type(value) is dict and len(value) == 1 and RAW_KEY in value:
        return value[RAW_KEY]
    return None


def array_literal(items: list[Any], text_of: Any) -> str:
    """A PostgreSQL array literal (``{"a","b",NULL}``), nested lists as dimensions.

    Every item is quoted, which every element type accepts; ``text_of`` gives an item's text.
    """
    parts: list[str] = []
    for item in items:
        if item is None:
            parts.append("NULL")
        elif type(item) is list:
            parts.append(array_literal(item, text_of))
        else:
            text = text_of(item)
            parts.append('"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return "{" + ",".join(parts) + "}"


# ---------------------------------------------------------------- staging


def raw_positions(columns: Iterable[Column[Any]], dialect: Dialect) -> tuple[tuple[int, ...], bool]:
    """Where staging columns may receive a raw value, and whether binary ``COPY`` can write all.

    Returns:
        The positions of the columns whose codec may hand over a raw value, and whether the
        driver has a binary form for every column's type.
    """
    from batteries_fixtures._codecs import codec_for_type

    found: list[int] = []
    binary = True
    for position, column in enumerate(columns):
        try:
            codec = codec_for_type(column.type, dialect)
        except TypeError:  # bookkeeping columns all have codecs; a table's are checked earlier
            continue
        if codec.raw:
            found.append(position)
        binary = binary and codec.binary
    return tuple(found), binary


def split_raw_rows(
    rows: Sequence[tuple[Any, ...]], positions: tuple[int, ...]
) -> tuple[list[tuple[Any, ...]], dict[tuple[int, ...], list[tuple[Any, ...]]]]:
    """Rows without a raw text, and the others grouped by the positions that hold one.

    Most rows hold none: a C-level scan per column finds that out before any row is looked at.
    """
    suspects = [i for i in positions if RawText in map(type, map(itemgetter(i), rows))]
    if not suspects:
        return list(rows), {}
    plain: list[tuple[Any, ...]] = []
    groups: dict[tuple[int, ...], list[tuple[Any, ...]]] = {}
    for row in rows:
        key = tuple(i for i in suspects if type(row[i]) is RawText)
        if key:
            groups.setdefault(key, []).append(row)
        else:
            plain.append(row)
    return plain, groups


def cast_mark(mark: str, column: Column[Any], dialect: Dialect) -> str:
    """``mark`` (a placeholder) bound as text and cast to ``column``'s type by the database."""
    type_sql = dialect.type_compiler_instance.process(column.type)
    return f"CAST(CAST({mark} AS TEXT) AS {type_sql})"
