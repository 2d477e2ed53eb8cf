"""A FastAPI resource on BaseCRUD: python docs/examples/crud_fastapi.py [DATABASE_URL]."""

import asyncio
import sys
from typing import Annotated

import httpx
from fastapi import Depends, FastAPI
from pydantic import BaseModel as Schema
from sqlmodel import Field

from batteries_crud import BaseCRUD, Page
from batteries_crud.fastapi import crud_dependency, install_exception_handlers
from batteries_models import BaseModel, BatteriesSettings, DatabaseRegistry, IntIDMixin
from batteries_models.fastapi import batteries_lifespan


class Team(BaseModel, IntIDMixin, table=True):
    name: str = Field(unique=True)
    city: str


class TeamIn(Schema):
    name: str
    city: str


class TeamPatch(Schema):
    name: str | None = None
    city: str | None = None


class TeamCRUD(BaseCRUD[Team, TeamIn, TeamPatch]):
    pass


# A TeamCRUD on the request's session (SessionDep: committed before the response is sent).
Teams = Annotated[TeamCRUD, Depends(crud_dependency(TeamCRUD))]


def create_app(registry: DatabaseRegistry | None = None) -> FastAPI:
    app = FastAPI(lifespan=batteries_lifespan(registry))
    install_exception_handlers(app)  # NotFound 404, Conflict 409, InvalidFilter 422

    @app.get("/teams")
    async def list_teams(teams: Teams, limit: int = 20, offset: int = 0) -> Page[Team]:
        return await teams.paginate(limit=limit, offset=offset, order_by="name")

    @app.get("/teams/{team_id}")
    async def get_team(team_id: int, teams: Teams) -> Team:
        return await teams.get_or_raise(team_id)

    @app.post("/teams", status_code=201)
    async def create_team(body: TeamIn, teams: Teams) -> Team:
        return await teams.create(body)

    @app.patch("/teams/{team_id}")
    async def update_team(team_id: int, body: TeamPatch, teams: Teams) -> Team:
        return await teams.update(team_id, body)

    @app.delete("/teams/{team_id}", status_code=204)
    async def delete_team(team_id: int, teams: Teams) -> None:
        await teams.delete(team_id)

    return app


async def main(url: str) -> None:
    registry = DatabaseRegistry(BatteriesSettings(database_url=url))
    await registry.get().create_all()
    app = create_app(registry)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://api") as client,
    ):
        created = await client.post("/teams", json={"name": "Preventers", "city": "NYC"})
        team_id = created.json()["id"]
        assert (await client.patch(f"/teams/{team_id}", json={"city": "LA"})).json()["city"] == "LA"
        assert (await client.get("/teams")).json()["total"] == 1
        duplicate = await client.post("/teams", json={"name": "Preventers", "city": "SF"})
        assert duplicate.status_code == 409
        assert duplicate.json()["columns"] == ["name"]
        assert (await client.get("/teams?limit=0")).status_code == 422
        assert (await client.delete(f"/teams/{team_id}")).status_code == 204
        assert (await client.get(f"/teams/{team_id}")).status_code == 404
    database = DatabaseRegistry(BatteriesSettings(database_url=url)).get()
    await database.drop_all()
    await database.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "sqlite+aiosqlite:///teams.db"))
