"""The demo's models: every table the demo creates, migrates, loads and dumps."""

from __future__ import annotations

import uuid

from sqlalchemy import Column, ForeignKey, Table
from sqlmodel import Field

from batteries_models import BaseModel, IntIDMixin, TimestampMixin, UUIDMixin


class Team(BaseModel, IntIDMixin, table=True):
    """A team; its captain is a hero, and heroes belong to teams (an FK cycle)."""

    name: str = Field(unique=True)
    captain_id: uuid.UUID | None = Field(default=None, foreign_key="hero.id")


class Hero(BaseModel, UUIDMixin, TimestampMixin, table=True):
    """A hero, with a UUIDv7 key and timestamps."""

    name: str = Field(unique=True)
    secret_name: str
    age: int | None = None
    team_id: int | None = Field(default=None, foreign_key="team.id")


class Power(BaseModel, IntIDMixin, table=True):
    """A power a hero can have."""

    name: str = Field(unique=True)


hero_power = Table(
    "hero_power",
    BaseModel.metadata,
    Column("hero_id", ForeignKey("hero.id"), primary_key=True),
    Column("power_id", ForeignKey("power.id"), primary_key=True),
)
"""Which hero has which power: an association table with no model class."""
