"""Look rows up in the database: natural keys, existing rows, and dangling foreign keys.

Every lookup is batched: one SELECT per ``_LOOKUP_BATCH`` keys, never one per row.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

from sqlalchemy import ARRAY, any_, bindparam, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from batteries_fixtures._codecs import Codec
from batteries_fixtures._records import NaturalRef, Row, freeze
from batteries_fixtures._schema import Schema, TableInfo
from batteries_fixtures.exceptions import UnresolvedReferenceError

__all__ = ["Lookups"]

_LOOKUP_BATCH = 500


class Lookups:
    """The batched SELECTs a load makes before it writes a table."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema

    async def resolve_refs(
        self, connection: AsyncConnection, info: TableInfo, batch: list[Row], keys: Sequence[str]
    ) -> None:
        """Replace the natural-key references in ``keys`` with the primary keys they name."""
        wanted: dict[str, dict[Hashable, Any]] = {}
        for row in batch:
            for key in keys:
                value = row.values.get(key)
                if isinstance(value, NaturalRef):
                    wanted.setdefault(value.table, {})[value.frozen] = value.raw
        if not wanted:  # no natural keys in this batch: nothing to look up or replace
            return
        resolved: dict[str, dict[Hashable, Any]] = {}
        for target, raws in wanted.items():
            resolved[target] = await self._lookup_natural(connection, target, raws)
        for row in batch:
            for key in keys:
                value = row.values.get(key)
                if not isinstance(value, NaturalRef):
                    continue
                found = resolved[value.table].get(value.frozen, _NOT_FOUND)
                if found is _NOT_FOUND or found is _SEVERAL:
                    what = "no row" if found is _NOT_FOUND else "several rows"
                    msg = (
                        f"{row.where()}: table {info.name!r} field {key!r}: natural key "
                        f"{value.raw!r} matches {what} of table {value.table!r}"
                    )
                    raise UnresolvedReferenceError(
                        msg, path=row.path, record=row.index, table=info.name, field=key
                    )
                row.values[key] = found

    async def _lookup_natural(
        self, connection: AsyncConnection, name: str, raws: dict[Hashable, Any]
    ) -> dict[Hashable, Any]:
        """Primary keys of rows of ``name`` by natural key (raw JSON form), in batched SELECTs."""
        info = self.schema.tables[name]
        natural = info.natural_key
        assert natural is not None
        decoded: dict[Hashable, tuple[Any, ...]] = {}
        nested: dict[str, dict[Hashable, Any]] = {}
        for frozen, raw in raws.items():
            if not isinstance(raw, list) or len(raw) != len(natural):
                decoded[frozen] = ()
                continue
            for key, part in zip(natural, raw, strict=True):
                target = info.references.get(key)
                if target is not None and isinstance(part, list):
                    nested.setdefault(key, {})[freeze(part)] = part
        nested_found = {
            key: await self._lookup_natural(connection, info.references[key], parts)
            for key, parts in nested.items()
        }
        for frozen, raw in raws.items():
            if frozen in decoded:
                continue
            values: list[Any] = []
            for key, part in zip(natural, raw, strict=True):
                if part is None:
                    values.append(None)
                elif key in nested_found and isinstance(part, list):
                    values.append(nested_found[key].get(freeze(part), _NOT_FOUND))
                else:
                    try:
                        values.append(info.codecs[key].decode(part))
                    except (TypeError, ValueError):
                        values.append(_NOT_FOUND)
            decoded[frozen] = tuple(values)
        matches = await self._select_by_natural(connection, info, set(decoded.values()))
        return {frozen: matches.get(key, _NOT_FOUND) for frozen, key in decoded.items()}

    async def _select_by_natural(
        self, connection: AsyncConnection, info: TableInfo, keys: set[tuple[Any, ...]]
    ) -> dict[tuple[Any, ...], Any]:
        natural = info.natural_key
        assert natural is not None
        usable = [k for k in keys if k and _NOT_FOUND not in k and None not in k]
        columns = [info.table.c[k] for k in natural]
        pk = info.pk[0]
        found: dict[tuple[Any, ...], Any] = {}
        for start in range(0, len(usable), _LOOKUP_BATCH):
            chunk = usable[start : start + _LOOKUP_BATCH]
            if len(columns) == 1:
                condition = self._among(columns[0], [k[0] for k in chunk])
            else:
                condition = tuple_(*columns).in_(chunk)
            result = await connection.execute(select(pk, *columns).where(condition))
            for row in result:
                key = tuple(row[1:])
                found[key] = _SEVERAL if key in found else row[0]
        return found

    async def resolve_own_keys(
        self, connection: AsyncConnection, info: TableInfo, batch: list[Row]
    ) -> None:
        """Rows given by natural key only: find their primary key, if the row exists."""
        todo = [row for row in batch if not row.has_pk]
        if not todo:
            return
        natural = info.natural_key
        assert natural is not None
        # By position, not record index: records of two files share indexes.
        keys = [tuple(row.values.get(k) for k in natural) for row in todo]
        for row, key in zip(todo, keys, strict=True):
            _refuse_unmatchable(info, row, key)
        found = await self._select_by_natural(connection, info, set(keys))
        pk_key = info.pk[0].key
        for row, key in zip(todo, keys, strict=True):
            match = found.get(key, _NOT_FOUND)
            if match is _SEVERAL:
                msg = (
                    f"{row.where()}: table {info.name!r} natural key {list(key)!r} "
                    "matches several rows: make the natural key unique"
                )
                raise UnresolvedReferenceError(
                    msg, path=row.path, record=row.index, table=info.name
                )
            if match is not _NOT_FOUND:
                row.values[pk_key] = match
                row.has_pk = True
                row.exists = True

    async def check_references(
        self,
        connection: AsyncConnection,
        info: TableInfo,
        batch: list[Row],
        *,
        skip: set[str],
        only: set[str] | None = None,
    ) -> None:
        """Name the record whose foreign key points at a row that exists nowhere."""
        for column in info.table.columns:
            key = column.key
            if (
                key in skip
                or (only is not None and key not in only)
                or len(column.foreign_keys) != 1
            ):
                continue
            referred = next(iter(column.foreign_keys)).column
            values = {
                row.values[key]
                for row in batch
                if row.values.get(key) is not None and not isinstance(row.values[key], NaturalRef)
            }
            if not values:
                continue
            present: set[Any] = set()
            ordered = list(values)
            for start in range(0, len(ordered), _LOOKUP_BATCH):
                chunk = ordered[start : start + _LOOKUP_BATCH]
                result = await connection.execute(
                    select(referred).where(self._among(referred, chunk))
                )
                present.update(result.scalars())
            missing = values - present
            if not missing:
                continue
            row = next(r for r in batch if r.values.get(key) in missing)
            msg = (
                f"{row.where()}: table {info.name!r} field {key!r} = {row.values[key]!r} points at "
                f"no row of {referred.table.name!r} (neither in the database nor in the fixture)"
            )
            raise UnresolvedReferenceError(
                msg, path=row.path, record=row.index, table=info.name, field=key
            )

    def _among(self, column: Any, values: list[Any]) -> Any:
        """``column IN values`` as one parameter, so every batch compiles to a cached statement.

        PostgreSQL gets an array (``= ANY``), which the server also prepares once; elsewhere an
        expanding parameter, rendered at execution instead of one bound object per value.
        """
        if self.schema.dialect.name == "postgresql":
            return column == any_(bindparam(None, values, type_=ARRAY(column.type)))
        return column.in_(bindparam(None, values, type_=column.type, expanding=True))

    async def mark_existing(
        self, connection: AsyncConnection, info: TableInfo, batch: list[Row], *, compare: bool
    ) -> None:
        """Mark rows whose primary key is already stored; with ``compare``, also those unchanged."""
        with_pk = [row for row in batch if row.has_pk and not row.exists]
        columns = [info.table.c[c.key] for c in info.pk]
        keys = {tuple(row.values[c.key] for c in columns): row for row in with_pk}
        ordered = list(keys)
        # When comparing (merge mode) the stored values come back too, so rows already holding
        # the fixture's values are left alone: loading a fixture twice writes nothing the second
        # time.
        compared = sorted({k for row in with_pk for k in row.values} - {c.key for c in columns})
        fetched = [*columns, *(info.table.c[k] for k in compared)] if compare else columns
        for start in range(0, len(ordered), _LOOKUP_BATCH):
            chunk = ordered[start : start + _LOOKUP_BATCH]
            if len(columns) == 1:
                condition = self._among(columns[0], [k[0] for k in chunk])
            else:
                condition = tuple_(*columns).in_(chunk)
            result = await connection.execute(select(*fetched).where(condition))
            for stored in result:
                found = keys[tuple(stored[: len(columns)])]
                found.exists = True
                if compare:
                    current = dict(zip(compared, stored[len(columns) :], strict=True))
                    # A cycle-broken key is compared with the value it will finally get.
                    intended = {**found.values, **(found.later or {})}
                    if all(
                        _same(info.codecs[k], current[k], v)
                        for k, v in intended.items()
                        if k in current
                    ):
                        found.unchanged = True
                        found.later = None


def _refuse_unmatchable(info: TableInfo, row: Row, key: tuple[Any, ...]) -> None:
    """A row given by natural key only must be findable by it, or every load adds it again."""
    assert info.natural_key is not None
    for name, part in zip(info.natural_key, key, strict=True):
        if part is None:
            problem = f"has a NULL {name!r} in its natural key, which finds no row"
        elif isinstance(part, NaturalRef):
            problem = (
                f"has {name!r}, a foreign key set only after the rows are written (it breaks a "
                "foreign-key cycle), in its natural key"
            )
        else:
            continue
        msg = (
            f"{row.where()}: table {info.name!r} record without 'pk' {problem}: give the "
            "record its 'pk'"
        )
        raise UnresolvedReferenceError(
            msg, path=row.path, record=row.index, table=info.name, field=name
        )


_NOT_FOUND: Any = object()
_SEVERAL: Any = object()


def _same(codec: Codec, stored: Any, wanted: Any) -> bool:
    """Whether a stored value already is the fixture's value, as a dump would write them."""
    if stored is None or wanted is None:
        return stored is None and wanted is None
    if stored == wanted:
        return True
    try:  # e.g. SQLite returns an aware column's UTC time naive: compare the dumped forms
        return bool(codec.encode(stored) == codec.encode(wanted))
    except (TypeError, ValueError, AttributeError):
        return False
