"""The project's app: heroes through BaseCRUD, on the request's session (SessionDep)."""

from typing import Annotated

from fastapi import Depends, FastAPI
from pydantic import BaseModel as Schema

from batteries_crud import BaseCRUD, Page
from batteries_crud.fastapi import crud_dependency, install_exception_handlers
from batteries_models.fastapi import batteries_lifespan
from models import Hero


class HeroIn(Schema):
    name: str
    secret_name: str


class HeroCRUD(BaseCRUD[Hero, HeroIn, HeroIn]):
    pass


Heroes = Annotated[HeroCRUD, Depends(crud_dependency(HeroCRUD))]

app = FastAPI(lifespan=batteries_lifespan())
install_exception_handlers(app)  # a duplicate name is a 409


@app.get("/heroes")
async def list_heroes(heroes: Heroes) -> Page[Hero]:
    return await heroes.paginate(order_by="name")


@app.post("/heroes", status_code=201)
async def create_hero(body: HeroIn, heroes: Heroes) -> Hero:
    return await heroes.create(body)
