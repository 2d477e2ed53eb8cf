"""Per-column value codecs: database values <-> JSON values, chosen once per column.

Rules (documented on the Fixtures docs page):

- integers are JSON integers (64-bit included), range-checked against the column type;
- ``Decimal`` is text (``"12.3400"``), never a float; on SQLite, which stores NUMERIC as a double,
  a value with more than 15 significant digits is refused rather than silently rounded;
- floats are JSON numbers written with ``repr`` (exact round trip); NaN and infinities as the
  strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``;
- bytes are standard base64 text;
- dates and times are ISO 8601; datetimes keep microseconds; columns declared
  ``timezone=True`` are written in UTC with ``+00:00`` and require an offset on load; naive
  columns stay naive and refuse an offset;
- UUIDs are canonical text; enums with a Python class are written by member name;
- JSON columns hold their document as-is. SQL NULL is ``null``; a JSON ``null`` document, or a
  document that is an object whose only key is ``"$json"``, is wrapped as ``{"$json": document}``
  so the two never mix;
- PostgreSQL arrays are JSON lists whose items use the item type's codec.
"""

from __future__ import annotations

import base64
import binascii
import enum
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from sqlalchemy import JSON, Column
from sqlalchemy import types as sqltypes
from sqlalchemy.engine import Dialect

__all__ = ["JSON_WRAPPER", "Codec", "codec_for", "resolve_type"]

JSON_WRAPPER = "$json"
"""Key of the object wrapping a JSON ``null`` document (or a document that looks like one)."""

_INT_RANGES: tuple[tuple[type[sqltypes.TypeEngine[Any]], int], ...] = (
    (sqltypes.SmallInteger, 15),
    (sqltypes.BigInteger, 63),
    (sqltypes.Integer, 63),  # SQLite's INTEGER is 64-bit; PostgreSQL's int4 is checked below
)
_SQLITE_DECIMAL_DIGITS = 15


@dataclass(frozen=True)
class Codec:
    """How one column's values become JSON and come back.

    Attributes:
        kind: A short name of the codec (``"int"``, ``"decimal"``, ``"json"``...).
        encode: Database value (never ``None``) to a JSON-ready value.
        decode: JSON value (never ``None``) to the Python value to bind; raises ``ValueError``
            or ``TypeError`` with a short reason.
        is_json: Whether ``None`` means SQL NULL and JSON null needs the wrapper.
    """

    kind: str
    encode: Callable[[Any], Any]
    decode: Callable[[Any], Any]
    is_json: bool = False


def resolve_type(type_: sqltypes.TypeEngine[Any], dialect: Dialect) -> sqltypes.TypeEngine[Any]:
    """The type that really stores a column on ``dialect``: variants and decorators unwrapped."""
    resolved = type_.dialect_impl(dialect)
    while isinstance(resolved, sqltypes.TypeDecorator):
        resolved = resolved.load_dialect_impl(dialect).dialect_impl(dialect)
    return resolved


def codec_for(column: Column[Any], dialect: Dialect) -> Codec:
    """Choose the codec of ``column`` on ``dialect``.

    Raises:
        TypeError: The column type has no codec; the message names it.
    """
    _check_python_type(column.type, dialect)
    return _codec_for_type(resolve_type(column.type, dialect), dialect)


def _check_python_type(type_: sqltypes.TypeEngine[Any], dialect: Dialect) -> None:
    """Refuse a decorator whose Python values differ from its storage type's.

    ``Interval`` is stored as a datetime on SQLite: the storage codec would misread it.
    Decorators that do not say (``python_type`` is ``object``) are trusted.
    """
    if not isinstance(type_, sqltypes.TypeDecorator):
        return
    try:
        outer = type_.python_type
        inner = resolve_type(type_, dialect).python_type
    except NotImplementedError:
        return
    if outer is not object and outer is not inner:
        msg = f"no fixture codec for column type {type_!r} (Python values are {outer.__name__})"
        raise TypeError(msg)


def _codec_for_type(type_: sqltypes.TypeEngine[Any], dialect: Dialect) -> Codec:
    if isinstance(type_, sqltypes.ARRAY):
        item = _codec_for_type(resolve_type(type_.item_type, dialect), dialect)
        return _array_codec(item)
    if isinstance(type_, JSON):
        return Codec("json", _encode_json, _decode_json, is_json=True)
    if isinstance(type_, sqltypes.Enum):
        return _enum_codec(type_)
    if isinstance(type_, sqltypes.Boolean):
        return Codec("bool", _identity, _decode_bool)
    if isinstance(type_, sqltypes.Uuid):
        return Codec("uuid", _encode_uuid, _decode_uuid)
    if isinstance(type_, sqltypes._Binary):
        return Codec("bytes", _encode_bytes, _decode_bytes)
    if isinstance(type_, sqltypes.DateTime):
        if type_.timezone:
            return Codec("datetime-aware", _encode_aware, _decode_aware)
        return Codec("datetime-naive", _encode_naive, _decode_naive)
    if isinstance(type_, sqltypes.Date):
        return Codec("date", _encode_iso, _decode_date)
    if isinstance(type_, sqltypes.Time):
        return Codec("time", _encode_time, _decode_time)
    if isinstance(type_, sqltypes.Float) or (
        isinstance(type_, sqltypes.Numeric) and not type_.asdecimal
    ):
        return Codec("float", _encode_float, _decode_float)
    if isinstance(type_, sqltypes.Numeric):
        return _decimal_codec(sqlite=dialect.name == "sqlite")
    if isinstance(type_, sqltypes.Integer):
        return _int_codec(type_, dialect)
    if isinstance(type_, sqltypes.String):
        return _string_codec(type_, postgres=dialect.name == "postgresql")
    msg = f"no fixture codec for column type {type_!r}"
    raise TypeError(msg)


def _identity(value: Any) -> Any:
    return value


def _expect(value: Any, kinds: type | tuple[type, ...], what: str) -> None:
    # Parsed JSON holds exact builtins: the fast path is one identity test per value.
    kind = type(value)
    if kind is kinds or (type(kinds) is tuple and kind in kinds):
        return
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in _as_tuple(kinds)):
        msg = f"expected {what}, got {_describe(value)}"
        raise TypeError(msg)


def _as_tuple(kinds: type | tuple[type, ...]) -> tuple[type, ...]:
    return kinds if isinstance(kinds, tuple) else (kinds,)


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# ---------------------------------------------------------------- numbers


def _int_codec(type_: sqltypes.TypeEngine[Any], dialect: Dialect) -> Codec:
    bits = 63
    for kind, kind_bits in _INT_RANGES:
        if isinstance(type_, kind):
            bits = kind_bits
            break
    if dialect.name == "postgresql" and not isinstance(
        type_, sqltypes.BigInteger | sqltypes.SmallInteger
    ):
        bits = 31
    low, high = -(2**bits), 2**bits - 1

    def decode(value: Any) -> int:
        _expect(value, int, "an integer")
        if not low <= value <= high:
            msg = f"integer {value} is out of range [{low}, {high}] for this column"
            raise ValueError(msg)
        return int(value)

    return Codec("int", _identity, decode)


def _decimal_codec(*, sqlite: bool) -> Codec:
    def decode(value: Any) -> Decimal:
        _expect(value, (str, int), 'a decimal as text such as "12.50"')
        try:
            number = Decimal(value)
        except InvalidOperation:
            msg = f"{_describe(value)} is not a decimal number"
            raise ValueError(msg) from None
        if sqlite and number.is_finite() and len(number.as_tuple().digits) > _SQLITE_DECIMAL_DIGITS:
            msg = (
                f"{value} has more than {_SQLITE_DECIMAL_DIGITS} significant digits, which SQLite "
                "cannot store exactly in a NUMERIC column"
            )
            raise ValueError(msg)
        return number

    return Codec("decimal", _encode_decimal, decode)


def _encode_decimal(value: Any) -> str:
    return str(value) if isinstance(value, Decimal) else str(Decimal(repr(value)))


_FLOAT_WORDS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def _encode_float(value: Any) -> Any:
    number = float(value)
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    return number


def _decode_float(value: Any) -> float:
    if isinstance(value, str) and value in _FLOAT_WORDS:
        return _FLOAT_WORDS[value]
    _expect(value, (int, float), 'a number (or "NaN", "Infinity", "-Infinity")')
    return float(value)


def _decode_bool(value: Any) -> bool:
    if not isinstance(value, bool):
        msg = f"expected true or false, got {_describe(value)}"
        raise TypeError(msg)
    return value


# ---------------------------------------------------------------- text and bytes


def _string_codec(type_: sqltypes.String, *, postgres: bool) -> Codec:
    length = type_.length

    def decode(value: Any) -> str:
        _expect(value, str, "a string")
        if length is not None and len(value) > length:
            msg = f"string of {len(value)} characters is longer than the column's {length}"
            raise ValueError(msg)
        if postgres and "\x00" in value:
            msg = "PostgreSQL cannot store the NUL character (\\u0000) in text"
            raise ValueError(msg)
        return str(value)

    return Codec("str", _identity, decode)


def _encode_bytes(value: Any) -> str:
    return base64.b64encode(bytes(value)).decode("ascii")


def _decode_bytes(value: Any) -> bytes:
    _expect(value, str, "base64 text")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error:
        msg = f"{_describe(value)} is not valid base64"
        raise ValueError(msg) from None


def _encode_uuid(value: Any) -> str:
    return str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))


def _decode_uuid(value: Any) -> uuid.UUID:
    _expect(value, str, "a UUID as text")
    return uuid.UUID(value)


def _enum_codec(type_: sqltypes.Enum) -> Codec:
    enum_class = type_.enum_class
    if enum_class is not None:
        members: type[enum.Enum] = enum_class

        def encode(value: Any) -> str:
            return value.name if isinstance(value, enum.Enum) else str(members[str(value)].name)

        def decode(value: Any) -> enum.Enum:
            _expect(value, str, f"a member name of {members.__name__}")
            try:
                return members[value]
            except KeyError:
                names = ", ".join(members.__members__)
                msg = f"{value!r} is not a member of {members.__name__} ({names})"
                raise ValueError(msg) from None

        return Codec("enum", encode, decode)
    allowed = list(type_.enums)

    def decode_text(value: Any) -> str:
        _expect(value, str, "a string")
        if value not in allowed:
            msg = f"{value!r} is not one of {', '.join(allowed)}"
            raise ValueError(msg)
        return str(value)

    return Codec("enum", _identity, decode_text)


# ---------------------------------------------------------------- dates and times


def _encode_iso(value: Any) -> str:
    return str(value.isoformat())


def _encode_time(value: time) -> str:
    return value.isoformat(timespec="microseconds")


def _encode_aware(value: datetime) -> str:
    # SQLite has no time zones: SQLAlchemy stores the UTC wall time we bound, and returns it naive.
    aware = value.replace(tzinfo=UTC) if value.utcoffset() is None else value.astimezone(UTC)
    return aware.isoformat(timespec="microseconds")


def _encode_naive(value: datetime) -> str:
    return value.isoformat(timespec="microseconds")


_T = TypeVar("_T")


def _parse_iso(value: Any, parse: Callable[[str], _T], what: str) -> _T:
    """``parse(value)``, with a message naming the expected form when the text does not fit."""
    _expect(value, str, f"an ISO 8601 {what.split(' ')[0]}")
    try:
        return parse(value)
    except ValueError:
        msg = f"{_describe(value)} is not an ISO 8601 {what}"
        raise ValueError(msg) from None


def _parse_datetime(value: Any) -> datetime:
    return _parse_iso(value, datetime.fromisoformat, "datetime")


def _decode_aware(value: Any) -> datetime:
    parsed = _parse_datetime(value)
    if parsed.utcoffset() is None:
        msg = f"{value!r} has no UTC offset, but the column stores aware datetimes: add +00:00"
        raise ValueError(msg)
    return parsed.astimezone(UTC)


def _decode_naive(value: Any) -> datetime:
    parsed = _parse_datetime(value)
    if parsed.utcoffset() is not None:
        msg = f"{value!r} has a UTC offset, but the column stores naive datetimes: remove it"
        raise ValueError(msg)
    return parsed


def _decode_date(value: Any) -> date:
    return _parse_iso(value, date.fromisoformat, "date (YYYY-MM-DD)")


def _decode_time(value: Any) -> time:
    return _parse_iso(value, time.fromisoformat, "time (HH:MM:SS.ffffff)")


# ---------------------------------------------------------------- JSON and arrays


def _needs_wrapper(document: Any) -> bool:
    return document is None or (
        isinstance(document, dict) and len(document) == 1 and JSON_WRAPPER in document
    )


def _encode_json(document: Any) -> Any:
    return {JSON_WRAPPER: document} if _needs_wrapper(document) else document


def _decode_json(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1 and JSON_WRAPPER in value:
        inner = value[JSON_WRAPPER]
        return JSON.NULL if inner is None else inner
    return value


def _array_codec(item: Codec) -> Codec:
    def encode(value: Any) -> list[Any]:
        return [None if v is None else item.encode(v) for v in value]

    def decode(value: Any) -> list[Any]:
        _expect(value, list, "a list")
        return [None if v is None else item.decode(v) for v in value]

    return Codec(f"array[{item.kind}]", encode, decode)
