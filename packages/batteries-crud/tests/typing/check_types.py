"""Checked by mypy in test_typing.py, never run: the precise types BaseCRUD promises."""

from typing import assert_type

from pydantic import BaseModel as Schema
from sqlmodel.ext.asyncio.session import AsyncSession

from batteries_crud import BaseCRUD, CursorPage, Page
from batteries_models import BaseModel, IntIDMixin


class Hero(BaseModel, IntIDMixin, table=True):
    __tablename__ = "typing_hero"
    name: str


class HeroCreate(Schema):
    name: str


class HeroUpdate(Schema):
    name: str | None = None


class HeroCRUD(BaseCRUD[Hero, HeroCreate, HeroUpdate]):
    pass


async def check(session: AsyncSession) -> None:
    heroes = HeroCRUD(session)
    assert_type(await heroes.get(1), Hero | None)
    assert_type(await heroes.get_or_raise(1), Hero)
    assert_type(await heroes.get_by(name="x"), Hero | None)
    assert_type(await heroes.list(name__icontains="x"), list[Hero])
    assert_type(await heroes.count(), int)
    assert_type(await heroes.exists(name="x"), bool)
    assert_type(await heroes.paginate(limit=10), Page[Hero])
    assert_type(await heroes.paginate_keyset(limit=10), CursorPage[Hero])
    assert_type(await heroes.create(HeroCreate(name="x")), Hero)
    assert_type(await heroes.create({"name": "x"}), Hero)
    assert_type(await heroes.create_many([HeroCreate(name="x")]), list[Hero])
    assert_type(await heroes.create_many([{"name": "x"}], returning=False), int)
    assert_type(await heroes.update(1, HeroUpdate(name="y")), Hero)
    assert_type(await heroes.update_many({"name": "z"}, name="y"), int)
    assert_type(await heroes.upsert({"name": "x"}, conflict=["name"]), Hero)
    assert_type(await heroes.upsert_many([{"name": "x"}], conflict=["name"]), list[Hero])
    assert_type(await heroes.delete(1), Hero)
    assert_type(await heroes.delete_many(name="x"), int)
    assert_type(await heroes.get_or_create(name="x"), tuple[Hero, bool])
    assert_type(await heroes.update_or_create(name="x"), tuple[Hero, bool])
    await heroes.create(HeroUpdate())  # type: ignore[arg-type]  # the update schema is refused
