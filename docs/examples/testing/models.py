"""The project's models."""

from sqlmodel import Field

from batteries_models import BaseModel, IntIDMixin


class Hero(BaseModel, IntIDMixin, table=True):
    name: str = Field(unique=True)
    secret_name: str
