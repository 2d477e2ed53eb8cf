"""SQLite codecs that give back what was stored: the storage class and the very text.

SQLite keeps whatever text an application wrote in a DATETIME column (``2021-01-01 00:00:00``
from Django, ``2021-01-01T00:00:00Z`` from a script), and its type affinity stores a JSON
number as a number. SQLAlchemy would read such a value and write it back in its own form, a
silent change. So a dump reads these columns as stored:

- a value in the form SQLAlchemy stores (``2021-01-01 00:00:00.000000``) is written in the
  fixture's ISO 8601 form, as on every database;
- any other stored value is written as ``{"$raw": value}`` and stored back untouched;
- JSON columns follow :mod:`batteries_fixtures._json_text`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import Text, type_coerce
from sqlalchemy import types as sqltypes
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ColumnElement

from batteries_fixtures._codecs import (
    Codec,
    _decode_aware,
    _decode_date,
    _decode_naive,
    _decode_naive_time,
    _decode_time,
    _encode_aware,
    _encode_naive,
    _encode_time,
)
from batteries_fixtures._json_text import json_text_codec
from batteries_fixtures._raw import RawFloat, RawInt, RawText, raw_of, wrap_raw

__all__ = ["decode_aware_raw", "sqlite_codec"]

_SAMPLE = datetime(2000, 1, 2, 3, 4, 5, 6)


def sqlite_codec(type_: sqltypes.TypeEngine[Any], dialect: Dialect) -> Codec | None:
    """The SQLite-specific codec of ``type_`` (resolved), or ``None`` for the common one."""
    if isinstance(type_, sqltypes.JSON):
        return json_text_codec(type_, dialect, read=_stored, cast_on_load=False)
    if isinstance(type_, sqltypes.DateTime):
        aware = bool(type_.timezone)
        encode = _encode_aware if aware else _encode_naive
        return _stored_codec(
            type_,
            dialect,
            kind="datetime-aware" if aware else "datetime-naive",
            parse=datetime.fromisoformat,
            to_json=encode,
            decode=(
                decode_aware_raw
                if aware
                else _raw_decoder(datetime.fromisoformat, _decode_naive, naive=True)
            ),
            sample=_SAMPLE,
        )
    if isinstance(type_, sqltypes.Date):
        return _stored_codec(
            type_,
            dialect,
            kind="date",
            parse=date.fromisoformat,
            to_json=date.isoformat,
            decode=_raw_decoder(date.fromisoformat, _decode_date, naive=False),
            sample=_SAMPLE.date(),
        )
    if isinstance(type_, sqltypes.Time):
        return _stored_codec(
            type_,
            dialect,
            kind="time",
            parse=time.fromisoformat,
            to_json=_encode_time,
            decode=_raw_decoder(
                time.fromisoformat,
                _decode_time if type_.timezone else _decode_naive_time,
                naive=not type_.timezone,
            ),
            sample=_SAMPLE.time(),
        )
    return None


def _stored(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """The column's stored value, without SQLAlchemy's processing (no SQL is added)."""
    return type_coerce(column, Text)


def _stored_codec(
    type_: sqltypes.TypeEngine[Any],
    dialect: Dialect,
    *,
    kind: str,
    parse: Callable[[str], Any],
    to_json: Callable[[Any], str],
    decode: Callable[[Any], Any],
    sample: Any,
) -> Codec:
    bind = type_.bind_processor(dialect)
    assert bind is not None
    form = bind(sample)
    # SQLAlchemy's default forms are ISO 8601 with a space and microseconds: one parse tells.
    try:
        default = parse(form) == sample and len(form) in (10, 15, 26)
    except ValueError:  # a storage_format of the user's own: read it with the type's regexp
        default = False
        parse = _reader_of(type_, dialect)
    length = len(form)
    # A datetime parses with a "T" as well as with SQLAlchemy's space: only the space is its.
    separator = form[10] if length == len("2000-01-02 03:04:05.000006") else None

    def encode(stored: Any) -> Any:
        if type(stored) is str:
            if default:
                if len(stored) == length and (separator is None or stored[10] == separator):
                    try:
                        value = parse(stored)
                    except ValueError:
                        return wrap_raw(stored)
                    if getattr(value, "tzinfo", None) is None:
                        return to_json(value)
                return wrap_raw(stored)
            try:
                value = parse(stored)
            except (ValueError, TypeError, AttributeError):  # a regexp that did not match
                return wrap_raw(stored)
            if bind(value) == stored:
                return to_json(value)
        return wrap_raw(stored)

    return Codec(kind, encode, decode, read=_stored, raw=True)


def _reader_of(type_: sqltypes.TypeEngine[Any], dialect: Dialect) -> Callable[[str], Any]:
    """The type's own reading of its stored text (SQLAlchemy's ``regexp`` for the format)."""
    process = type_.result_processor(dialect, None)
    assert process is not None
    return process


def _raw_or(value: Any, decode: Callable[[Any], Any]) -> Any:
    """The value of ``{"$raw": value}`` as a raw type (storage class kept), else ``decode``'s."""
    inner = raw_of(value)
    kind = type(inner)
    if kind is str:
        return RawText(inner)
    if kind is int:
        return RawInt(inner)
    if kind is float:
        return RawFloat(inner)
    return decode(value)


# The decoders parse first and look at the type only when that fails: a parse per value.


def decode_aware_raw(value: Any) -> Any:
    try:
        parsed = datetime.fromisoformat(value)
    except TypeError:
        return _raw_or(value, _decode_aware)
    except ValueError:
        return _decode_aware(value)
    if parsed.tzinfo is None:
        return _decode_aware(value)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        return _decode_aware(value)


def _raw_decoder(
    parse: Callable[[str], Any], decode: Callable[[Any], Any], *, naive: bool
) -> Callable[[Any], Any]:
    """``decode`` with ``{"$raw": ...}`` accepted; ``naive`` refuses an offset."""

    def decode_raw(value: Any) -> Any:
        try:
            parsed = parse(value)
        except TypeError:
            return _raw_or(value, decode)
        except ValueError:
            return decode(value)  # says what is wrong
        if naive and parsed.tzinfo is not None:
            return decode(value)
        return parsed

    return decode_raw
