# app/models.py: the models that migrations are written from.
from sqlmodel import Field

from batteries_models import BaseModel, IntIDMixin, TimestampMixin


class Hero(BaseModel, IntIDMixin, TimestampMixin, table=True):
    name: str = Field(index=True, max_length=100)
    secret_name: str
    age: int | None = None
