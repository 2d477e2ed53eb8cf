"""SessionDep: one session per request, committed before the response is sent."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlmodel import Field, select

from batteries_models import BaseModel, BatteriesSettings, Database, DatabaseRegistry, IntIDMixin
from batteries_models.fastapi import SessionDep, batteries_lifespan


class Pet(BaseModel, IntIDMixin, table=True):
    __tablename__ = "it_pet"
    name: str = Field(unique=True)


def make_app(database: Database) -> FastAPI:
    url = database.url.render_as_string(hide_password=False)
    registry = DatabaseRegistry(BatteriesSettings(database_url=url))
    app = FastAPI(lifespan=batteries_lifespan(registry))

    @app.post("/pets/{name}", status_code=201)
    async def create(name: str, session: SessionDep) -> dict[str, str]:
        session.add(Pet(name=name))
        return {"name": name}

    @app.get("/pets")
    async def names(session: SessionDep) -> list[str]:
        return list((await session.exec(select(Pet.name).order_by(Pet.name))).all())

    return app


async def test_requests_commit_and_a_failed_commit_is_not_a_2xx(database: Database) -> None:
    await database.create_all()
    app = make_app(database)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://t") as client,
    ):
        assert (await client.post("/pets/rex")).status_code == 201
        duplicate = await client.post("/pets/rex")  # unique violation, raised at commit
        assert duplicate.status_code == 500
        assert (await client.get("/pets")).json() == ["rex"]
