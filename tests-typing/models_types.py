"""Static checks of the public types, run by mypy (``make typecheck``), never executed."""

from __future__ import annotations

from typing import assert_type

from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from batteries_models import BaseModel, Database, DatabaseRegistry, UUIDMixin


class Hero(BaseModel, UUIDMixin, table=True):
    name: str


async def sessions_are_sqlmodel_sessions(db: Database, registry: DatabaseRegistry) -> None:
    async with db.session() as session:
        assert_type(session, AsyncSession)
        heroes = (await session.exec(select(Hero))).all()
        assert_type(list(heroes), list[Hero])
    async with db.connect() as connection:
        assert_type(connection, AsyncConnection)
    assert_type(registry.get("analytics"), Database)
