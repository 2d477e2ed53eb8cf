"""A list endpoint as a client sees it: filters from an allow-list, pages that say what follows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI
from pydantic import BaseModel as Schema
from sqlmodel import Field

from batteries_crud import BaseCRUD, CRUDDefinitionError, CursorPage, Page
from batteries_crud.fastapi import (
    ListQuery,
    crud_dependency,
    install_exception_handlers,
    list_query,
)
from batteries_models import (
    BaseModel,
    BatteriesSettings,
    Database,
    DatabaseRegistry,
    IntIDMixin,
    SoftDeleteMixin,
    TimestampMixin,
)
from batteries_models.fastapi import batteries_lifespan


class QueryHero(BaseModel, IntIDMixin, TimestampMixin, SoftDeleteMixin, table=True):
    __tablename__ = "crud_query_hero"
    name: str = Field(unique=True)
    age: int | None = None


class QueryHeroIn(Schema):
    name: str
    age: int | None = None


class QueryHeroCRUD(BaseCRUD[QueryHero, QueryHeroIn, QueryHeroIn]):
    pass


Heroes = Annotated[QueryHeroCRUD, Depends(crud_dependency(QueryHeroCRUD))]
HeroQuery = Annotated[
    ListQuery,
    Depends(
        list_query(
            QueryHeroCRUD,
            filters={"name": ["exact", "icontains"], "age": ["gte", "in", "isnull"]},
            order_by=["name", "age"],
            default_order="name",
            page_size=2,
            max_page_size=3,
        )
    ),
]
HeroCursorQuery = Annotated[
    ListQuery,
    Depends(list_query(QueryHeroCRUD, order_by=["name"], default_order="name", keyset=True)),
]
NAMES = {"Deadpond": 30, "Rusty-Man": 48, "Spider-Boy": None, "Dormammu": 100, "Black Lion": 35}


def make_app(database: Database) -> FastAPI:
    url = database.url.render_as_string(hide_password=False)
    app = FastAPI(
        lifespan=batteries_lifespan(DatabaseRegistry(BatteriesSettings(database_url=url)))
    )
    install_exception_handlers(app)

    @app.get("/heroes")
    async def list_heroes(heroes: Heroes, query: HeroQuery) -> Page[QueryHero]:
        return await query.paginate(heroes)

    @app.get("/heroes-by-cursor")
    async def by_cursor(heroes: Heroes, query: HeroCursorQuery) -> CursorPage[QueryHero]:
        return await query.paginate_keyset(heroes)

    return app


@pytest.fixture
async def client(database: Database) -> AsyncIterator[httpx.AsyncClient]:
    await database.create_all(QueryHero.metadata)
    async with database.session() as session:
        heroes = QueryHeroCRUD(session)
        for name, age in NAMES.items():
            await heroes.create({"name": name, "age": age})
    app = make_app(database)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://api") as api,
    ):
        yield api


async def names(client: httpx.AsyncClient, query: str) -> list[str]:
    response = await client.get(f"/heroes?{query}")
    assert response.status_code == 200, response.text
    return [hero["name"] for hero in response.json()["items"]]


async def test_filters_ordering_and_pages_come_from_the_query_string(
    client: httpx.AsyncClient,
) -> None:
    assert await names(client, "") == ["Black Lion", "Deadpond"]  # default order, page 1
    assert await names(client, "page=2") == ["Dormammu", "Rusty-Man"]
    assert await names(client, "name__icontains=D&order_by=-name") == ["Spider-Boy", "Dormammu"]
    assert await names(client, "age__gte=40&page_size=3") == ["Dormammu", "Rusty-Man"]
    assert await names(client, "age__in=30&age__in=48") == ["Deadpond", "Rusty-Man"]
    assert await names(client, "age__isnull=true") == ["Spider-Boy"]
    assert await names(client, "name=Deadpond") == ["Deadpond"]
    assert await names(client, "age__isnull=false&order_by=-age&order_by=name&page_size=1") == [
        "Dormammu"
    ]


async def test_the_page_says_what_comes_before_and_after(client: httpx.AsyncClient) -> None:
    first = (await client.get("/heroes")).json()
    last = (await client.get("/heroes?page=3")).json()

    assert (first["total"], first["has_next"], first["has_previous"]) == (5, True, False)
    assert (len(last["items"]), last["has_next"], last["has_previous"]) == (1, False, True)

    seen: list[str] = []
    cursor: str | None = None
    while True:
        page = (await client.get("/heroes-by-cursor", params={"after": cursor or []})).json()
        seen += [hero["name"] for hero in page["items"]]
        assert page["has_next"] is (page["next_cursor"] is not None)
        if not page["has_next"]:
            break
        cursor = page["next_cursor"]
    assert seen == sorted(NAMES)


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("nmae=Deadpond", "nmae"),  # not allowed: a typo, or a filter the endpoint does not offer
        ("age__lte=3", "age__lte"),
        ("age__gte=old", "age__gte"),
        ("order_by=created_at", "order_by"),
        ("page=0", "page"),
        ("page_size=4", "page_size"),
        ("after=abc", "after"),  # a cursor on a numbered list
    ],
)
async def test_an_invalid_parameter_is_a_422_naming_it(
    client: httpx.AsyncClient, query: str, parameter: str
) -> None:
    response = await client.get(f"/heroes?{query}")

    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"][:2] == ["query", parameter]


async def test_openapi_documents_every_allowed_parameter_and_the_page_fields(
    client: httpx.AsyncClient,
) -> None:
    schema = (await client.get("/openapi.json")).json()
    parameters = {p["name"]: p for p in schema["paths"]["/heroes"]["get"]["parameters"]}

    assert list(parameters) == [
        "name",
        "name__icontains",
        "age__gte",
        "age__in",
        "age__isnull",
        "order_by",
        "page_size",
        "page",
    ]
    assert all(p["in"] == "query" for p in parameters.values())
    assert parameters["age__gte"]["schema"]["anyOf"][0] == {"type": "integer"}
    assert parameters["age__in"]["schema"]["anyOf"][0]["type"] == "array"
    assert parameters["order_by"]["schema"]["anyOf"][0]["items"]["enum"] == [
        "-age",
        "-name",
        "age",
        "name",
    ]
    assert parameters["page_size"]["schema"]["maximum"] == 3
    assert "name contains, ignoring case" in parameters["name__icontains"]["description"]
    page = schema["components"]["schemas"]["Page_QueryHero_"]
    assert {"has_next", "has_previous"} <= set(page["required"])
    cursor_page = schema["components"]["schemas"]["CursorPage_QueryHero_"]
    assert {"next_cursor", "has_next"} <= set(cursor_page["properties"])


async def test_json_puts_the_key_first_and_the_bookkeeping_columns_last(
    client: httpx.AsyncClient,
) -> None:
    hero = (await client.get("/heroes")).json()["items"][0]

    assert list(hero) == ["id", "name", "age", "created_at", "updated_at", "deleted_at"]
    assert [column.name for column in QueryHero.__table__.columns] == list(hero)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"filters": {"nmae": ["exact"]}}, "filters names 'nmae', which is not a field"),
        ({"filters": {"name": ["like"]}}, "unknown lookup 'like' for filter 'name'"),
        ({"order_by": ["power"]}, "order_by names 'power'"),
        ({"default_order": "-power"}, "default_order names 'power'"),
    ],
)
def test_a_wrong_allow_list_fails_when_the_app_is_built(
    arguments: dict[str, Any], message: str
) -> None:
    with pytest.raises(CRUDDefinitionError, match=message):
        list_query(QueryHeroCRUD, **arguments)
