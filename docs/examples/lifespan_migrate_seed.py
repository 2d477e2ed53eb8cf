# app/main.py: migrate, then load the development fixtures, before the app serves a request.
from app.models import Hero
from fastapi import FastAPI
from sqlmodel import func, select

from batteries_models.fastapi import SessionDep, batteries_lifespan

app = FastAPI(lifespan=batteries_lifespan(migrate=True, seed=["fixtures/dev.json"]))


@app.get("/heroes/count")
async def count_heroes(session: SessionDep) -> int:
    return (await session.exec(select(func.count()).select_from(Hero))).one()
