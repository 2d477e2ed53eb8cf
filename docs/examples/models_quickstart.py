"""Quick start: a table model, a database from DATABASE_URL, a session scope."""

import asyncio

from sqlmodel import select

from batteries_models import BaseModel, DatabaseRegistry, TimestampMixin, UUIDMixin


class Hero(BaseModel, UUIDMixin, TimestampMixin, table=True):
    name: str


async def main() -> None:
    registry = DatabaseRegistry()  # reads DATABASE_URL (or BATTERIES_DATABASE_URL, .env)
    db = registry.get()
    await db.create_all()
    async with db.session() as session:  # commits on success, rolls back on error
        session.add(Hero(name="Deadpond"))
    async with db.session() as session:
        heroes = (await session.exec(select(Hero))).all()
    print([hero.name for hero in heroes])
    await registry.dispose_all()


if __name__ == "__main__":
    asyncio.run(main())
