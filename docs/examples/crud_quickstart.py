"""BaseCRUD in one file: python docs/examples/crud_quickstart.py [DATABASE_URL]."""

import asyncio
import sys

from pydantic import BaseModel as Schema
from sqlmodel import Field, col

from batteries_crud import BaseCRUD, ConflictError, NotFoundError
from batteries_models import BaseModel, Database, IntIDMixin, TimestampMixin


class Hero(BaseModel, IntIDMixin, TimestampMixin, table=True):
    name: str = Field(unique=True)
    secret_name: str
    age: int | None = None


class HeroCreate(Schema):
    name: str
    secret_name: str
    age: int | None = None


class HeroUpdate(Schema):
    name: str | None = None
    age: int | None = None


class HeroCRUD(BaseCRUD[Hero, HeroCreate, HeroUpdate]):
    """The model, Hero, is read from the generic parameters."""


async def main(url: str) -> None:
    db = Database(url)
    await db.create_all()

    # Methods flush; the session scope commits when the block ends (or rolls back on error).
    async with db.session() as session:
        heroes = HeroCRUD(session)
        deadpond = await heroes.create(HeroCreate(name="Deadpond", secret_name="Dive Wilson"))
        await heroes.create_many(
            [
                {"name": "Spider-Boy", "secret_name": "Pedro Parqueador", "age": 16},
                {"name": "Rusty-Man", "secret_name": "Tommy Sharp", "age": 48},
                {"name": "Tarantula", "secret_name": "Natalia Roman-on", "age": 32},
            ]
        )

    async with db.session() as session:
        heroes = HeroCRUD(session)
        assert (await heroes.get_or_raise(deadpond.id)).name == "Deadpond"
        adults = await heroes.list(age__gte=18, order_by=("-age", "name"))
        assert [h.name for h in adults] == ["Rusty-Man", "Tarantula"]
        assert await heroes.count(name__icontains="man") == 1
        assert await heroes.exists(col(Hero.age) < 18)  # a SQLAlchemy expression works too

        page = await heroes.paginate(limit=2, offset=0, order_by="name")
        assert (page.total, len(page.items), page.has_next) == (4, 2, True)

        first = await heroes.paginate_keyset(limit=3, order_by="name")
        rest = await heroes.paginate_keyset(limit=3, after=first.next_cursor, order_by="name")
        assert [h.name for h in rest.items] == ["Tarantula"]
        assert rest.next_cursor is None

        updated = await heroes.update(deadpond.id, HeroUpdate(age=30))  # only `age` is set
        assert (updated.name, updated.age) == ("Deadpond", 30)

        lion, created = await heroes.get_or_create(
            name="Black Lion", defaults={"secret_name": "Trevor Challa"}
        )
        assert created
        assert await heroes.get_or_create(name="Black Lion") == (lion, False)

    conflict = None
    try:
        async with db.session() as session:
            await HeroCRUD(session).create({"name": "Deadpond", "secret_name": "again"})
    except ConflictError as error:  # the session scope rolled back
        conflict = error
    assert conflict is not None
    assert (conflict.kind, conflict.columns) == ("unique", ("name",))

    async with db.session() as session:
        heroes = HeroCRUD(session)
        await heroes.delete(deadpond.id)
        try:
            await heroes.get_or_raise(deadpond.id)
        except NotFoundError as error:
            print(error)  # No row of table 'hero' has the key 1: check the id

    await db.drop_all()
    await db.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "sqlite+aiosqlite:///heroes.db"))
