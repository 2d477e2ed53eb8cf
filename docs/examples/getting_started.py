"""Getting started: a model, its API, a few rows, a fixture: python getting_started.py [URL]."""

import asyncio
import sys
from typing import Annotated

from fastapi import Depends, FastAPI
from pydantic import BaseModel as Schema
from sqlmodel import Field

from batteries_crud import BaseCRUD, Page
from batteries_crud.fastapi import (
    ListQuery,
    crud_dependency,
    install_exception_handlers,
    list_query,
)
from batteries_fixtures import dump
from batteries_models import (
    BaseModel,
    BatteriesSettings,
    DatabaseRegistry,
    IntIDMixin,
    TimestampMixin,
)
from batteries_models.fastapi import batteries_lifespan


class Hero(BaseModel, IntIDMixin, TimestampMixin, table=True):
    name: str = Field(unique=True)
    age: int | None = None


class HeroIn(Schema):
    name: str
    age: int | None = None


class HeroCRUD(BaseCRUD[Hero, HeroIn, HeroIn]):
    pass


Heroes = Annotated[HeroCRUD, Depends(crud_dependency(HeroCRUD))]
HeroQuery = Annotated[
    ListQuery,
    Depends(
        list_query(HeroCRUD, filters={"name": ["icontains"], "age": ["gte"]}, order_by=["name"])
    ),
]

# Serve it: `uvicorn getting_started:app` (pip install uvicorn); DATABASE_URL picks the database.
app = FastAPI(lifespan=batteries_lifespan())
install_exception_handlers(app)  # 404, 409 on a duplicate name, 422 on a bad filter


@app.get("/heroes")
async def list_heroes(heroes: Heroes, query: HeroQuery) -> Page[Hero]:
    return await query.paginate(heroes)  # /heroes?name__icontains=man&age__gte=18&page=2


@app.post("/heroes", status_code=201)
async def create_hero(body: HeroIn, heroes: Heroes) -> Hero:
    return await heroes.create(body)


async def main(url: str) -> None:
    registry = DatabaseRegistry(BatteriesSettings(database_url=url))
    db = registry.get()
    await db.create_all()  # in a project: fastapi-batteries db makemigrations, then db upgrade
    async with db.session() as session:  # one transaction, committed at the end of the block
        heroes = HeroCRUD(session)
        for name, age in [("Deadpond", 30), ("Rusty-Man", 48), ("Spider-Boy", 16)]:
            await heroes.create(HeroIn(name=name, age=age))
        page = await heroes.paginate(age__gte=18, order_by="name")
        print(f"{page.total} adults: {', '.join(h.name for h in page.items)}")
    await dump(db, sys.stdout, indent=2, models=[Hero])  # as `fastapi-batteries fixtures dump`
    await db.drop_all()
    await registry.dispose_all()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "sqlite+aiosqlite:///heroes.db"))
