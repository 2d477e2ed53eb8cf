"""Read fixture records and convert them to rows: decoded values, keys, duplicates found."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

from batteries_fixtures._formats import MISSING, RawRecord, read_records
from batteries_fixtures._reports import LoadReport, TableCounts
from batteries_fixtures._schema import Schema, TableInfo
from batteries_fixtures._sources import Source, open_source
from batteries_fixtures.exceptions import (
    DuplicateRecordError,
    FixtureFormatError,
    FixtureSchemaError,
    FixtureValueError,
)

__all__ = ["NaturalRef", "Row", "TableRows", "freeze", "read_all", "show_key"]


@dataclass(frozen=True)
class NaturalRef:
    """A foreign-key value written as the natural key of the referenced row."""

    table: str
    raw: Any = field(compare=False)  # a list, unhashable: rows are keyed by ``frozen``
    frozen: Hashable


@dataclass(slots=True)
class Row:
    """One converted record; slots because a load holds one per record.

    Attributes:
        values: Decoded values by column key; a foreign key may still be a :class:`NaturalRef`.
        path: The fixture file the record came from.
        index: The record's position in that file.
        has_pk: Every primary-key column has a value (given, looked up or returned).
        exists: The row is already in the database.
        unchanged: The stored row already holds these values: nothing to write.
        later: Values of cycle-broken foreign keys, written by an UPDATE after every insert.
    """

    values: dict[str, Any]
    path: str
    index: int
    has_pk: bool
    exists: bool = False
    unchanged: bool = False
    later: dict[str, Any] | None = None

    def where(self) -> str:
        """Where the record is, for error messages: ``path record index``."""
        return f"{self.path} record {self.index}"


@dataclass
class TableRows:
    """The rows of one table, in file order, and the key each row was first seen under."""

    info: TableInfo
    rows: list[Row] = field(default_factory=list)
    keys: dict[tuple[str, tuple[Any, ...]], Row] = field(default_factory=dict)


def freeze(value: Any) -> Hashable:
    """``value`` with its lists and objects turned into tuples, usable as a dict key."""
    if isinstance(value, list):
        return tuple(freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, freeze(v)) for k, v in value.items()))
    return value  # type: ignore[no-any-return]


def read_all(
    sources: list[Source], schema: Schema, *, ignore_unknown: bool, report: LoadReport
) -> dict[str, TableRows]:
    """Read and convert every record of ``sources``, by table; count skipped unknown tables."""
    tables: dict[str, TableRows] = {}
    skipped: dict[str, int] = {}
    for source in sources:
        with open_source(source) as (stream, path):
            report.files.append(path)
            for record in read_records(stream, path):
                info = schema.tables.get(record.table)
                if info is None:
                    if ignore_unknown:
                        skipped[record.table] = skipped.get(record.table, 0) + 1
                        continue
                    known = ", ".join(sorted(schema.tables)) or "none"
                    msg = (
                        f"{path} record {record.index}: unknown table {record.table!r} "
                        f"(the database has {known}); use --ignore-unknown to skip it"
                    )
                    raise FixtureSchemaError(
                        msg, path=path, record=record.index, table=record.table
                    )
                bucket = tables.get(info.name)
                if bucket is None:
                    info.check_supported()
                    bucket = tables[info.name] = TableRows(info)
                row = _convert(record, info, schema, ignore_unknown=ignore_unknown)
                key = _row_key(row, info)
                previous = bucket.keys.get(key)
                if previous is not None:
                    msg = (
                        f"{row.where()}: table {info.name!r} {show_key(key)} appears twice "
                        f"(first in {previous.where()}); remove one of them"
                    )
                    raise DuplicateRecordError(msg, path=path, record=row.index, table=info.name)
                bucket.keys[key] = row
                bucket.rows.append(row)
    for name, count in sorted(skipped.items()):
        report.tables.setdefault(name, TableCounts()).skipped = count
    return tables


def show_key(key: tuple[str, tuple[Any, ...]]) -> str:
    """A row key as error messages show it: ``key 1``, ``key (1, 2)`` or ``natural key [...]``."""
    kind, value = key
    if kind == "natural":
        return f"natural key {list(value)!r}"
    return f"key {value[0]!r}" if len(value) == 1 else f"key {value!r}"


def _row_key(row: Row, info: TableInfo) -> tuple[str, tuple[Any, ...]]:
    if row.has_pk:
        values = row.values
        return ("pk", tuple([values[k] for k in info.pk_keys]))
    assert info.natural_key is not None
    return ("natural", tuple(freeze(_natural_part(row.values.get(k))) for k in info.natural_key))


def _natural_part(value: Any) -> Any:
    return value.raw if isinstance(value, NaturalRef) else value


def _convert(record: RawRecord, info: TableInfo, schema: Schema, *, ignore_unknown: bool) -> Row:
    values: dict[str, Any] = {}
    columns = info.column_keys
    for key, value in record.fields.items():
        if key not in columns:
            if ignore_unknown:
                continue
            msg = (
                f"{record.path} record {record.index}: table {info.name!r} has no field {key!r}; "
                "use --ignore-unknown to skip it"
            )
            raise FixtureSchemaError(
                msg, path=record.path, record=record.index, table=info.name, field=key
            )
        values[key] = _decode(info, schema, key, value, record)
    pk_keys = info.pk_keys
    has_pk = False
    _refuse_null_key(record, info, values)
    if record.pk is not MISSING:
        if len(pk_keys) == 1:
            values[pk_keys[0]] = _decode(info, schema, pk_keys[0], record.pk, record)
        else:
            if not isinstance(record.pk, dict) or set(record.pk) != set(pk_keys):
                msg = (
                    f"{record.path} record {record.index}: table {info.name!r} has a composite "
                    f"primary key, so 'pk' must be an object with keys {', '.join(pk_keys)}, "
                    f"got {record.pk!r}"
                )
                raise FixtureFormatError(
                    msg, path=record.path, record=record.index, table=info.name
                )
            for key in pk_keys:
                values[key] = _decode(info, schema, key, record.pk[key], record)
        has_pk = True
    elif pk_keys and all(k in values for k in pk_keys):
        has_pk = True
    elif info.natural_key is None:
        msg = (
            f"{record.path} record {record.index}: table {info.name!r} record has no 'pk' and "
            "the table declares no natural key: add the primary key"
        )
        raise FixtureFormatError(msg, path=record.path, record=record.index, table=info.name)
    for key in info.required:
        if key in values or (key == info.generated_key and not has_pk):
            continue
        msg = (
            f"{record.path} record {record.index}: table {info.name!r}{_pk_text(record)} is "
            f"missing required field {key!r}"
        )
        raise FixtureSchemaError(
            msg, path=record.path, record=record.index, table=info.name, field=key
        )
    return Row(values=values, path=record.path, index=record.index, has_pk=has_pk)


def _refuse_null_key(record: RawRecord, info: TableInfo, values: dict[str, Any]) -> None:
    """A null key would insert a row under a new generated key (SQLite) or fail at write time."""
    pk = record.pk
    given = pk if isinstance(pk, dict) else {} if pk is MISSING else {"pk": pk}
    nulls = [k for k, v in given.items() if v is None]
    nulls += [k for k in info.pk_keys if k in values and values[k] is None]
    if not nulls:
        return
    msg = (
        f"{record.path} record {record.index}: table {info.name!r} field {nulls[0]!r}: a primary "
        "key cannot be null; give the key, or leave 'pk' out for a table with a natural key"
    )
    raise FixtureValueError(
        msg, path=record.path, record=record.index, table=info.name, field=nulls[0]
    )


def _pk_text(record: RawRecord) -> str:
    return "" if record.pk is MISSING else f" pk {record.pk!r}"


def _decode(info: TableInfo, schema: Schema, key: str, value: Any, record: RawRecord) -> Any:
    if value is None:
        if not info.table.c[key].nullable:  # refused here, with the record, not at write time
            msg = (
                f"{record.path} record {record.index}: table {info.name!r}{_pk_text(record)} "
                f"field {key!r}: null in a NOT NULL column; give a value or leave the field out"
            )
            raise FixtureValueError(
                msg, path=record.path, record=record.index, table=info.name, field=key
            )
        return None
    target = info.references.get(key)
    if target is not None and isinstance(value, list):
        target_info = schema.tables.get(target)
        if target_info is not None and target_info.natural_key is not None:
            return NaturalRef(target, value, freeze(value))
    try:
        return info.codecs[key].decode(value)
    except (TypeError, ValueError, ArithmeticError) as exc:  # overflow, InvalidOperation
        msg = (
            f"{record.path} record {record.index}: table {info.name!r}{_pk_text(record)} "
            f"field {key!r}: "
            f"{exc}"
        )
        raise FixtureValueError(
            msg, path=record.path, record=record.index, table=info.name, field=key
        ) from exc
