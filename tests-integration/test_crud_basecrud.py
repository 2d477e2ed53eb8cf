"""BaseCRUD on SQLite and PostgreSQL: reads, lookups, pagination, writes, soft delete, errors."""

# No `from __future__ import annotations`: SQLModel resolves Relationship annotations at runtime.

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import pytest
from pydantic import BaseModel as Schema
from sqlalchemy import event, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlmodel import Field, Relationship, SQLModel, col
from sqlmodel.ext.asyncio.session import AsyncSession

from batteries_crud import (
    LOOKUPS,
    BaseCRUD,
    ConflictError,
    CRUDDefinitionError,
    InvalidFilterError,
    InvalidValueError,
    MultipleFoundError,
    NotFoundError,
)
from batteries_models import (
    BaseModel,
    Database,
    IntIDMixin,
    SoftDeleteMixin,
    TimestampMixin,
    UUIDMixin,
    utcnow,
)


class CTeam(BaseModel, IntIDMixin, table=True):
    __tablename__ = "crud_team"
    name: str = Field(unique=True)
    heroes: list["CHero"] = Relationship(back_populates="team")


class CHero(BaseModel, IntIDMixin, TimestampMixin, table=True):
    __tablename__ = "crud_hero"
    name: str = Field(unique=True)
    age: int | None = None
    team_id: int | None = Field(default=None, foreign_key="crud_team.id")
    team: CTeam | None = Relationship(back_populates="heroes")


class CGadget(BaseModel, UUIDMixin, SoftDeleteMixin, table=True):
    __tablename__ = "crud_gadget"
    name: str = Field(unique=True)
    price: int = 0


class CMembership(BaseModel, table=True):
    __tablename__ = "crud_membership"
    team_id: int = Field(primary_key=True)
    hero_id: int = Field(primary_key=True)
    role: str = "member"


class PlainNote(SQLModel, table=True):  # no batteries base class, no mixins
    __tablename__ = "crud_plain_note"
    id: int | None = Field(default=None, primary_key=True)
    text: str


class HeroCreate(Schema):
    name: str
    age: int | None = None
    team_id: int | None = None


class HeroUpdate(Schema):
    name: str | None = None
    age: int | None = None


class GadgetCreate(Schema):
    name: str
    price: int = 0


class PlainNoteCRUD(BaseCRUD[PlainNote, PlainNote, PlainNote]):
    pass


class HeroCRUD(BaseCRUD[CHero, HeroCreate, HeroUpdate]):
    pass


class GadgetCRUD(BaseCRUD[CGadget, GadgetCreate, GadgetCreate]):
    pass


class MembershipCRUD(BaseCRUD[CMembership, CMembership, CMembership]):
    pass


class Statements:
    """Every SQL statement the engine sends, to prove bad input sends none."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.sent.append(statement)


@pytest.fixture
def statements(database: Database) -> Iterator[Statements]:
    recorder = Statements()
    event.listen(database.engine.sync_engine, "before_cursor_execute", recorder)
    yield recorder
    event.remove(database.engine.sync_engine, "before_cursor_execute", recorder)


@pytest.fixture
async def session(database: Database) -> AsyncIterator[AsyncSession]:
    await database.create_all()
    async with database.session() as session:
        yield session


async def seed_heroes(session: AsyncSession) -> list[CHero]:
    rows: list[dict[str, Any]] = [
        {"name": "Alpha", "age": 10},
        {"name": "beta", "age": 20},
        {"name": "Gamma", "age": None},
        {"name": "del%ta", "age": 30},
        {"name": "Epsilon_x", "age": 20},
    ]
    return await HeroCRUD(session).create_many(rows)


# ---------------------------------------------------------------- contract


def test_the_model_comes_from_the_generic_parameters() -> None:
    assert HeroCRUD.model is CHero
    assert MembershipCRUD.model is CMembership


def test_a_crud_of_a_non_table_model_is_refused_when_defined() -> None:
    with pytest.raises(CRUDDefinitionError, match="not a table model"):

        class Broken(BaseCRUD[HeroCreate, HeroCreate, HeroCreate]):  # type: ignore[type-var]
            pass


# ---------------------------------------------------------------- reads


async def test_get_get_or_raise_and_get_by(session: AsyncSession) -> None:
    heroes = HeroCRUD(session)
    alpha = await heroes.create(HeroCreate(name="Alpha", age=10))
    assert alpha.id is not None
    assert await heroes.get(alpha.id) is alpha
    assert await heroes.get(alpha.id + 1000) is None
    assert (await heroes.get_or_raise(alpha.id)).name == "Alpha"
    with pytest.raises(NotFoundError, match="crud_hero") as caught:
        await heroes.get_or_raise(alpha.id + 1000)
    assert caught.value.key == alpha.id + 1000
    assert isinstance(caught.value, LookupError)
    assert await heroes.get_by(name="Alpha") is alpha
    assert await heroes.get_by(name="nobody") is None
    await heroes.create({"name": "Beta", "age": 10})
    with pytest.raises(MultipleFoundError):
        await heroes.get_by(age=10)


async def test_uuid_keys_accept_uuid_objects_and_strings(session: AsyncSession) -> None:
    gadgets = GadgetCRUD(session)
    lamp = await gadgets.create(GadgetCreate(name="lamp", price=3))
    assert isinstance(lamp.id, uuid.UUID)
    session.expunge_all()
    assert (await gadgets.get_or_raise(lamp.id)).name == "lamp"
    assert (await gadgets.get_or_raise(str(lamp.id))).id == lamp.id
    assert await gadgets.get(uuid.uuid4()) is None
    assert [g.name for g in await gadgets.list(id__in=[lamp.id, uuid.uuid4()])] == ["lamp"]


async def test_composite_keys(session: AsyncSession) -> None:
    members = MembershipCRUD(session)
    await members.create_many([{"team_id": 1, "hero_id": 1}, {"team_id": 1, "hero_id": 2}])
    await members.create({"team_id": 2, "hero_id": 1, "role": "lead"})
    assert (await members.get_or_raise((2, 1))).role == "lead"
    assert (await members.get({"team_id": 1, "hero_id": 2})) is not None
    assert await members.get((2, 2)) is None
    await members.update((1, 2), {"role": "lead"})
    assert await members.count(role="lead") == 2
    await members.delete((1, 1))
    assert await members.count() == 2
    with pytest.raises(InvalidFilterError, match="2 column"):
        await members.get(1)
    upserted = await members.upsert({"team_id": 2, "hero_id": 1, "role": "coach"}, update=["role"])
    assert upserted.role == "coach"
    assert await members.count() == 2


async def test_a_plain_sqlmodel_model(database: Database) -> None:
    await database.create_all(SQLModel.metadata)
    async with database.session() as session:
        notes = PlainNoteCRUD(session)
        first = await notes.create({"text": "hello"})
        await notes.create_many([{"text": "a"}, {"text": "b"}])
        assert first.id is not None
        assert (await notes.get_or_raise(first.id)).text == "hello"
        listed = await notes.list(text__in=["a", "b"], order_by="-text")
        assert [n.text for n in listed] == ["b", "a"]
        assert (await notes.update(first, {"text": "bye"})).text == "bye"
        assert await notes.delete_many(text="a") == 1
        assert await notes.count() == 2


async def test_every_lookup(session: AsyncSession) -> None:
    await seed_heroes(session)
    heroes = HeroCRUD(session)
    cases: list[tuple[dict[str, Any], set[str]]] = [
        ({"name": "Alpha"}, {"Alpha"}),
        ({"name__exact": "Alpha"}, {"Alpha"}),
        ({"name__iexact": "ALPHA"}, {"Alpha"}),
        ({"age__ne": 20}, {"Alpha", "del%ta"}),
        ({"age__gt": 10}, {"beta", "del%ta", "Epsilon_x"}),
        ({"age__gte": 20}, {"beta", "del%ta", "Epsilon_x"}),
        ({"age__lt": 20}, {"Alpha"}),
        ({"age__lte": 20}, {"Alpha", "beta", "Epsilon_x"}),
        ({"age__in": [10, 30]}, {"Alpha", "del%ta"}),
        ({"age__not_in": [10, 30]}, {"beta", "Epsilon_x"}),
        ({"age__isnull": True}, {"Gamma"}),
        ({"age__isnull": False}, {"Alpha", "beta", "del%ta", "Epsilon_x"}),
        ({"age": None}, {"Gamma"}),
        ({"name__contains": "a"}, {"Alpha", "beta", "Gamma", "del%ta"}),
        ({"name__contains": "A"}, {"Alpha"}),  # case-sensitive on SQLite too
        ({"name__contains": "%"}, {"del%ta"}),  # a literal %, not a wildcard
        ({"name__contains": "_"}, {"Epsilon_x"}),
        ({"name__icontains": "ALP"}, {"Alpha"}),
        ({"name__startswith": "G"}, {"Gamma"}),
        ({"name__startswith": "g"}, set()),
        ({"name__istartswith": "g"}, {"Gamma"}),
        ({"name__endswith": "ta"}, {"beta", "del%ta"}),
        ({"name__iendswith": "A"}, {"Alpha", "beta", "Gamma", "del%ta"}),
        ({"age": "20"}, {"beta", "Epsilon_x"}),  # coerced like a query parameter
        ({"age__gte": 20, "name__icontains": "e"}, {"beta", "del%ta", "Epsilon_x"}),
    ]
    covered = {key.partition("__")[2] or "exact" for lookup, _ in cases for key in lookup}
    assert covered == set(LOOKUPS)
    for lookup, expected in cases:
        assert {h.name for h in await heroes.list(**lookup)} == expected, lookup
        assert await heroes.count(**lookup) == len(expected), lookup
        assert await heroes.exists(**lookup) is bool(expected), lookup
    assert {h.name for h in await heroes.list(col(CHero.age) > 15, name__icontains="e")} == {
        "beta",
        "del%ta",
        "Epsilon_x",
    }


async def test_ordering_on_several_fields(session: AsyncSession) -> None:
    await seed_heroes(session)
    heroes = HeroCRUD(session)
    rows = await heroes.list(age__isnull=False, order_by=("-age", "name"))
    assert [h.name for h in rows] == ["del%ta", "Epsilon_x", "beta", "Alpha"]
    rows = await heroes.list(age__isnull=False, order_by=("age", "-name"))
    assert [h.name for h in rows] == ["Alpha", "beta", "Epsilon_x", "del%ta"]
    assert [h.name for h in await heroes.list(order_by="name", limit=2, offset=1)] == [
        "Epsilon_x",
        "Gamma",
    ]
    rows = await heroes.list(order_by=[col(CHero.age).desc().nulls_last(), "name"], limit=1)
    assert [h.name for h in rows] == ["del%ta"]


async def test_eager_load_options_pass_through(session: AsyncSession) -> None:
    team = CTeam(name="X-Force")
    session.add(team)
    await session.flush()
    created = await HeroCRUD(session).create({"name": "Domino", "team_id": team.id})
    session.expunge(team)
    heroes = HeroCRUD(session)
    again = await heroes.get_or_raise(created.id, options=[selectinload(CHero.team)])  # type: ignore[arg-type]
    assert again is created  # already in the session, re-read so the option applies
    assert again.team is not None
    session.expunge_all()
    [domino] = await heroes.list(options=[selectinload(CHero.team)])  # type: ignore[arg-type]
    assert domino.team is not None  # loaded: no lazy load (MissingGreenlet) in async code
    assert domino.team.name == "X-Force"
    got = await heroes.get_or_raise(domino.id, options=[selectinload(CHero.team)])  # type: ignore[arg-type]
    assert got.team is not None


# ---------------------------------------------------------------- pagination


async def test_paginate_edges(session: AsyncSession) -> None:
    heroes = HeroCRUD(session)
    empty = await heroes.paginate(limit=2)
    assert (empty.items, empty.total, empty.limit, empty.offset, empty.has_next) == (
        [],
        0,
        2,
        0,
        False,
    )
    await seed_heroes(session)
    first = await heroes.paginate(limit=2, order_by="name")
    assert [h.name for h in first.items] == ["Alpha", "Epsilon_x"]
    assert first.total == 5
    assert first.has_next
    last = await heroes.paginate(limit=2, offset=4, order_by="name")
    assert [h.name for h in last.items] == ["del%ta"]
    assert last.total == 5
    assert not last.has_next
    beyond = await heroes.paginate(limit=2, offset=10)
    assert beyond.items == []
    assert beyond.total == 5
    by_key = await heroes.paginate(limit=10)
    ids = [h.id for h in by_key.items]
    assert ids == sorted(i for i in ids if i is not None)
    filtered = await heroes.paginate(age=20, limit=1)
    assert filtered.total == 2
    assert len(filtered.items) == 1
    for limit in (0, -1):
        with pytest.raises(InvalidFilterError, match="limit"):
            await heroes.paginate(limit=limit)
    with pytest.raises(InvalidFilterError, match="offset"):
        await heroes.paginate(offset=-1)


KEYSET_ORDERS: list[tuple[str, ...]] = [("-age", "name"), ("age", "name"), ("-age", "-name"), ()]


@pytest.mark.parametrize("order", KEYSET_ORDERS, ids=lambda o: ",".join(o) or "pk")
async def test_keyset_pagination_walks_every_row_once(
    session: AsyncSession, order: tuple[str, ...]
) -> None:
    heroes = HeroCRUD(session)
    created = await heroes.create_many([{"name": f"h{i:02}", "age": i % 3} for i in range(11)])
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = await heroes.paginate_keyset(limit=4, after=cursor, order_by=order)
        seen += [h.name for h in page.items]
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert pages == 3
    expected = [h.name for h in await heroes.list(order_by=(*order, "id"))]
    assert seen == expected
    assert sorted(seen) == sorted(h.name for h in created)
    with pytest.raises(InvalidFilterError, match="cursor"):
        await heroes.paginate_keyset(after="not-a-cursor")
    first = await heroes.paginate_keyset(limit=1, order_by="name")
    with pytest.raises(InvalidFilterError, match="ordering"):
        await heroes.paginate_keyset(limit=1, after=first.next_cursor, order_by="-name")


# ---------------------------------------------------------------- writes


async def test_create_many_is_one_statement_and_keeps_input_order(
    session: AsyncSession, statements: Statements
) -> None:
    heroes = HeroCRUD(session)
    statements.sent.clear()
    created = await heroes.create_many(HeroCreate(name=f"n{i:03}", age=i) for i in range(300))
    inserts = [s for s in statements.sent if s.lstrip().upper().startswith("INSERT")]
    assert len(inserts) == 1
    assert [h.name for h in created] == [f"n{i:03}" for i in range(300)]
    assert all(h.id is not None and h.created_at is not None for h in created)
    assert await heroes.count() == 300
    assert await heroes.create_many([]) == []


async def test_create_many_without_returning_counts_rows(
    session: AsyncSession, statements: Statements
) -> None:
    heroes = HeroCRUD(session)
    statements.sent.clear()
    rows = [{"name": f"n{i}", "age": i} for i in range(200)] + [{"name": "no-age"}]
    assert await heroes.create_many(rows, returning=False) == 201
    inserts = [s for s in statements.sent if s.lstrip().upper().startswith("INSERT")]
    assert len(inserts) <= 2  # one executemany per shape of row, not one per row
    assert await heroes.count() == 201
    no_age = await heroes.get_by(name="no-age")
    assert no_age is not None
    assert no_age.age is None
    assert no_age.created_at is not None  # the model's default_factory ran
    assert await heroes.create_many([], returning=False) == 0


async def test_update_is_partial_and_moves_updated_at(session: AsyncSession) -> None:
    heroes = HeroCRUD(session)
    hero = await heroes.create(HeroCreate(name="Alpha", age=10))
    assert hero.id is not None
    long_ago = utcnow() - timedelta(days=1)
    await heroes.update_many({"updated_at": long_ago}, id=hero.id)  # an explicit value wins
    updated = await heroes.update(hero.id, HeroUpdate(age=11))
    assert (updated.name, updated.age) == ("Alpha", 11)
    assert updated.updated_at > long_ago + timedelta(hours=23)
    session.expunge_all()
    again = await heroes.update(hero.id, {"name": "Alpha2"})
    assert (again.name, again.age) == ("Alpha2", 11)
    with pytest.raises(NotFoundError):
        await heroes.update(hero.id + 100, {"age": 1})
    with pytest.raises(InvalidFilterError, match="Unknown field 'agee'"):
        await heroes.update(hero.id, {"agee": 1})
    with pytest.raises(InvalidValueError, match="'age' of table 'crud_hero'"):
        await heroes.update(hero.id, {"age": "old"})


async def test_update_many_and_delete_many(session: AsyncSession) -> None:
    await seed_heroes(session)
    heroes = HeroCRUD(session)
    assert await heroes.update_many({"age": 21}, age=20) == 2
    assert await heroes.count(age=21) == 2
    assert await heroes.update_many(HeroUpdate(age=99), name__icontains="ALPHA") == 1
    assert (await heroes.get_by(name="Alpha")).age == 99  # type: ignore[union-attr]
    with pytest.raises(InvalidFilterError, match="every row"):
        await heroes.update_many({"age": 1})
    with pytest.raises(InvalidFilterError, match="every row"):
        await heroes.delete_many()
    assert await heroes.delete_many(age=21) == 2
    assert await heroes.count() == 3
    assert await heroes.delete_many(true()) == 3
    assert await heroes.count() == 0


async def test_upsert_inserts_then_updates_by_a_unique_key(session: AsyncSession) -> None:
    gadgets = GadgetCRUD(session)
    first = await gadgets.upsert({"name": "lamp", "price": 3}, conflict=["name"])
    second = await gadgets.upsert({"name": "lamp", "price": 5}, conflict=["name"])
    assert second.id == first.id
    assert second.price == 5
    assert first.price == 5  # the identity map holds the updated row
    rows = await gadgets.upsert_many(
        [GadgetCreate(name="lamp", price=7), GadgetCreate(name="fan", price=1)], conflict=["name"]
    )
    assert [(g.name, g.price) for g in rows] == [("lamp", 7), ("fan", 1)]
    assert rows[0].id == first.id
    assert await gadgets.count() == 2
    heroes = HeroCRUD(session)
    await heroes.create({"name": "b", "age": 1})
    upserted = await heroes.upsert_many(
        [{"name": "a", "age": 5}, {"name": "b", "age": 6}, {"name": "c"}], conflict=["name"]
    )
    assert [(h.name, h.age) for h in upserted] == [("a", 5), ("b", 6), ("c", None)]
    kept = await gadgets.upsert({"name": "fan", "price": 100}, conflict=["name"], update=[])
    assert kept.price == 1  # nothing to update: the existing row comes back unchanged
    with pytest.raises(InvalidFilterError):
        await gadgets.upsert({"name": "x"}, conflict=["nope"])
    with pytest.raises(InvalidFilterError, match="missing id"):
        await heroes.upsert({"name": "d"})  # the key is generated by the database


async def test_delete_hard(session: AsyncSession) -> None:
    heroes = HeroCRUD(session)
    hero = await heroes.create({"name": "Alpha"})
    deleted = await heroes.delete(hero.id)
    assert deleted.name == "Alpha"
    assert await heroes.get(hero.id) is None
    with pytest.raises(NotFoundError):
        await heroes.delete(hero.id)


async def test_soft_delete(session: AsyncSession) -> None:
    gadgets = GadgetCRUD(session)
    lamp, fan, _ = await gadgets.create_many(
        [{"name": "lamp"}, {"name": "fan"}, {"name": "radio", "price": 2}]
    )
    deleted = await gadgets.delete(lamp.id)
    assert deleted.deleted_at is not None
    assert deleted.is_deleted
    assert await gadgets.get(lamp.id) is None
    assert (await gadgets.get(lamp.id, with_deleted=True)) is lamp
    assert {g.name for g in await gadgets.list()} == {"fan", "radio"}
    assert await gadgets.count() == 2
    assert await gadgets.count(with_deleted=True) == 3
    assert not await gadgets.exists(name="lamp")
    assert await gadgets.exists(name="lamp", with_deleted=True)
    assert (await gadgets.paginate()).total == 2
    with pytest.raises(NotFoundError):
        await gadgets.delete(lamp.id)
    with pytest.raises(NotFoundError):
        await gadgets.update(lamp.id, {"price": 1})
    await gadgets.update(lamp.id, {"price": 1}, with_deleted=True)
    assert await gadgets.delete_many(price=0) == 1  # fan; lamp is already deleted
    assert await gadgets.count() == 1
    assert await gadgets.count(with_deleted=True) == 3
    await gadgets.delete(lamp.id, hard=True)
    assert await gadgets.count(with_deleted=True) == 2
    assert await gadgets.delete_many(name="fan", hard=True) == 0  # hidden unless with_deleted
    assert await gadgets.delete_many(name="fan", hard=True, with_deleted=True) == 1
    await gadgets.delete(fan.id, hard=True) if await gadgets.get(
        fan.id, with_deleted=True
    ) else None
    assert await gadgets.count(with_deleted=True) == 1


async def test_get_or_create_and_update_or_create(session: AsyncSession) -> None:
    heroes = HeroCRUD(session)
    hero, created = await heroes.get_or_create(name="Alpha", defaults={"age": 1})
    assert created
    assert hero.age == 1
    again, created = await heroes.get_or_create(name="Alpha", defaults={"age": 2})
    assert not created
    assert again is hero
    assert again.age == 1
    hero, created = await heroes.update_or_create(name="Alpha", defaults={"age": 3})
    assert not created
    assert hero.age == 3
    other, created = await heroes.update_or_create(name="Beta", defaults={"age": 4})
    assert created
    assert other.age == 4
    assert await heroes.count() == 2
    with pytest.raises(InvalidFilterError, match="field=value"):
        await heroes.get_or_create(name__icontains="a")


async def test_get_or_create_after_a_lost_race_returns_the_winner(database: Database) -> None:
    await database.create_all()
    async with database.session() as winner_session:
        winner, created = await HeroCRUD(winner_session).get_or_create(name="Solo")
        assert created
    # The loser looked before the winner committed: simulate it by hiding the row from get_by.

    class BlindHeroCRUD(HeroCRUD):
        calls = 0

        async def get_by(self, *where: Any, **kwargs: Any) -> CHero | None:
            BlindHeroCRUD.calls += 1
            return None if BlindHeroCRUD.calls == 1 else await super().get_by(*where, **kwargs)

    async with database.session() as loser_session:
        found, created = await BlindHeroCRUD(loser_session).get_or_create(name="Solo")
        assert not created
        assert found.id == winner.id
        assert await HeroCRUD(loser_session).count() == 1  # the session is still usable


# ---------------------------------------------------------------- errors


async def test_unique_violation_is_a_conflict_naming_the_constraint(database: Database) -> None:
    await database.create_all()
    async with database.session() as session:
        await HeroCRUD(session).create({"name": "Alpha"})
    with pytest.raises(ConflictError) as caught:
        async with database.session() as session:  # the scope rolls back on the way out
            await HeroCRUD(session).create({"name": "Alpha"})
    error = caught.value
    assert (error.kind, error.table, error.columns) == ("unique", "crud_hero", ("name",))
    assert error.constraint == "uq_crud_hero_name"
    assert isinstance(error.__cause__, IntegrityError)
    assert "\n" not in str(error)
    assert "uq_crud_hero_name" in str(error)


async def test_foreign_key_violation_is_a_conflict(database: Database) -> None:
    await database.create_all()
    with pytest.raises(ConflictError) as caught:
        async with database.session() as session:
            await HeroCRUD(session).create({"name": "Orphan", "team_id": 12345})
    error = caught.value
    assert error.kind == "foreign_key"
    assert error.columns == ("team_id",)
    assert isinstance(error.__cause__, IntegrityError)


async def test_create_many_conflict_keeps_nothing(database: Database) -> None:
    await database.create_all()
    with pytest.raises(ConflictError) as caught:
        async with database.session() as session:
            await HeroCRUD(session).create_many([{"name": "a"}, {"name": "b"}, {"name": "a"}])
    assert caught.value.kind == "unique"
    assert caught.value.columns == ("name",)
    async with database.session() as session:
        assert await HeroCRUD(session).count() == 0


BAD_CALLS: list[tuple[str, dict[str, Any], str]] = [
    ("list", {"nmae": "x"}, "Unknown field 'nmae'.*valid fields are age, created_at, id"),
    ("list", {"name__like": "x"}, "Unknown lookup 'like'.*valid lookups are contains"),
    ("count", {"age__gte": "ten"}, "Invalid value 'ten' for 'age__gte'"),
    ("exists", {"age__in": 3}, "needs a list"),
    ("list", {"age__contains": "1"}, "needs a text column"),
    ("list", {"age__isnull": "yes"}, "True or False"),
    ("list", {"order_by": ("-nmae",)}, "Cannot order table 'crud_hero' by '-nmae'"),
    ("paginate", {"limit": 0}, "limit must be"),
    ("paginate", {"order_by": "team"}, "not a column"),
    ("delete_many", {"name__bogus": 1}, "Unknown lookup"),
    ("get", {"pk": "abc"}, "Invalid value 'abc' for 'pk'"),
    ("create", {"data": {"nmae": "x"}}, "Unknown field 'nmae'"),
]


@pytest.mark.parametrize(
    ("method", "kwargs", "message"), BAD_CALLS, ids=[m + ":" + str(k) for m, k, _ in BAD_CALLS]
)
async def test_bad_input_is_refused_before_any_sql(
    session: AsyncSession, statements: Statements, method: str, kwargs: dict[str, Any], message: str
) -> None:
    heroes = HeroCRUD(session)
    statements.sent.clear()
    with pytest.raises(InvalidFilterError, match=message) as caught:
        await getattr(heroes, method)(**kwargs)
    assert statements.sent == []
    assert isinstance(caught.value, ValueError)
    assert "\n" not in str(caught.value)


# ---------------------------------------------------------------- hooks


class AuditedHeroCRUD(BaseCRUD[CHero, HeroCreate, HeroUpdate]):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self.events: list[str] = []

    async def before_create(self, obj: CHero) -> None:
        obj.name = obj.name.strip().title()
        self.events.append(f"before_create:{obj.id}")

    async def after_create(self, obj: CHero) -> None:
        self.events.append(f"after_create:{obj.id is not None}")

    async def before_update(self, obj: CHero, values: dict[str, Any]) -> None:
        values.pop("name", None)  # names are frozen once created
        self.events.append("before_update")

    async def after_update(self, obj: CHero) -> None:
        self.events.append("after_update")

    async def before_delete(self, obj: CHero) -> None:
        self.events.append(f"before_delete:{obj.name}")

    async def after_delete(self, obj: CHero) -> None:
        self.events.append("after_delete")


async def test_hooks_run_around_single_row_writes(session: AsyncSession) -> None:
    heroes = AuditedHeroCRUD(session)
    hero = await heroes.create(HeroCreate(name="  wade "))
    assert hero.name == "Wade"
    await heroes.update(hero, HeroUpdate(name="Other", age=3))
    assert (hero.name, hero.age) == ("Wade", 3)
    await heroes.delete(hero)
    assert heroes.events == [
        "before_create:None",
        "after_create:True",
        "before_update",
        "after_update",
        "before_delete:Wade",
        "after_delete",
    ]


async def test_updated_at_is_readable_after_update_many_and_soft_delete(
    session: AsyncSession,
) -> None:
    heroes = HeroCRUD(session)
    hero = await heroes.create({"name": "Alpha"})
    old = hero.updated_at
    await heroes.update_many({"age": 5}, name="Alpha")
    refreshed = await heroes.get_or_raise(hero.id)
    assert refreshed.age == 5
    assert refreshed.updated_at >= old - timedelta(seconds=1)
