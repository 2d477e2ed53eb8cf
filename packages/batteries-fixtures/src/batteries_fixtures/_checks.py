"""Check and complete staged rows with one SQL statement per question, never one per row.

Each check asks the database for the first offending record (by file, then record index), so
its error names ``path record N`` as if the rows had been checked one by one in Python.
"""

from __future__ import annotations

import json
from collections.abc import Set as AbstractSet
from typing import Any

from sqlalchemy import (
    JSON,
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
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection

from batteries_fixtures._codecs import resolve_type
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
from batteries_fixtures._schema import TableInfo
from batteries_fixtures.exceptions import DuplicateRecordError, UnresolvedReferenceError

__all__ = [
    "check_dangling",
    "check_duplicates",
    "mark_existing",
    "resolve_own_keys",
    "resolve_references",
]


def _where(files: list[str], file_index: int, record: int) -> str:
    return f"{files[file_index]} record {record}"


async def check_duplicates(
    connection: AsyncConnection, converter: Converter, files: list[str]
) -> None:
    """Refuse two records of the fixture with the same primary key (or natural key)."""
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
    s = converter.staging
    info = converter.info
    t = info.table
    same_key = and_(*(t.c[k] == s.c[k] for k in converter.pk_keys))
    await connection.execute(update(s).where(exists().where(same_key)).values({EXISTS: 1}))
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
        if isinstance(resolve_type(stored.type, dialect), JSON) and dialect.name == ("postgresql"):
            # PostgreSQL's json has no equality: compare the documents as jsonb.
            same = cast(stored, JSONB).is_not_distinct_from(cast(wanted, JSONB))
        else:
            same = stored.is_not_distinct_from(wanted)
        ref = converter.refs.get(key)
        if key in broken and ref is not None:
            # A natural key not resolved yet: the row counts as changed.
            same = and_(same, s.c[ref.raw].is_(None))
        alike.append(or_(func.substr(s.c[SHAPE], position + 1, 1) == "0", same))
    await connection.execute(
        update(s).where(s.c[EXISTS] == 1, exists().where(same_key, *alike)).values({SAME: 1})
    )


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
