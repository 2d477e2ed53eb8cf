"""Input the database cannot take is a typed error, the same on SQLite and PostgreSQL.

Out-of-range integers, over-long strings, NUL characters, lone surrogates, forged cursors,
huge ``in`` lists and deletes of rows that others refer to: each is a ``CRUDError`` subclass
naming table and field (never a driver error), and nothing is written.
"""

# No `from __future__ import annotations`: SQLModel resolves Relationship annotations at runtime.

import base64
import json
import re
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import BigInteger, String, event
from sqlmodel import Field, Relationship
from sqlmodel.ext.asyncio.session import AsyncSession

from batteries_crud import (
    BaseCRUD,
    ConflictError,
    InvalidFilterError,
    InvalidValueError,
    NotFoundError,
)
from batteries_models import BaseModel, Database, IntIDMixin, UUIDMixin


class HAuthor(BaseModel, IntIDMixin, table=True):
    __tablename__ = "crud_hostile_author"
    name: str = Field(max_length=10)
    code: str = Field(default="c", sa_type=String(8))  # a length only the column knows
    rank: int = 0
    stars: int = Field(default=0, sa_type=BigInteger)
    score: float = 0.0
    books: list["HBook"] = Relationship(back_populates="author")


class HBook(BaseModel, IntIDMixin, table=True):
    """Refers to an author through a relationship: the ORM tries to detach it on delete."""

    __tablename__ = "crud_hostile_book"
    title: str
    author_id: int = Field(foreign_key="crud_hostile_author.id")
    author: HAuthor | None = Relationship(back_populates="books")


class HNote(BaseModel, IntIDMixin, table=True):
    """Refers to an author through a bare foreign key: only the database refuses the delete."""

    __tablename__ = "crud_hostile_note"
    author_id: int = Field(foreign_key="crud_hostile_author.id")


class HTag(BaseModel, UUIDMixin, table=True):
    __tablename__ = "crud_hostile_tag"
    name: str


class AuthorCRUD(BaseCRUD[HAuthor, HAuthor, HAuthor]):
    pass


class TagCRUD(BaseCRUD[HTag, HTag, HTag]):
    pass


@pytest.fixture
async def db(database: Database) -> Database:
    await database.create_all(HAuthor.metadata)
    return database


@pytest.fixture
async def session(db: Database) -> AsyncIterator[AsyncSession]:
    async with db.session() as session:
        yield session


@pytest.fixture
def sent(db: Database) -> Iterator[list[str]]:
    """The SQL statements sent while the test runs."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    yield statements
    event.remove(db.engine.sync_engine, "before_cursor_execute", record)


async def test_a_key_no_row_can_have_is_not_found(session: AsyncSession, sent: list[str]) -> None:
    authors = AuthorCRUD(session)
    sent.clear()
    assert await authors.get(10**30) is None
    assert await authors.get(-(2**31) - 1) is None
    assert await authors.get(2**31) is None  # beyond INTEGER, the key column's type
    assert sent == []  # answered without asking the database
    with pytest.raises(NotFoundError):
        await authors.get_or_raise(10**30)
    with pytest.raises(NotFoundError):
        await authors.update(10**30, {"rank": 1})
    with pytest.raises(NotFoundError):
        await authors.delete(10**30)
    with pytest.raises(InvalidFilterError):  # not a number at all: the request is wrong
        await authors.get("ten")


CREATE_REFUSED: list[tuple[dict[str, Any], str, str]] = [
    ({"id": 10**30}, "id", "out of range"),
    ({"rank": 2**31}, "rank", "out of range"),
    ({"stars": 2**63}, "stars", "out of range"),
    ({"name": "Dead\x00pond"}, "name", "NUL"),
    ({"name": "x" * 11}, "name", "at most 10"),  # max_length: pydantic, or the check
    ({"code": "x" * 9}, "code", "too long: 9 characters"),  # String(8), by the check
    ({"name": "\ud800"}, "name", "surrogate|unicode string"),
    ({"code": "\udfff"}, "code", "surrogate"),
]


@pytest.mark.parametrize(("values", "field", "reason"), CREATE_REFUSED)
async def test_values_a_column_cannot_hold_are_refused_by_every_write(
    db: Database, values: dict[str, Any], field: str, reason: str
) -> None:
    async with db.session() as session:
        authors = AuthorCRUD(session)
        existing = await authors.create({"name": "Old"})
    row = {"name": "New", **values}
    lookup = {"rank": 7} if "rank" not in values else {"code": "z"}  # not the refused field
    writes: list[Callable[[AuthorCRUD], Any]] = [
        lambda c: c.create(row),
        lambda c: c.create_many([row]),
        lambda c: c.create_many([row], returning=False),
        lambda c: c.upsert(row, conflict=["id"]) if "id" in row else c.upsert(row),
        lambda c: c.get_or_create(defaults=row, **lookup),
    ]
    if "id" not in values:
        writes += [
            lambda c: c.update(existing.id, values),
            lambda c: c.update_many(values, id=existing.id),
        ]
    for write in writes:
        async with db.session() as session:
            with pytest.raises(InvalidValueError) as caught:
                await write(AuthorCRUD(session))
        error = caught.value
        assert (error.table, error.field) == ("crud_hostile_author", field)
        assert re.search(reason, str(error))
        assert isinstance(error, ValueError)
    async with db.session() as session:
        rows = await AuthorCRUD(session).list()
        assert [(a.name, a.rank, a.code) for a in rows] == [("Old", 0, "c")]


async def test_values_within_the_column_types_are_stored_on_every_backend(
    session: AsyncSession,
) -> None:
    authors = AuthorCRUD(session)
    edge = await authors.create(
        {"name": "x" * 10, "code": "y" * 8, "rank": 2**31 - 1, "stars": 2**63 - 1}
    )
    await authors.update(edge, {"name": "Zoë ✓"})
    assert await authors.get(edge.id) is edge
    assert await authors.count(stars=2**63 - 1, rank__lt=2**31 - 1) == 0
    assert await authors.count(stars=2**63 - 1, name="Zoë ✓") == 1


async def test_a_value_only_the_driver_refuses_is_an_invalid_value(db: Database) -> None:
    # No check knows floats: the drivers' own refusal is translated at the same boundary.
    with pytest.raises(InvalidValueError) as caught:
        async with db.session() as session:
            await AuthorCRUD(session).create_many([{"name": "n", "score": 10**400}])
    assert caught.value.table == "crud_hostile_author"
    assert "the database refused it" in str(caught.value)
    assert isinstance(caught.value.__cause__, Exception)


async def test_a_validation_error_keeps_every_field_error(session: AsyncSession) -> None:
    with pytest.raises(InvalidValueError) as caught:
        await AuthorCRUD(session).create({"name": "x" * 11, "rank": "high"})
    assert [e["loc"] for e in caught.value.errors] == [["name"], ["rank"]]
    assert caught.value.field == "name"
    assert "(and 1 more)" in str(caught.value)


FILTERS_REFUSED: list[tuple[dict[str, Any], str]] = [
    ({"id": 10**30}, "id"),
    ({"id__gt": 10**30}, "id__gt"),
    ({"id__in": [1, 10**30]}, "id__in"),
    ({"stars__lte": -(2**63) - 1}, "stars__lte"),
    ({"name": "a\x00"}, "name"),
    ({"name__icontains": "\x00"}, "name__icontains"),
    ({"name__startswith": "\ud800"}, "name__startswith"),
    ({"limit": 2**63}, "limit"),
    ({"offset": 2**63}, "offset"),
]


@pytest.mark.parametrize(("arguments", "field"), FILTERS_REFUSED)
async def test_filter_values_no_column_can_hold_are_refused_before_any_sql(
    session: AsyncSession, sent: list[str], arguments: dict[str, Any], field: str
) -> None:
    authors = AuthorCRUD(session)
    sent.clear()
    with pytest.raises(InvalidFilterError) as caught:
        await authors.list(**arguments)
    assert caught.value.field == field
    if "limit" not in arguments:
        with pytest.raises(InvalidFilterError):
            await authors.count(**arguments)
    assert sent == []


async def test_the_largest_limit_and_offset_sql_takes_work_everywhere(
    session: AsyncSession,
) -> None:
    authors = AuthorCRUD(session)
    await authors.create({"name": "Only"})
    largest = 2**63 - 1
    assert len(await authors.list(limit=largest)) == 1
    assert await authors.list(offset=largest) == []
    assert (await authors.paginate(limit=largest)).total == 1
    assert len((await authors.paginate_keyset(limit=largest)).items) == 1


async def test_in_lookups_take_lists_longer_than_any_parameter_limit(
    session: AsyncSession,
) -> None:
    authors = AuthorCRUD(session)
    created = await authors.create_many([{"name": f"a{i}"} for i in range(3)])
    ids = [a.id for a in created]
    many = list(range(-40_000, 0)) + ids  # 40,003 values: over asyncpg's 32,767 arguments
    assert sorted(a.id for a in await authors.list(id__in=many)) == sorted(ids)
    assert await authors.count(id__not_in=many) == 0
    assert await authors.count(id__not_in=many[:-1]) == 1
    names = [f"n{i}" for i in range(40_000)] + ["a1"]
    assert [a.name for a in await authors.list(name__in=names)] == ["a1"]
    assert await authors.count(id__in=[]) == 0
    assert await authors.count(id__not_in=[]) == 3
    assert await authors.delete_many(id__in=many[:-1]) == 2

    tags = TagCRUD(session)
    tag = await tags.create({"name": "t"})
    keys = [uuid.uuid4() for _ in range(40_000)]
    assert [t.id for t in await tags.list(id__in=[*keys, tag.id])] == [tag.id]
    assert [t.id for t in await tags.list(id__in=[*keys, str(tag.id)])] == [tag.id]


def _cursor(payload: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


FORGED_CURSORS: list[str] = [
    "!!!not base64!!!",
    "é",
    _cursor(None),
    _cursor([]),
    _cursor("k"),
    _cursor({"k": ["id"]}),
    _cursor({"k": "id", "v": [1]}),
    _cursor({"k": ["id"], "v": 1}),
    _cursor({"k": ["id"], "v": {"id": 1}}),
    _cursor({"k": [["id"]], "v": [1]}),
    _cursor({"k": ["id"], "v": [1, 2]}),
    _cursor({"k": ["id"], "v": [10**30]}),
    _cursor({"k": ["id"], "v": ["one"]}),
    _cursor({"k": ["id"], "v": [[1]]}),
    _cursor({"k": ["id"], "v": [None]}),
    _cursor({"k": ["name", "id"], "v": ["a\x00", 1]}),
    _cursor({"k": ["id"], "v": [1], "x": 2}),
    base64.urlsafe_b64encode(b'{"k": ["id"], "v": [' + b"9" * 5000 + b"]}").decode(),
    base64.urlsafe_b64encode(b"[" * 100_000 + b"]" * 100_000).decode()[:4000],
    base64.urlsafe_b64encode(b"[" * 3000 + b"]" * 3000).decode(),
    "A" * 100_000,
]


@pytest.mark.parametrize("cursor", FORGED_CURSORS, ids=range(len(FORGED_CURSORS)))
async def test_a_forged_cursor_is_an_invalid_filter(
    session: AsyncSession, sent: list[str], cursor: str
) -> None:
    authors = AuthorCRUD(session)
    order = ("name",) if '"name"' in _decoded(cursor) else ()
    sent.clear()
    with pytest.raises(InvalidFilterError) as caught:
        await authors.paginate_keyset(after=cursor, order_by=order)
    assert caught.value.field in ("after", "order_by")
    assert sent == []


def _decoded(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except ValueError:
        return ""


async def test_deleting_a_row_others_refer_to_is_a_conflict_naming_them(db: Database) -> None:
    async with db.session() as session:
        authors = AuthorCRUD(session)
        with_book, with_note = await authors.create_many([{"name": "A"}, {"name": "B"}])
        session.add(HBook(title="t", author_id=with_book.id))
        session.add(HNote(author_id=with_note.id))

    cases = [
        (lambda c: c.delete(with_book.id), "crud_hostile_book"),  # ORM detaches, then NOT NULL
        (lambda c: c.delete(with_note.id), "crud_hostile_note"),  # the foreign key refuses
        (lambda c: c.delete_many(id=with_note.id), "crud_hostile_note"),
    ]
    for delete, referencing in cases:
        with pytest.raises(ConflictError) as caught:  # outside: the scope rolls back
            async with db.session() as session:
                await delete(AuthorCRUD(session))
        error = caught.value
        assert (error.kind, error.columns) == ("foreign_key", ("author_id",))
        # PostgreSQL names the constraint; SQLite does not, so every table that refers to
        # authors is named (here both), the first as `table`.
        assert error.table in ("crud_hostile_book", "crud_hostile_note")
        assert f"'{referencing}' (author_id)" in str(error)
        assert "must not be null" not in str(error)
    async with db.session() as session:
        assert await AuthorCRUD(session).count(name__in=["A", "B"]) == 2
