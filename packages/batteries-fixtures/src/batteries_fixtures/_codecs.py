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
import re
import uuid
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from sqlalchemy import JSON, Column, ColumnElement
from sqlalchemy import types as sqltypes
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect

from batteries_fixtures._raw import RAW_KEY

__all__ = [
    "JSON_WRAPPER",
    "Codec",
    "Inline",
    "codec_for",
    "codec_for_type",
    "fast_decoder",
    "inline_form",
    "resolve_type",
]

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
        read: The expression a dump selects instead of the column (a cast to text, say);
            ``None`` selects the column.
        special: An expression that is the database's own text of the values ``read`` leaves
            NULL (an infinite date, a BC date...), and NULL otherwise; ``None`` when every
            value is read.
        encode_text: The database's own text of a value to a JSON-ready value (for
            ``special`` values, and items of arrays read as text).
        decode_text: JSON value to the database's own input text (for items of arrays
            written as text).
        raw: Whether ``decode`` may return a :class:`~batteries_fixtures._raw.RawText` (or
            another raw value) that staging must send as it is.
        binary: Whether the driver can write the column's values in a binary ``COPY``
            (asyncpg has no binary form of ``macaddr``, ``money``, ``tsvector``...).
    """

    kind: str
    encode: Callable[[Any], Any]
    decode: Callable[[Any], Any]
    is_json: bool = False
    read: Callable[[ColumnElement[Any]], ColumnElement[Any]] | None = None
    special: Callable[[ColumnElement[Any]], ColumnElement[Any]] | None = None
    encode_text: Callable[[str], Any] | None = None
    decode_text: Callable[[Any], str] | None = None
    raw: bool = False
    binary: bool = True


def resolve_type(type_: sqltypes.TypeEngine[Any], dialect: Dialect) -> sqltypes.TypeEngine[Any]:
    """The type that really stores a column on ``dialect``.

    Variants and decorators are unwrapped, and so are PostgreSQL domains: a domain's values are
    its base type's (the database still checks its constraints).
    """
    resolved = type_.dialect_impl(dialect)
    while True:
        if isinstance(resolved, sqltypes.TypeDecorator):
            resolved = resolved.load_dialect_impl(dialect).dialect_impl(dialect)
        elif isinstance(resolved, postgresql.DOMAIN):
            resolved = resolved.data_type.dialect_impl(dialect)
        else:
            return resolved


def codec_for_type(type_: sqltypes.TypeEngine[Any], dialect: Dialect) -> Codec:
    """The codec of values of ``type_`` on ``dialect`` (decorators not checked: see ``codec_for``).

    Raises:
        TypeError: The type has no codec; the message names it.
    """
    return _codec_for_type(resolve_type(type_, dialect), dialect)


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
    if dialect.name == "postgresql":
        from batteries_fixtures._pg_codecs import pg_codec

        found = pg_codec(type_, dialect, _codec_for_type)
        if found is not None:
            return found
    elif dialect.name == "sqlite":
        from batteries_fixtures._sqlite_codecs import sqlite_codec

        found = sqlite_codec(type_, dialect)
        if found is not None:
            return found
    if isinstance(type_, sqltypes.ARRAY):
        item = _codec_for_type(resolve_type(type_.item_type, dialect), dialect)
        return _array_codec(item)
    if isinstance(type_, JSON):
        if isinstance(type_, postgresql.JSONB):
            return Codec("json", _encode_json, _decode_jsonb, is_json=True)
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
        return Codec("time", _encode_time, _decode_time if type_.timezone else _decode_naive_time)
    if isinstance(type_, sqltypes.Float):
        return _float_codec(sqlite=dialect.name == "sqlite")
    if isinstance(type_, sqltypes.Numeric) and not type_.asdecimal:
        # Python floats in a NUMERIC(p, s) column: rounded to the scale like decimals would be.
        limits = (type_.precision, type_.scale or 0) if type_.precision is not None else None
        return _float_codec(sqlite=dialect.name == "sqlite", digits=limits)
    if isinstance(type_, sqltypes.Numeric):
        return _decimal_codec(type_, sqlite=dialect.name == "sqlite")
    if isinstance(type_, sqltypes.Integer):
        return _int_codec(type_, dialect)
    if isinstance(type_, sqltypes.String):
        return _string_codec(type_, postgres=dialect.name == "postgresql")
    if dialect.name == "postgresql" and not isinstance(type_, sqltypes.NullType):
        # A type we do not know (an extension's): its own text, as pg_dump moves it.
        from batteries_fixtures._pg_codecs import TEXT_CODEC

        return TEXT_CODEC
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
    low, high = _int_bounds(type_, dialect)

    def decode(value: Any) -> int:
        _expect(value, int, "an integer")
        if not low <= value <= high:
            msg = f"integer {value} is out of range [{low}, {high}] for this column"
            raise ValueError(msg)
        return int(value)

    return Codec("int", _identity, decode)


def _int_bounds(type_: sqltypes.TypeEngine[Any], dialect: Dialect) -> tuple[int, int]:
    """The smallest and largest integer the column stores on ``dialect``."""
    bits = 63
    for kind, kind_bits in _INT_RANGES:
        if isinstance(type_, kind):
            bits = kind_bits
            break
    if dialect.name == "postgresql" and not isinstance(
        type_, sqltypes.BigInteger | sqltypes.SmallInteger
    ):
        bits = 31
    return -(2**bits), 2**bits - 1


def _decimal_codec(type_: sqltypes.Numeric[Any], *, sqlite: bool) -> Codec:
    precision, scale = type_.precision, type_.scale
    # PostgreSQL's numeric has NaN (and, unconstrained, infinities); SQLite's double turns NaN
    # into NULL, and no constrained numeric holds an infinity.
    specials = () if sqlite else ("NaN",) if precision is not None else _DECIMAL_SPECIALS

    def decode(value: Any) -> Decimal:
        _expect(value, (str, int), 'a decimal as text such as "12.50"')
        try:
            number = Decimal(value)
        except InvalidOperation:
            msg = f"{_describe(value)} is not a decimal number"
            raise ValueError(msg) from None
        if not number.is_finite():
            return _special_decimal(number, value, specials)
        if precision is not None:
            _check_digits(number, value, precision, scale or 0)
        if sqlite:
            _check_sqlite_decimal(number, value)
        else:
            _check_postgres_decimal(number, value)
        return number

    return Codec("decimal", _encode_decimal, decode)


_DECIMAL_SPECIALS = ("NaN", "Infinity", "-Infinity")
# PostgreSQL's numeric: up to 131072 digits before the point and 16383 after.
_PG_NUMERIC_INTEGER_DIGITS = 131072
_PG_NUMERIC_FRACTION_DIGITS = 16383


def _special_decimal(number: Decimal, value: Any, allowed: tuple[str, ...]) -> Decimal:
    # sNaN raises on every comparison and -NaN has no SQL spelling: only the three plain words.
    word = str(number).replace("sNaN", "!").replace("-NaN", "!")
    if word in allowed:
        return number
    if allowed:
        msg = f"{_describe(value)} cannot be stored in this column (allowed: {', '.join(allowed)})"
    else:
        msg = (
            f"{_describe(value)} cannot be stored in SQLite's NUMERIC, a double that turns NaN "
            "into NULL: finite numbers only"
        )
    raise ValueError(msg)


def _digits(number: Decimal) -> tuple[int, int]:
    """Digits before and after the point, trailing zeros after it ignored (1.50 has 1 and 1)."""
    _, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)
    count = len(digits)
    while count > 1 and digits[count - 1] == 0 and exponent < 0:
        count -= 1
        exponent += 1
    if digits == (0,) or all(d == 0 for d in digits):
        return 0, 0
    return max(0, count + exponent), max(0, -exponent)


def _check_digits(number: Decimal, value: Any, precision: int, scale: int) -> None:
    """Refuse what ``Numeric(precision, scale)`` would round or overflow."""
    before, after = _digits(number)
    if after > scale:
        msg = (
            f"{value} has {after} digits after the decimal point, but the column keeps {scale} "
            f"(Numeric({precision}, {scale})) and would round it"
        )
        raise ValueError(msg)
    if before > precision - scale:
        msg = (
            f"{value} has {before} digits before the decimal point, but the column holds at most "
            f"{precision - scale} (Numeric({precision}, {scale}))"
        )
        raise ValueError(msg)


def _check_sqlite_decimal(number: Decimal, value: Any) -> None:
    """SQLite stores NUMERIC as a double: refuse what a double would not give back exactly."""
    if len(number.as_tuple().digits) > _SQLITE_DECIMAL_DIGITS:
        msg = (
            f"{value} has more than {_SQLITE_DECIMAL_DIGITS} significant digits, which SQLite "
            "cannot store exactly in a NUMERIC column"
        )
        raise ValueError(msg)
    stored = float(number)
    if not math.isfinite(stored) or Decimal(repr(stored)) != number:
        msg = (
            f"{_describe(value)} is outside the range SQLite can store in a NUMERIC column "
            "(a double: about 1e-307 to 1e308)"
        )
        raise ValueError(msg)


def _check_postgres_decimal(number: Decimal, value: Any) -> None:
    before, after = _digits(number)
    if before > _PG_NUMERIC_INTEGER_DIGITS or after > _PG_NUMERIC_FRACTION_DIGITS:
        msg = (
            f"{_describe(value)} is outside PostgreSQL's numeric range "
            f"({_PG_NUMERIC_INTEGER_DIGITS} digits before the point, "
            f"{_PG_NUMERIC_FRACTION_DIGITS} after)"
        )
        raise ValueError(msg)


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


def _float_codec(*, sqlite: bool, digits: tuple[int, int] | None = None) -> Codec:
    def decode(value: Any) -> float:
        if isinstance(value, str) and value in _FLOAT_WORDS:
            number = _FLOAT_WORDS[value]
        else:
            _expect(value, (int, float), 'a number (or "NaN", "Infinity", "-Infinity")')
            number = _to_float(value)
            if digits is not None:
                _check_digits(Decimal(repr(number)), value, *digits)
        if sqlite:
            # SQLite stores a NaN as NULL and a negative zero as 0.0.
            if math.isnan(number):
                msg = '"NaN" cannot be stored in SQLite, which turns it into NULL'
                raise ValueError(msg)
            if number == 0 and math.copysign(1.0, number) < 0:
                msg = "-0.0 cannot be stored in SQLite, which turns it into 0.0: write 0.0"
                raise ValueError(msg)
        return number

    return Codec("float", _encode_float, decode)


def _to_float(value: int | float) -> float:
    if type(value) is float:
        return value
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if number != value:  # an integer beyond 2**53 would be rounded on the way in
        msg = (
            f"{_describe(value)} is not exactly representable as a double; write it as a "
            "decimal number or store it in an integer or Numeric column"
        )
        raise ValueError(msg)
    return number


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
    if value.tzinfo is None:  # the same text as value.replace(tzinfo=UTC), without making it
        return value.isoformat(timespec="microseconds") + "+00:00"
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
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        msg = f"{value!r} is out of range once converted to UTC (years 1 to 9999)"
        raise ValueError(msg) from None


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


def _decode_naive_time(value: Any) -> time:
    parsed = _decode_time(value)
    if parsed.utcoffset() is not None:
        msg = f"{value!r} has a UTC offset, but the column stores times without one: remove it"
        raise ValueError(msg)
    return parsed


# ---------------------------------------------------------------- JSON and arrays


def _needs_wrapper(document: Any) -> bool:
    return document is None or (
        isinstance(document, dict)
        and len(document) == 1
        and (JSON_WRAPPER in document or RAW_KEY in document)
    )


def _encode_json(document: Any) -> Any:
    return {JSON_WRAPPER: document} if _needs_wrapper(document) else document


def _decode_json(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1 and JSON_WRAPPER in value:
        inner = value[JSON_WRAPPER]
        return JSON.NULL if inner is None else inner
    return value


def _decode_jsonb(value: Any) -> Any:
    r"""PostgreSQL's jsonb refuses ``\u0000`` in its strings: say so with the record."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                msg = "PostgreSQL's jsonb cannot store the NUL character (\\u0000) in text"
                raise ValueError(msg)
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return _decode_json(value)


def _array_codec(item: Codec) -> Codec:
    def encode(value: Any) -> list[Any]:
        return [None if v is None else item.encode(v) for v in value]

    def decode(value: Any) -> list[Any]:
        _expect(value, list, "a list")
        return [None if v is None else item.decode(v) for v in value]

    return Codec(f"array[{item.kind}]", encode, decode)


# ---------------------------------------------------------------- fast paths for loads


@dataclass(frozen=True)
class Inline:
    """A fast decoder's plain case as Python source, for a generated row function.

    Attributes:
        test: An expression of ``v``, true when ``v`` is the plain case.
        value: The expression of ``v`` the decoder returns in that case.
        names: The objects ``{name}`` stands for in ``test`` and ``value``.
    """

    test: str
    value: str
    names: Mapping[str, object]


_INLINE: weakref.WeakKeyDictionary[Callable[[Any], Any], Inline] = weakref.WeakKeyDictionary()


def inline_form(decode: Callable[[Any], Any]) -> Inline | None:
    """The plain case of a decoder made by :func:`fast_decoder`, if it has one."""
    return _INLINE.get(decode)


def _inline(
    decode: Callable[[Any], Any], test: str, value: str = "v", **names: object
) -> Callable[[Any], Any]:
    _INLINE[decode] = Inline(test, value, names)
    return decode


def fast_decoder(codec: Codec, column: Column[Any], dialect: Dialect) -> Callable[[Any], Any]:
    """``codec.decode`` for ``column``, or a function that gives the same results sooner.

    A load decodes every value of a fixture: for the common kinds, the plain case (an ``int``
    in range, a ``str`` that fits, canonical decimal text) is answered in one or two tests, and
    anything else goes to ``codec.decode`` itself, so values and errors stay the codec's.
    """
    type_ = resolve_type(column.type, dialect)  # the type codec_for chose the codec by
    slow = codec.decode
    kind = codec.kind
    # Only the common codecs' decoders have a twin here (a dialect's own codec of the same kind,
    # an oid's "int" say, decodes otherwise): the factory that made ``slow`` must be the one.
    if kind == "int" and _made_by(slow, _int_codec) and isinstance(type_, sqltypes.Integer):
        low, high = _int_bounds(type_, dialect)

        def decode_int(value: Any) -> Any:
            if type(value) is int and low <= value <= high:
                return value
            return slow(value)

        return _inline(decode_int, f"type(v) is int and {low!r} <= v <= {high!r}")
    if kind == "str" and _made_by(slow, _string_codec) and isinstance(type_, sqltypes.String):
        return _fast_string(type_, slow, postgres=dialect.name == "postgresql")
    if kind == "bool" and slow is _decode_bool:

        def decode_bool(value: Any) -> Any:
            return value if type(value) is bool else slow(value)

        return _inline(decode_bool, "type(v) is bool")
    if kind == "decimal" and _made_by(slow, _decimal_codec) and isinstance(type_, sqltypes.Numeric):
        return _fast_decimal(type_, slow, sqlite=dialect.name == "sqlite")
    if kind == "datetime-aware" and slow is _decode_aware:
        return _fast_aware(slow)
    return slow


def _made_by(decode: Callable[[Any], Any], factory: Callable[..., Codec]) -> bool:
    """Whether ``decode`` is the ``decode`` closure that ``factory`` makes."""
    return getattr(decode, "__qualname__", None) == f"{factory.__qualname__}.<locals>.decode"


def _fast_string(
    type_: sqltypes.String, slow: Callable[[Any], Any], *, postgres: bool
) -> Callable[[Any], Any]:
    limit = type_.length if type_.length is not None else math.inf

    def decode(value: Any) -> Any:
        if type(value) is str and len(value) <= limit and not (postgres and "\x00" in value):
            return value
        return slow(value)

    test = "type(v) is str"
    if limit != math.inf:
        test += f" and len(v) <= {limit!r}"
    if postgres:
        test += ' and "\\x00" not in v'
    return _inline(decode, test)


def _fast_decimal(
    type_: sqltypes.Numeric[Any], slow: Callable[[Any], Any], *, sqlite: bool
) -> Callable[[Any], Any]:
    """Plain decimal text that ``Numeric(p, s)`` surely holds: at most p - s digits, then s.

    With at most 15 significant digits a double gives the number back exactly, so SQLite's
    own checks hold too; an unconstrained ``Numeric`` always takes the codec.
    """
    precision, scale = type_.precision, type_.scale or 0
    if precision is None or (sqlite and precision > _SQLITE_DECIMAL_DIGITS):
        return slow
    whole = f"[0-9]{{1,{precision - scale}}}" if precision > scale else "0"
    fraction = f"(?:\\.[0-9]{{1,{scale}}})?" if scale else ""
    plain = re.compile(f"-?{whole}{fraction}").fullmatch

    def decode(value: Any) -> Any:
        if type(value) is str and plain(value) is not None:
            return Decimal(value)
        return slow(value)

    return _inline(
        decode,
        "type(v) is str and {plain}(v) is not None",
        "{Decimal}(v)",
        plain=plain,
        Decimal=Decimal,
    )


def _fast_aware(slow: Callable[[Any], Any]) -> Callable[[Any], Any]:
    parse = datetime.fromisoformat

    def decode(value: Any) -> Any:
        if type(value) is str:
            try:
                parsed = parse(value)
            except ValueError:
                return slow(value)
            if parsed.utcoffset() is not None:
                try:
                    return parsed.astimezone(UTC)
                except OverflowError:
                    pass
        return slow(value)

    return decode
