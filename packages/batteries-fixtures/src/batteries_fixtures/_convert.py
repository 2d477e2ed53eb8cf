"""Turn fixture records into staged rows: one precompiled converter per table.

A converter knows, once per table, the codec of each column, which foreign keys may be written
as another table's natural key, and where each of those parts goes in the staging table. Per
record it only decodes values and checks the record's shape; nothing is kept between records.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    SmallInteger,
    Table,
    Text,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from batteries_fixtures._codecs import fast_decoder, resolve_type
from batteries_fixtures._raw import RAW_TYPES, raw_positions
from batteries_fixtures._readers import MISSING, RawRecord
from batteries_fixtures._rowcode import FastColumn, RowFunction, compile_row
from batteries_fixtures._schema import Schema, TableInfo
from batteries_fixtures._sqlite_codecs import decode_aware_raw
from batteries_fixtures.exceptions import (
    FixtureFormatError,
    FixtureSchemaError,
    FixtureValueError,
    UnresolvedReferenceError,
)

__all__ = ["FILE", "RECORD", "Converter", "NaturalGroup", "NaturalRef", "freeze", "show_key"]

# Bookkeeping columns of a staging table; the prefix keeps them apart from the table's columns.
FILE = "_bf_file"  # index of the fixture file in the load's list of files
RECORD = "_bf_rec"  # index of the record in its file
SHAPE = "_bf_cols"  # "1"/"0" per non-key column: given by the record or not
NATURAL = "_bf_natural"  # 1 when the record gave no primary key (found by natural key)
NATURAL_TEXT = "_bf_nkey"  # the natural key as written, to find duplicates among those rows
NEW_KEY = "_bf_newpk"  # a key made by the column's Python default, for rows not found
EXISTS = "_bf_exists"  # 1 when the row is already stored
SAME = "_bf_same"  # 1 when the stored row already holds the fixture's values

# A natural key made of natural keys made of natural keys...: deeper than this is refused.
_MAX_DEPTH = 3


def freeze(value: Any) -> Hashable:
    """``value`` with its lists and objects turned into tuples, usable as a dict key."""
    if isinstance(value, list):
        return tuple(freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, freeze(v)) for k, v in value.items()))
    return value  # type: ignore[no-any-return]


def show_key(key: tuple[str, tuple[Any, ...]]) -> str:
    """A row key as error messages show it: ``key 1``, ``key (1, 2)`` or ``natural key [...]``."""
    kind, value = key
    if kind == "natural":
        return f"natural key {list(value)!r}"
    return f"key {value[0]!r}" if len(value) == 1 else f"key {value!r}"


@dataclass(frozen=True)
class NaturalGroup:
    """One natural key inside a reference: its parts are matched against ``target``.

    Attributes:
        target: The table whose natural key this is.
        into: Staging key that receives the primary key found.
        flag: Staging key set to 1 when this (nested) key was written as a list; ``None`` for
            the reference itself, whose raw text says it was given.
        parts: Staging key of each part, in the order of the target's natural key.
    """

    target: TableInfo
    into: str
    flag: str | None
    parts: tuple[str, ...]


@dataclass
class NaturalRef:
    """A foreign-key column that records may write as the natural key of the referenced row.

    Attributes:
        column: The foreign-key column's key.
        raw: Staging key of the reference as written (JSON text), for messages.
        groups: The natural keys to resolve, innermost first; the last is the reference itself.
    """

    column: str
    raw: str
    groups: list[NaturalGroup] = field(default_factory=list)


@dataclass(frozen=True)
class _Part:
    key: str
    decode: Callable[[Any], Any]
    nested: _Spec | None
    flag: str | None


@dataclass(frozen=True)
class _Spec:
    parts: tuple[_Part, ...]


class Converter:
    """Converts the records of one table into rows of its staging table.

    Attributes:
        info: The table.
        staging: The staging table (not created here): every column of the table, typed alike
            and nullable, plus the bookkeeping columns.
        data_keys: Keys of the non-key columns, in the order of the shape text.
        refs: The foreign keys records may write as natural keys.
    """

    def __init__(self, info: TableInfo, schema: Schema, number: int, *, ignore_unknown: bool):
        info.check_supported()
        self.info = info
        self.schema = schema
        self.ignore_unknown = ignore_unknown
        self.pk_keys = info.pk_keys
        pk_set = set(self.pk_keys)
        self.data_keys = [c.key for c in info.columns if c.key not in pk_set]
        self._slot = {key: i for i, key in enumerate(self.data_keys)}
        dialect = schema.dialect
        columns: list[Column[Any]] = [
            Column(c.name, _stage_type(c.type, dialect), key=c.key) for c in info.columns
        ]
        self.refs: dict[str, NaturalRef] = {}
        self._specs: dict[str, _Spec] = {}
        for position, key in enumerate(c.key for c in info.columns):
            target_name = info.references.get(key)
            target = schema.tables.get(target_name) if target_name else None
            if target is None or target.natural_key is None:
                continue
            ref = NaturalRef(column=key, raw=f"_bf_r{position}")
            columns.append(Column(ref.raw, Text))
            spec = self._spec(target, f"_bf_l{position}", columns, ref, 0)
            ref.groups.append(NaturalGroup(target, key, None, tuple(p.key for p in spec.parts)))
            self.refs[key] = ref
            self._specs[key] = spec
        new_key = _python_default(info)
        self._new_key = new_key
        # Python functions as defaults (uuid4, now): called here, once per record, because
        # INSERT ... SELECT would call them once per statement and give every row one value.
        self.defaults = {
            c.key: function for c in info.table.columns if (function := _row_default(c, pk_set))
        }
        columns += [
            Column(FILE, Integer),
            Column(RECORD, BigInteger),
            Column(SHAPE, Text),
            Column(NATURAL, SmallInteger, server_default=text("0")),
            Column(NATURAL_TEXT, Text),
            Column(EXISTS, SmallInteger, server_default=text("0")),
            Column(SAME, SmallInteger, server_default=text("0")),
        ]
        if new_key is not None:
            columns.append(Column(NEW_KEY, _stage_type(info.pk[0].type, dialect)))
        self.staging = Table(f"_bf_stage_{number}", MetaData(), *columns, prefixes=["TEMPORARY"])
        self.blank: dict[str, Any] = dict.fromkeys((c.key for c in self.staging.columns), None)
        self.blank[EXISTS] = 0
        self.blank[SAME] = 0
        self.blank[NATURAL] = 0
        # Staged rows leave out what is the same for every row (the defaults give it): the
        # checks set EXISTS and SAME, and only tables with a natural key have rows without pk.
        unwritten = {EXISTS, SAME}
        if info.natural_key is None:
            unwritten |= {NATURAL, NATURAL_TEXT}
        columns = [c for c in columns if c.key not in unwritten]
        # Driver values: each staging column's bind processor, applied in the reader's thread
        # so rows can go to the driver as they are (COPY, executemany) without SQLAlchemy.
        self.keys = [c.key for c in columns]
        self.names = [c.name for c in columns]
        processors = [c.type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
        self._processors = [(i, p) for i, p in enumerate(processors) if p is not None]
        # Staging columns that may receive the database's own text (see _raw).
        self.raw_positions, self.copyable = (
            raw_positions(columns, dialect) if dialect.name == "postgresql" else ((), True)
        )
        self._columns = info.column_keys
        self._codecs = {key: codec.decode for key, codec in info.codecs.items()}
        self._required = info.required
        self._generated = info.generated_key
        self._fast_plan(columns, processors)

    def _spec(
        self,
        target: TableInfo,
        prefix: str,
        columns: list[Column[Any]],
        ref: NaturalRef,
        depth: int,
    ) -> _Spec:
        """Lay out the parts of ``target``'s natural key; nested natural keys come first."""
        assert target.natural_key is not None
        parts: list[_Part] = []
        for i, key in enumerate(target.natural_key):
            leaf = f"{prefix}_{i}"
            columns.append(Column(leaf, _stage_type(target.table.c[key].type, self.schema.dialect)))
            nested: _Spec | None = None
            flag: str | None = None
            inner_name = target.references.get(key)
            inner = self.schema.tables.get(inner_name) if inner_name else None
            if inner is not None and inner.natural_key is not None and depth < _MAX_DEPTH:
                flag = f"{leaf}_given"
                columns.append(Column(flag, SmallInteger))
                nested = self._spec(inner, leaf, columns, ref, depth + 1)
                ref.groups.append(
                    NaturalGroup(inner, leaf, flag, tuple(p.key for p in nested.parts))
                )
            parts.append(_Part(leaf, target.codecs[key].decode, nested, flag))
        return _Spec(tuple(parts))

    def _fast_plan(self, columns: list[Column[Any]], processors: Sequence[Any]) -> None:
        """Lay out :meth:`row`'s fast path: one fused decode-and-bind function per column.

        It takes records whose ``pk`` is one plain value and whose fields are exactly the
        table's other columns (what dumps write); everything after the table's columns is
        then the same for every such record, bar the file and record numbers.
        """
        self._fast: RowFunction | None = None
        if len(self.pk_keys) != 1:
            return
        dialect = self.schema.dialect
        plan: list[FastColumn] = []
        for position, column in enumerate(self.info.columns):
            codec = self.info.codecs[column.key]
            plain = decode = fast_decoder(codec, column, dialect)
            process = _fast_bind(columns[position].type, dialect, processors[position])
            if process is not None:
                decode = _then_raw(decode, process) if codec.raw else _then(decode, process)
                if codec.decode is decode_aware_raw and process is _sqlite_datetime:
                    decode = _sqlite_aware(decode)
            if column.key in self.refs:
                decode = _not_a_list(decode)  # a natural key: the full path resolves it
            key = None if column.key == self.pk_keys[0] else column.key
            bind = None if process is None or process is _identity else process
            nullable = bool(column.nullable) and key is not None
            plan.append(FastColumn(key, decode, nullable, plain, bind))
        sample = dict(self.blank)
        sample[SHAPE] = "1" * len(self.data_keys)
        prototype = self.driver_row(sample)
        at = self.keys.index(FILE)
        assert self.keys[at + 1] == RECORD
        self._fast = compile_row(
            plan,
            frozenset(self.data_keys),
            prototype[len(plan) : at],
            prototype[at + 2 :],
            self._slow_row,
        )

    def row(self, record: RawRecord, file_index: int) -> tuple[Any, ...]:
        """The staged row of ``record`` as the driver takes it, made directly when it is plain.

        The same row as :meth:`convert` then :meth:`driver_row`, or the same error.

        Raises:
            FixtureSchemaError: See :meth:`convert`.
            FixtureFormatError: See :meth:`convert`.
            FixtureValueError: See :meth:`convert`.
        """
        fast = self._fast
        if fast is None:
            return self.driver_row(self.convert(record, file_index))
        return fast(record, file_index)

    def _slow_row(self, record: RawRecord, file_index: int) -> tuple[Any, ...]:
        return self.driver_row(self.convert(record, file_index))

    def convert(self, record: RawRecord, file_index: int) -> dict[str, Any]:
        """The staged row of ``record``.

        Raises:
            FixtureSchemaError: Unknown field, or a required field is missing.
            FixtureFormatError: The primary key is missing, null or of the wrong shape.
            FixtureValueError: A value cannot be converted to its column's type.
        """
        info = self.info
        row = dict(self.blank)
        shape = bytearray(b"0" * len(self.data_keys))
        slot = self._slot
        for key, value in record.fields.items():
            if key not in self._columns:
                if self.ignore_unknown:
                    continue
                msg = (
                    f"{record.path} record {record.index}: table {info.name!r} has no field "
                    f"{key!r}; use --ignore-unknown to skip it"
                )
                if key in info.generated:
                    msg = (
                        f"{record.path} record {record.index}: table {info.name!r} field "
                        f"{key!r} is a generated column, which the database computes: remove "
                        "it from the fixture, or use --ignore-unknown to skip it"
                    )
                raise FixtureSchemaError(
                    msg, path=record.path, record=record.index, table=info.name, field=key
                )
            self._put(row, key, value, record)
            position = slot.get(key)
            if position is not None:
                shape[position] = 49  # "1"
        pk_keys = self.pk_keys
        has_pk = False
        pk = record.pk
        self._refuse_null_key(record)
        if pk is not MISSING:
            if len(pk_keys) == 1:
                self._put(row, pk_keys[0], pk, record)
            else:
                if not pk_keys:
                    msg = (
                        f"{record.path} record {record.index}: table {info.name!r} has no "
                        "primary key, so its records have no 'pk': give every column in "
                        "'fields'"
                    )
                    raise FixtureFormatError(
                        msg, path=record.path, record=record.index, table=info.name
                    )
                if not isinstance(pk, dict) or set(pk) != set(pk_keys):
                    msg = (
                        f"{record.path} record {record.index}: table {info.name!r} has a "
                        f"composite primary key, so 'pk' must be an object with keys "
                        f"{', '.join(pk_keys)}, got {pk!r}"
                    )
                    raise FixtureFormatError(
                        msg, path=record.path, record=record.index, table=info.name
                    )
                for key in pk_keys:
                    self._put(row, key, pk[key], record)
            has_pk = True
        elif (pk_keys and all(record.fields.get(k) is not None for k in pk_keys)) or not pk_keys:
            has_pk = True
        elif info.natural_key is None:
            msg = (
                f"{record.path} record {record.index}: table {info.name!r} record has no 'pk' "
                "and the table declares no natural key: add the primary key"
            )
            raise FixtureFormatError(msg, path=record.path, record=record.index, table=info.name)
        for key in self._required:
            if key in record.fields or (has_pk and key in pk_keys):
                continue
            if key == self._generated and not has_pk:
                continue
            msg = (
                f"{record.path} record {record.index}: table {info.name!r}{_pk_text(record)} is "
                f"missing required field {key!r}"
            )
            raise FixtureSchemaError(
                msg, path=record.path, record=record.index, table=info.name, field=key
            )
        if not has_pk:
            assert info.natural_key is not None
            self._refuse_unmatchable(record)
            row[NATURAL] = 1
            for key in pk_keys:  # a null key field means "find or generate it"
                row[key] = None
            written = [record.fields.get(k) for k in info.natural_key]
            row[NATURAL_TEXT] = json.dumps(written, sort_keys=True, default=str)
            if self._new_key is not None:
                row[NEW_KEY] = self._new_key()
        for key, function in self.defaults.items():
            if key not in record.fields:  # the shape keeps "0": a merge leaves stored rows alone
                row[key] = function()
        row[FILE] = file_index
        row[RECORD] = record.index
        row[SHAPE] = shape.decode("ascii")
        return row

    def driver_row(self, row: dict[str, Any]) -> tuple[Any, ...]:
        """``row`` as the driver takes it: staging columns in order, bind processors applied."""
        values = [row[key] for key in self.keys]
        for i, process in self._processors:  # only the few columns whose type has one
            value = values[i]
            if value is not None and type(value) not in RAW_TYPES:  # raw: the database's own
                values[i] = process(value)
        return tuple(values)

    def _put(self, row: dict[str, Any], key: str, value: Any, record: RawRecord) -> None:
        if value is None:
            if not self.info.table.c[key].nullable:  # refused with its record, not at write time
                msg = (
                    f"{record.path} record {record.index}: table {self.info.name!r}"
                    f"{_pk_text(record)} field {key!r}: null in a NOT NULL column; give a value "
                    "or leave the field out"
                )
                raise FixtureValueError(
                    msg, path=record.path, record=record.index, table=self.info.name, field=key
                )
            return
        ref = self.refs.get(key)
        if ref is not None and isinstance(value, list):
            row[ref.raw] = json.dumps(value)
            _fill(self._specs[key], value, row)
            return
        try:
            row[key] = self._codecs[key](value)
        except (TypeError, ValueError, ArithmeticError) as exc:  # overflow, InvalidOperation
            msg = (
                f"{record.path} record {record.index}: table {self.info.name!r}"
                f"{_pk_text(record)} field {key!r}: {exc}"
            )
            raise FixtureValueError(
                msg, path=record.path, record=record.index, table=self.info.name, field=key
            ) from exc

    def _refuse_null_key(self, record: RawRecord) -> None:
        """A null key would insert a row under a new generated key, or fail at write time."""
        pk = record.pk
        given = pk if isinstance(pk, dict) else {} if pk is MISSING else {"pk": pk}
        nulls = [k for k, v in given.items() if v is None]
        nulls += [k for k in self.pk_keys if k in record.fields and record.fields[k] is None]
        if not nulls:
            return
        msg = (
            f"{record.path} record {record.index}: table {self.info.name!r} field {nulls[0]!r}: "
            "a primary key cannot be null; give the key, or leave 'pk' out for a table with a "
            "natural key"
        )
        raise FixtureValueError(
            msg, path=record.path, record=record.index, table=self.info.name, field=nulls[0]
        )

    def _refuse_unmatchable(self, record: RawRecord) -> None:
        """A row given by natural key only must be findable by it, or every merge adds it again."""
        assert self.info.natural_key is not None
        for name in self.info.natural_key:
            if record.fields.get(name) is not None:
                continue
            msg = (
                f"{record.path} record {record.index}: table {self.info.name!r} record without "
                f"'pk' has a NULL {name!r} in its natural key, which finds no row: give the "
                "record its 'pk'"
            )
            raise UnresolvedReferenceError(
                msg, path=record.path, record=record.index, table=self.info.name, field=name
            )


def _fill(spec: _Spec, raw: Any, row: dict[str, Any]) -> None:
    """Decode the parts of a natural key into their staging columns.

    A part that cannot be decoded, or a key of the wrong length, stays NULL: it then matches
    no row, and the load names the record with the key as written.
    """
    if not isinstance(raw, list) or len(raw) != len(spec.parts):
        return
    for part, item in zip(spec.parts, raw, strict=True):
        if item is None:
            continue
        if part.nested is not None and isinstance(item, list):
            assert part.flag is not None
            row[part.flag] = 1
            _fill(part.nested, item, row)
            continue
        try:
            row[part.key] = part.decode(item)
        except (TypeError, ValueError):
            continue


def _then(decode: Callable[[Any], Any], process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def decode_and_bind(value: Any) -> Any:
        return process(decode(value))

    return decode_and_bind


def _then_raw(decode: Callable[[Any], Any], process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def decode_and_bind(value: Any) -> Any:
        decoded = decode(value)
        # A raw value is the database's own text: no bind step (as in driver_row).
        return decoded if type(decoded) in RAW_TYPES else process(decoded)

    return decode_and_bind


def _not_a_list(decode: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def decode_scalar(value: Any) -> Any:
        if type(value) is list:
            msg = "a natural key"
            raise TypeError(msg)
        return decode(value)

    return decode_scalar


# Probes for _fast_bind: a replacement must give what the processor gives on each of them.
_DATETIME_PROBES = (
    datetime(2024, 2, 29, 23, 59, 58, 123456),
    datetime(2024, 2, 29, 23, 59, 58),
    datetime(5, 1, 2, 3, 4, 5, 6),
    datetime(9999, 12, 31, 23, 59, 59, 999999),
    datetime(2020, 6, 1, 12, 0, 0, 1, tzinfo=UTC),
    datetime(1, 1, 1, tzinfo=UTC),
)


def _fast_bind(
    type_: TypeEngine[Any], dialect: Dialect, process: Callable[[Any], Any] | None
) -> Callable[[Any], Any] | None:
    """``process`` (a staging column's bind processor), or a quicker equivalent.

    The same values for everything the column's codec returns: a replacement is tried on
    probes first, so a type configured otherwise (a custom storage format, say) keeps its own
    processor.
    """
    if process is None:
        return None
    resolved = resolve_type(type_, dialect)
    if type_ is not resolved and isinstance(type_, TypeDecorator):
        return process  # the decorator's own bind step comes first
    quick: Callable[[Any], Any] | None = None
    probes: tuple[Any, ...] = ()
    if isinstance(resolved, Boolean):
        quick, probes = (_identity if dialect.supports_native_boolean else int), (True, False)
    elif isinstance(resolved, DateTime) and dialect.name == "sqlite":
        quick, probes = _sqlite_datetime, _DATETIME_PROBES
    if quick is None:
        return process
    for probe in probes:
        expected, got = process(probe), quick(probe)
        if type(expected) is not type(got) or expected != got:
            return process
    return quick


def _identity(value: Any) -> Any:
    return value


def _sqlite_datetime(value: datetime) -> str:
    # SQLAlchemy's default SQLite storage format: the wall time, microseconds always written.
    return value.isoformat(" ", "microseconds")[:26]


def _sqlite_aware(full: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``full`` (decode a zoned datetime, then ``_sqlite_datetime``), sooner for UTC text.

    A dump writes ``2001-03-04T05:06:07.123456+00:00``; SQLite stores its UTC wall time
    ``2001-03-04 05:06:07.123456``, the same digits: once ``fromisoformat`` accepts the text
    (the digits are a valid moment), it is cut, not formatted again (``isoformat`` costs five
    times the parse). Any other form takes ``full``.
    """
    parse = datetime.fromisoformat

    def decode(value: Any) -> Any:
        if (
            type(value) is str
            and len(value) == 32
            and value[26:] == "+00:00"
            and value.isascii()
            and value[4] == value[7] == "-"
            and value[10] == "T"
            and value[11:13] < "24"  # a parser that reads 24:00 as the next day takes full
            and value[13] == value[16] == ":"
            and value[19] == "."
        ):
            try:
                parse(value)
            except ValueError:
                return full(value)
            return f"{value[:10]} {value[11:26]}"
        return full(value)

    return decode


def _pk_text(record: RawRecord) -> str:
    return "" if record.pk is MISSING else f" pk {record.pk!r}"


def _stage_type(type_: TypeEngine[Any], dialect: Dialect) -> TypeEngine[Any]:
    """The column's type for staging; JSON keeps SQL NULL (None) apart from JSON null."""
    resolved = resolve_type(type_, dialect)
    if isinstance(resolved, JSON):
        staged = copy.copy(resolved)
        staged.none_as_null = True
        return staged
    return copy.copy(type_)


def _python_default(info: TableInfo) -> Callable[[], Any] | None:
    """The primary key's Python-side default, for rows given by natural key only.

    ``INSERT ... SELECT`` would call it once per statement; each new row needs its own key.
    """
    if len(info.pk) != 1 or info.natural_key is None:
        return None
    default = info.pk[0].default
    if default is None or not getattr(default, "is_callable", False):
        return None
    function = default.arg  # type: ignore[attr-defined]
    return lambda: function(None)


def _row_default(column: Column[Any], pk_keys: set[str]) -> Callable[[], Any] | None:
    """A non-key column's Python function default that needs no statement context, or ``None``.

    SQLAlchemy wraps a function of no arguments (``uuid4``) so that it takes a context; such a
    wrapper keeps the function as ``__wrapped__``. A function that reads the context is left to
    the statement: there is no statement here.
    """
    default = column.default
    if column.key in pk_keys or default is None or not getattr(default, "is_callable", False):
        return None
    function = default.arg  # type: ignore[attr-defined]
    if getattr(function, "__wrapped__", None) is None:
        return None
    return lambda: function(None)
