"""Check and complete staged rows with one SQL statement per question, never one per row.

Each check asks the database for the first offending record (by file, then record index), so
its error names ``path record N`` as if the rows had been checked one by one in Python.
"""

from __future__ import annotations

import json
from collections.abc import Set as AbstractSet
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Table,
    UniqueConstraint,
    and_,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import Text

from batteries_fixtures._convert import (
    EXISTS,
    FILE,
    NATURAL,
    NATURAL_TEXT,
    NEW_KEY,
    RECORD,
    SAME,
    SHAPE,
    Converter,
    NaturalGroup,
    freeze,
    show_key,
)
from batteries_fixtures._reflection import own_rows_exist
from batteries_fixtures._schema import TableInfo
from batteries_fixtures.exceptions import DuplicateRecordError, UnresolvedReferenceError

__all__ = [
    "check_dangling",
    "check_duplicates",
    "mark_existing",
    "refuse_late_natural_keys",
    "refuse_raw_references",
    "refuse_rows_given_twice",
    "resolve_own_keys",
    "resolve_references",
]


def _where(files: list[str], file_index: int, record: int) -> str:
    return f"{files[file_index]} record {record}"


async def check_duplicates(
    connection: AsyncConnection, converter: Converter, files: list[str]
) -> None:
    """Refuse two records of the fixture with the same primary key (or natural key)."""
    if not converter.pk_keys:  # a table without a primary key may hold equal rows
        return
    s = converter.staging
    info = converter.info
    # A key part written as a natural key is still NULL here: its text tells records apart.
    by_pk = [s.c[k] for k in converter.pk_keys]
    by_pk += [s.c[ref.raw] for key, ref in converter.refs.items() if key in converter.pk_keys]
    for natural, key_columns in ((0, by_pk), (1, [s.c[NATURAL_TEXT]])):
        if natural and info.natural_key is None:
            continue
        condition = s.c[NATURAL] == natural
        probe = (
            select(literal(1))
            .where(condition)
            .group_by(*key_columns)
            .having(func.count() > 1)
            .limit(1)
        )
        if (await connection.execute(probe)).first() is None:
            continue
        order = (s.c[FILE], s.c[RECORD])
        numbered = select(
            s.c[FILE],
            s.c[RECORD],
            *key_columns,
            func.row_number().over(partition_by=key_columns, order_by=order).label("n"),
            func.first_value(s.c[FILE]).over(partition_by=key_columns, order_by=order).label("f"),
            func.first_value(s.c[RECORD]).over(partition_by=key_columns, order_by=order).label("r"),
        ).where(condition)
        inner = numbered.subquery()
        second = select(inner).where(inner.c.n == 2)
        second = second.order_by(inner.c[FILE], inner.c[RECORD]).limit(1)
        found = (await connection.execute(second)).first()
        assert found is not None
        if natural:
            key = ("natural", tuple(freeze(v) for v in json.loads(found[2])))
        else:
            key = ("pk", tuple(found[2 : 2 + len(converter.pk_keys)]))
        where = _where(files, found[0], found[1])
        msg = (
            f"{where}: table {info.name!r} {show_key(key)} appears twice "
            f"(first in {_where(files, found.f, found.r)}); remove one of them"
        )
        raise DuplicateRecordError(msg, path=files[found[0]], record=found[1], table=info.name)


async def refuse_rows_given_twice(
    connection: AsyncConnection, converter: Converter, files: list[str]
) -> None:
    """Refuse a row given by natural key only when another record gives that natural key a pk.

    The row without pk is looked up before its table is written, so the record with a pk would
    be inserted and the one without inserted again: two rows where the fixture meant one.
    """
    info = converter.info
    natural = info.natural_key
    s = converter.staging
    if natural is None or not await _any(connection, s, s.c[NATURAL] == 1):
        return
    if not await _any(connection, s, s.c[NATURAL] == 0):
        return
    o = s.alias("given")
    same: list[ColumnElement[bool]] = []
    for key in natural:
        ref = converter.refs.get(key)
        if ref is None:
            same.append(o.c[key] == s.c[key])
        else:  # a natural key written as one, or a raw key: both sides alike
            same.append(
                or_(
                    o.c[ref.raw] == s.c[ref.raw],
                    and_(o.c[ref.raw].is_(None), s.c[ref.raw].is_(None), o.c[key] == s.c[key]),
                )
            )
    query = (
        select(s.c[FILE], s.c[RECORD], s.c[NATURAL_TEXT], o.c[FILE], o.c[RECORD])
        .join_from(s, o, and_(*same))
        .where(s.c[NATURAL] == 1, o.c[NATURAL] == 0)
        .order_by(s.c[FILE], s.c[RECORD], o.c[FILE], o.c[RECORD])
        .limit(1)
    )
    problem = (await connection.execute(query)).first()
    if problem is None:
        return
    msg = (
        f"{_where(files, problem[0], problem[1])}: table {info.name!r} natural key "
        f"{json.loads(problem[2])!r} is given without 'pk', and with one in "
        f"{_where(files, problem[3], problem[4])}: remove one of them"
    )
    raise DuplicateRecordError(msg, path=files[problem[0]], record=problem[1], table=info.name)


async def refuse_raw_references(
    connection: AsyncConnection, converters: dict[str, Converter], files: list[str]
) -> None:
    """Refuse a raw key to a table whose rows this load gives by natural key only.

    Those rows get their keys from the target database, so a raw key in the fixture names
    whatever row happens to hold it there (a dump made before natural keys covered every
    reference looks like this). A raw key equal to one the fixture gives that table is fine.
    """
    targets: dict[str, Converter] = {}
    for name, converter in converters.items():
        s = converter.staging
        if converter.info.natural_key is None or len(converter.pk_keys) != 1:
            continue  # every row has its pk: records without one were refused when read
        if await _any(connection, s, s.c[NATURAL] == 1):
            targets[name] = converter
    if not targets:
        return
    for converter in converters.values():
        s = converter.staging
        info = converter.info
        for key, target in sorted(info.references.items()):
            parent = targets.get(target)
            if parent is None:
                continue
            p = parent.staging.alias("parent")
            value = s.c[key]
            raw = [value.is_not(None)]
            ref = converter.refs.get(key)
            if ref is not None:
                raw.append(s.c[ref.raw].is_(None))
            given = exists().where(p.c[NATURAL] == 0, p.c[parent.pk_keys[0]] == value)
            problem = await _first(connection, s, *raw, ~given, extra=[value])
            if problem is None:
                continue
            msg = (
                f"{_where(files, problem[0], problem[1])}: table {info.name!r} field {key!r} = "
                f"{problem[2]!r} is a raw key of table {target!r}, whose rows this load gives "
                f"by natural key only: write it as {target!r}'s natural key (a list), or give "
                "those rows their keys"
            )
            raise UnresolvedReferenceError(
                msg, path=files[problem[0]], record=problem[1], table=info.name, field=key
            )


async def refuse_late_natural_keys(
    connection: AsyncConnection, converter: Converter, broken: AbstractSet[str], files: list[str]
) -> None:
    """Refuse a row without pk whose natural key needs a foreign key that breaks a cycle.

    Such a key is set only after every row is written (NULL first, one UPDATE later), so the
    row could not be found by it when its table is written, and a merge would add it again.
    """
    info = converter.info
    s = converter.staging
    for key in info.natural_key or ():
        ref = converter.refs.get(key)
        if key not in broken or ref is None:
            continue
        late = s.c[ref.raw].is_not(None)
        problem = await _first(connection, s, s.c[NATURAL] == 1, late, extra=[])
        if problem is None:
            continue
        msg = (
            f"{_where(files, problem[0], problem[1])}: table {info.name!r} record without 'pk' "
            f"has {key!r}, a foreign key set only after the rows are written (it breaks a "
            "foreign-key cycle), in its natural key: give the record its 'pk'"
        )
        raise UnresolvedReferenceError(
            msg, path=files[problem[0]], record=problem[1], table=info.name, field=key
        )


async def resolve_references(
    connection: AsyncConnection, converter: Converter, keys: list[str], files: list[str]
) -> None:
    """Replace natural-key references in the columns ``keys`` by the primary keys they name.

    The referenced rows must be in their table already (parents are written first).
    """
    s = converter.staging
    info = converter.info
    for key in keys:
        ref = converter.refs.get(key)
        if ref is None:
            continue
        given = s.c[ref.raw].is_not(None)
        if (await connection.execute(select(literal(1)).where(given).limit(1))).first() is None:
            continue
        for group in ref.groups:
            target_pk = group.target.pk[0]
            match = _match(group, s)
            found = select(target_pk).where(match).limit(1).scalar_subquery()
            which = given if group.flag is None else s.c[group.flag] == 1
            await connection.execute(update(s).where(which).values({group.into: found}))
        top = ref.groups[-1]
        missing = await _first(connection, s, given, s.c[key].is_(None), extra=[s.c[ref.raw]])
        several = None
        if missing is None:
            ambiguous = [g for g in ref.groups if not _unique(g.target)]
            for group in ambiguous:
                which = given if group.flag is None else s.c[group.flag] == 1
                other = exists().where(_match(group, s), group.target.pk[0] != s.c[group.into])
                several = await _first(connection, s, which, other, extra=[s.c[ref.raw]])
                if several is not None:
                    break
        problem = missing or several
        if problem is None:
            continue
        what = "no row" if missing is not None else "several rows"
        raw = json.loads(problem[2])
        msg = (
            f"{_where(files, problem[0], problem[1])}: table {info.name!r} field {key!r}: "
            f"natural key {raw!r} matches {what} of table {top.target.name!r}"
        )
        raise UnresolvedReferenceError(
            msg, path=files[problem[0]], record=problem[1], table=info.name, field=key
        )


async def resolve_own_keys(
    connection: AsyncConnection, converter: Converter, files: list[str]
) -> None:
    """Rows given by natural key only: take the primary key of the stored row, if any."""
    info = converter.info
    natural = info.natural_key
    if natural is None or len(info.pk) != 1:
        return
    s = converter.staging
    mine = s.c[NATURAL] == 1
    if (await connection.execute(select(literal(1)).where(mine).limit(1))).first() is None:
        return
    pk = info.pk[0]
    match = and_(*(info.table.c[k] == s.c[k] for k in natural))
    found = select(pk).where(match).limit(1).scalar_subquery()
    await connection.execute(update(s).where(mine).values({pk.key: found}))
    if NEW_KEY in s.c:
        # Made after the lookup, so a made-up key is never mistaken for a stored one.
        await connection.execute(
            update(s).where(mine, s.c[pk.key].is_(None)).values({pk.key: s.c[NEW_KEY]})
        )
    if _unique(info):
        return
    other = exists().where(match, pk != s.c[pk.key])
    problem = await _first(
        connection, s, mine, s.c[pk.key].is_not(None), other, extra=[s.c[k] for k in natural]
    )
    if problem is None:
        return
    msg = (
        f"{_where(files, problem[0], problem[1])}: table {info.name!r} natural key "
        f"{list(problem[2:])!r} matches several rows: make the natural key unique"
    )
    raise UnresolvedReferenceError(msg, path=files[problem[0]], record=problem[1], table=info.name)


async def check_dangling(
    connection: AsyncConnection, converter: Converter, keys: AbstractSet[str], files: list[str]
) -> None:
    """Name the record whose foreign key (one of ``keys``) points at a row that exists nowhere."""
    s = converter.staging
    info = converter.info
    for column in info.table.columns:
        if column.key not in keys or len(column.foreign_keys) != 1:
            continue
        referred = next(iter(column.foreign_keys)).column
        value = s.c[column.key]
        nowhere = ~exists().where(referred == value)
        problem = await _first(connection, s, value.is_not(None), nowhere, extra=[value])
        if problem is None:
            continue
        msg = (
            f"{_where(files, problem[0], problem[1])}: table {info.name!r} field {column.key!r} "
            f"= {problem[2]!r} points at no row of {referred.table.name!r} (neither in the "
            "database nor in the fixture)"
        )
        raise UnresolvedReferenceError(
            msg, path=files[problem[0]], record=problem[1], table=info.name, field=column.key
        )


async def mark_existing(
    connection: AsyncConnection,
    converter: Converter,
    *,
    mode: str,
    broken: set[str],
    files: list[str],
) -> None:
    """Mark staged rows already stored; refuse them in append mode; in merge, find unchanged."""
    if not converter.pk_keys:  # nothing to find a stored row by: every record is appended
        return
    s = converter.staging
    info = converter.info
    t = info.table
    same_key = and_(*(t.c[k] == s.c[k] for k in converter.pk_keys))
    found = own_rows_exist(t, same_key, only=info.only)
    await connection.execute(update(s).where(found).values({EXISTS: 1}))
    if mode == "append":
        problem = await _first(
            connection, s, s.c[EXISTS] == 1, extra=[s.c[k] for k in converter.pk_keys]
        )
        if problem is not None:
            shown = show_key(("pk", tuple(problem[2:])))
            msg = (
                f"{_where(files, problem[0], problem[1])}: table {info.name!r} {shown} already "
                "exists; --append only inserts (drop --append to update existing rows)"
            )
            raise DuplicateRecordError(
                msg, path=files[problem[0]], record=problem[1], table=info.name
            )
        return
    if mode != "merge":
        return
    alike: list[ColumnElement[bool]] = []
    dialect = connection.dialect
    for position, key in enumerate(converter.data_keys):
        stored, wanted = t.c[key], s.c[key]
        if dialect.name == "postgresql" and info.codecs[key].read is not None:
            # Values moved as text compare as text: json and xml have no equality, boxes
            # and circles compare areas, '1 day' = '24 hours' as intervals.
            same = cast(stored, Text).is_not_distinct_from(cast(wanted, Text))
        else:
            same = stored.is_not_distinct_from(wanted)
        ref = converter.refs.get(key)
        if key in broken and ref is not None:
            # A natural key not resolved yet: the row counts as changed.
            same = and_(same, s.c[ref.raw].is_(None))
        alike.append(or_(func.substr(s.c[SHAPE], position + 1, 1) == "0", same))
    unchanged = own_rows_exist(t, same_key, *alike, only=info.only)
    await connection.execute(update(s).where(s.c[EXISTS] == 1, unchanged).values({SAME: 1}))


def _match(group: NaturalGroup, s: Table) -> ColumnElement[bool]:
    target = group.target
    assert target.natural_key is not None
    return and_(
        *(
            target.table.c[key] == s.c[part]
            for key, part in zip(target.natural_key, group.parts, strict=True)
        )
    )


def _unique(info: TableInfo) -> bool:
    """Whether the database itself keeps the natural key unique (no ambiguity to look for)."""
    natural = set(info.natural_key or ())
    candidates: list[set[str]] = [{c.key for c in info.pk}]
    for constraint in info.table.constraints:
        if isinstance(constraint, UniqueConstraint):
            candidates.append({c.key for c in constraint.columns})
    for index in info.table.indexes:
        if index.unique:
            candidates.append({c.key for c in index.columns if isinstance(c, Column)})
    for column in info.table.columns:
        if column.unique:
            candidates.append({column.key})
    return any(c and c <= natural for c in candidates)


async def _first(
    connection: AsyncConnection,
    s: Table,
    *conditions: ColumnElement[bool],
    extra: list[Any],
) -> Any:
    """The first staged row (by file, then record) meeting ``conditions``, or ``None``."""
    query = (
        select(s.c[FILE], s.c[RECORD], *extra)
        .where(*conditions)
        .order_by(s.c[FILE], s.c[RECORD])
        .limit(1)
    )
    return (await connection.execute(query)).first()


async def _any(connection: AsyncConnection, s: Table, condition: ColumnElement[bool]) -> bool:
    """Whether some staged row meets ``condition``."""
    found = await connection.execute(select(literal(1)).where(condition).limit(1))
    return found.first() is not None
