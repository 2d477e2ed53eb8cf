"""The demo's FastAPI app: heroes served through BaseCRUD on the request's session."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI
from pydantic import BaseModel as Schema

from batteries_crud import BaseCRUD, Page
from batteries_crud.fastapi import (
    ListQuery,
    crud_dependency,
    install_exception_handlers,
    list_query,
)
from batteries_models.fastapi import batteries_lifespan
from demo_app.models import Hero


class HeroIn(Schema):
    """What a client sends to create a hero."""

    name: str
    secret_name: str
    age: int | None = None
    team_id: int | None = None


class HeroPatch(Schema):
    """What a client sends to change a hero; only the fields it sets change."""

    name: str | None = None
    age: int | None = None
    team_id: int | None = None


class HeroCRUD(BaseCRUD[Hero, HeroIn, HeroPatch]):
    """Heroes: BaseCRUD takes the model from the generic parameters."""


Heroes = Annotated[HeroCRUD, Depends(crud_dependency(HeroCRUD))]
# ?name__icontains=man&age__gte=30&order_by=-name&page=2: only these, anything else is a 422.
HeroQuery = Annotated[
    ListQuery,
    Depends(
        list_query(
            HeroCRUD,
            filters={"name": ["exact", "icontains"], "age": ["gte", "lte"], "team_id": ["exact"]},
            order_by=["name", "age", "created_at"],
            default_order="name",
        )
    ),
]

app = FastAPI(title="FastAPI Batteries demo", lifespan=batteries_lifespan())
install_exception_handlers(app)


@app.get("/heroes")
async def list_heroes(heroes: Heroes, query: HeroQuery) -> Page[Hero]:
    """Heroes, filtered, ordered and paged by the query string (by name by default)."""
    return await query.paginate(heroes)


@app.post("/heroes", status_code=201)
async def create_hero(body: HeroIn, heroes: Heroes) -> Hero:
    """Create a hero; a duplicate name is a 409."""
    return await heroes.create(body)
