"""SessionDep: one session per request, committed before the response is sent."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated

import httpx
from fastapi import Depends, FastAPI
from sqlmodel import Field, select
from sqlmodel.ext.asyncio.session import AsyncSession

from batteries_models import BaseModel, BatteriesSettings, Database, DatabaseRegistry, IntIDMixin
from batteries_models.fastapi import SessionDep, batteries_lifespan, session_dependency


class Pet(BaseModel, IntIDMixin, table=True):
    __tablename__ = "it_pet"
    name: str = Field(unique=True)


AnalyticsSession = Annotated[AsyncSession, Depends(session_dependency("analytics"))]


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


async def test_a_session_dependency_is_overridable_by_its_name(database: Database) -> None:
    await database.create_all()
    app = make_app(database)

    @app.get("/analytics")
    async def analytics(session: AnalyticsSession) -> str:
        return str(session.info["source"])

    def replacement(source: str) -> Callable[[], AsyncIterator[AsyncSession]]:
        async def dependency() -> AsyncIterator[AsyncSession]:
            async with database.session() as session:
                session.info["source"] = source
                yield session

        return dependency

    # The key is looked up again, as a test would do: not the object the app was built with.
    app.dependency_overrides[session_dependency("analytics")] = replacement("analytics")
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://t") as client,
    ):
        assert (await client.get("/analytics")).json() == "analytics"
    assert session_dependency() is session_dependency("default")
