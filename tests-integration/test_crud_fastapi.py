"""A FastAPI resource on BaseCRUD + SessionDep, and the 404/409/422 exception handlers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI, Query
from pydantic import BaseModel as Schema
from sqlmodel import Field

from batteries_crud import BaseCRUD, Page
from batteries_crud.fastapi import crud_dependency, install_exception_handlers
from batteries_models import BaseModel, BatteriesSettings, Database, DatabaseRegistry, IntIDMixin
from batteries_models.fastapi import SessionDep, batteries_lifespan


class ApiHero(BaseModel, IntIDMixin, table=True):
    __tablename__ = "crud_api_hero"
    name: str = Field(unique=True)
    age: int | None = None
    motto: str = Field(default="", max_length=20)


class ApiHeroCreate(Schema):
    name: str
    age: int | None = None
    motto: str = ""  # the table model's max_length is checked by create()


class ApiHeroUpdate(Schema):
    name: str | None = None
    age: int | None = None
    motto: str | None = None


class ApiHeroPublic(Schema):
    id: int
    name: str
    age: int | None


class ApiHeroCRUD(BaseCRUD[ApiHero, ApiHeroCreate, ApiHeroUpdate]):
    pass


Heroes = Annotated[ApiHeroCRUD, Depends(crud_dependency(ApiHeroCRUD))]


def make_app(database: Database) -> FastAPI:
    url = database.url.render_as_string(hide_password=False)
    app = FastAPI(
        lifespan=batteries_lifespan(DatabaseRegistry(BatteriesSettings(database_url=url)))
    )
    install_exception_handlers(app)

    # response_model: the table model goes out through the public schema.
    @app.get("/heroes", response_model=Page[ApiHeroPublic])
    async def list_heroes(
        heroes: Heroes,
        limit: int = 10,
        offset: int = 0,
        name: Annotated[str | None, Query()] = None,
        order_by: Annotated[str, Query()] = "id",
    ) -> Page[ApiHero]:
        lookup: dict[str, Any] = {"name__icontains": name} if name else {}
        return await heroes.paginate(limit=limit, offset=offset, order_by=order_by, **lookup)

    @app.get("/heroes-by-name")
    async def list_heroes_by_name(heroes: Heroes, after: str | None = None) -> list[ApiHeroPublic]:
        page = await heroes.paginate_keyset(limit=2, after=after, order_by="name")
        return [ApiHeroPublic.model_validate(h, from_attributes=True) for h in page.items]

    @app.get("/heroes/{hero_id}")
    async def get_hero(hero_id: int, heroes: Heroes) -> ApiHeroPublic:
        return ApiHeroPublic.model_validate(
            await heroes.get_or_raise(hero_id), from_attributes=True
        )

    @app.post("/heroes", status_code=201)
    async def create_hero(body: ApiHeroCreate, heroes: Heroes) -> ApiHeroPublic:
        return ApiHeroPublic.model_validate(await heroes.create(body), from_attributes=True)

    @app.patch("/heroes/{hero_id}")
    async def update_hero(hero_id: int, body: ApiHeroUpdate, heroes: Heroes) -> ApiHeroPublic:
        hero = await heroes.update(hero_id, body)
        return ApiHeroPublic.model_validate(hero, from_attributes=True)

    @app.get("/same-session")
    async def same_session(heroes: Heroes, session: SessionDep) -> bool:
        return heroes.session is session

    @app.delete("/heroes/{hero_id}", status_code=204)
    async def delete_hero(hero_id: int, heroes: Heroes) -> None:
        await heroes.delete(hero_id)

    return app


@pytest.fixture
async def client(database: Database) -> AsyncIterator[httpx.AsyncClient]:
    await database.create_all()
    app = make_app(database)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        yield client


async def test_a_resource_lists_gets_creates_updates_and_deletes(client: httpx.AsyncClient) -> None:
    created = await client.post("/heroes", json={"name": "Deadpond", "age": 30})
    assert created.status_code == 201
    hero_id = created.json()["id"]
    await client.post("/heroes", json={"name": "Rusty-Man"})

    assert (await client.get(f"/heroes/{hero_id}")).json() == {
        "id": hero_id,
        "name": "Deadpond",
        "age": 30,
    }
    patched = await client.patch(f"/heroes/{hero_id}", json={"age": 31})
    assert patched.json() == {"id": hero_id, "name": "Deadpond", "age": 31}  # name untouched

    page = (await client.get("/heroes", params={"limit": 1, "order_by": "-name"})).json()
    assert page["total"] == 2
    assert [h["name"] for h in page["items"]] == ["Rusty-Man"]
    assert (page["limit"], page["offset"]) == (1, 0)
    filtered = (await client.get("/heroes", params={"name": "dead"})).json()
    assert [h["name"] for h in filtered["items"]] == ["Deadpond"]

    assert (await client.get("/same-session")).json() is True  # one transaction per request
    assert (await client.delete(f"/heroes/{hero_id}")).status_code == 204
    assert (await client.get("/heroes")).json()["total"] == 1


async def test_errors_map_to_404_409_and_422(client: httpx.AsyncClient) -> None:
    missing = await client.get("/heroes/999")
    assert missing.status_code == 404
    assert missing.json()["table"] == "crud_api_hero"
    assert "999" in missing.json()["detail"]
    assert (await client.patch("/heroes/999", json={"age": 1})).status_code == 404
    assert (await client.delete("/heroes/999")).status_code == 404

    assert (await client.post("/heroes", json={"name": "Dup"})).status_code == 201
    conflict = await client.post("/heroes", json={"name": "Dup"})
    assert conflict.status_code == 409
    body = conflict.json()
    assert (body["kind"], body["constraint"], body["columns"]) == (
        "unique",
        "uq_crud_api_hero_name",
        ["name"],
    )

    bad_order = await client.get("/heroes", params={"order_by": "password"})
    assert bad_order.status_code == 422
    assert bad_order.json()["field"] == "password"
    assert (await client.get("/heroes", params={"limit": 0})).status_code == 422
    # The failed requests were rolled back; the app still serves the one saved row.
    assert (await client.get("/heroes")).json()["total"] == 1


async def test_hostile_input_is_a_4xx_never_a_500(client: httpx.AsyncClient) -> None:
    # httpx's ASGITransport re-raises what no handler answered: a 500 would fail here.
    created = await client.post("/heroes", json={"name": "Deadpond"})
    hero_id = created.json()["id"]

    huge = 10**30
    assert (await client.get(f"/heroes/{huge}")).status_code == 404  # no row has that key
    assert (await client.patch(f"/heroes/{huge}", json={"age": 1})).status_code == 404
    assert (await client.delete(f"/heroes/{huge}")).status_code == 404

    nul = await client.post("/heroes", json={"name": "Dead\u0000pond"})
    assert nul.status_code == 422
    assert (nul.json()["field"], nul.json()["table"]) == ("name", "crud_api_hero")
    assert "NUL" in nul.json()["reason"]
    too_old = await client.patch(f"/heroes/{hero_id}", json={"age": 2**31})
    assert too_old.status_code == 422
    assert too_old.json()["field"] == "age"
    too_long = await client.patch(f"/heroes/{hero_id}", json={"motto": "x" * 21})
    assert too_long.status_code == 422
    assert "too long" in too_long.json()["reason"]

    invalid = await client.post("/heroes", json={"name": "Rusty-Man", "motto": "y" * 21})
    assert invalid.status_code == 422
    assert [e["loc"] for e in invalid.json()["errors"]] == [["motto"]]

    for params in ({"limit": 2**63}, {"offset": 2**63}, {"name": "\x00"}):
        response = await client.get("/heroes", params=params)
        assert response.status_code == 422, params
    for cursor in ("bnVsbA", "!!!", "W10", "x" * 5000):
        response = await client.get("/heroes-by-name", params={"after": cursor})
        assert response.status_code == 422, cursor
        assert response.json()["field"] == "after"

    # Nothing of the refused requests was written.
    hero = (await client.get(f"/heroes/{hero_id}")).json()
    assert hero == {"id": hero_id, "name": "Deadpond", "age": None}
    assert (await client.get("/heroes")).json()["total"] == 1
