"""Generated revisions apply to tables that have rows, and warn about data at risk (issue 8)."""

from __future__ import annotations

import sys
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect

import batteries_migrate as migrate
from batteries_migrate.exceptions import DestructiveMigrationWarning, NotNullColumnWarning
from batteries_models import Database

HEADER = """
import enum
from typing import ClassVar

from sqlalchemy import MetaData
from sqlmodel import Field

from batteries_models import NAMING_CONVENTION, BaseModel


class Base(BaseModel):
    metadata: ClassVar[MetaData] = MetaData(naming_convention=NAMING_CONVENTION)


class Rank(enum.Enum):
    ROOKIE = "rookie"
    VETERAN = "veteran"

"""

HERO = """
class Hero(Base, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str
    age: int | None = Field(default=None, index=True)
"""


class Project:
    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root = root
        self.monkeypatch = monkeypatch
        self.modules: list[str] = []

    def models(self, body: str) -> None:
        name = f"risk_models_{uuid.uuid4().hex[:10]}"
        (self.root / f"{name}.py").write_text(HEADER + body, encoding="utf-8")
        self.modules.append(name)
        self.monkeypatch.setenv("BATTERIES_MODELS", name)

    def make(self, message: str) -> list[warnings.WarningMessage]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert migrate.make_migration(message) is not None
        return caught


@pytest.fixture
async def project(
    backend: Any, database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Project]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("BATTERIES_DATABASE_URL", backend.url)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    created = Project(tmp_path, monkeypatch)
    created.models(HERO)
    migrate.init()
    migrate.make_migration("create hero")
    migrate.upgrade()
    async with database.connect() as connection:
        await connection.exec_driver_sql(
            "INSERT INTO hero (id, name, age) VALUES (1, 'Deadpond', 30), (2, 'Rusty', NULL)"
        )
    await database.dispose()
    yield created
    for name in created.modules:
        sys.modules.pop(name, None)


async def rows(database: Database, sql: str) -> list[tuple[Any, ...]]:
    await database.dispose()  # asyncpg's cached plans do not survive a schema change
    async with database.connect() as connection:
        return [tuple(row) for row in (await connection.exec_driver_sql(sql)).all()]


async def test_not_null_columns_with_a_literal_default_fill_existing_rows(
    project: Project, database: Database
) -> None:
    project.models(
        HERO
        + "    power: int = 0\n"
        + '    status: str = "draft"\n'
        + "    active: bool = True\n"
        + "    rank: Rank = Rank.ROOKIE\n"
    )

    caught = project.make("add power, status, active, rank")
    migrate.upgrade()  # before: NOT NULL constraint failed / column contains null values

    found = [w.message for w in caught if isinstance(w.message, NotNullColumnWarning)]
    assert sorted(c for w in found for c in w.columns) == [
        "hero.active",
        "hero.power",
        "hero.rank",
        "hero.status",
    ]
    assert all("(2 rows now)" in str(w) for w in found)
    assert await rows(database, "SELECT id, power, status, rank FROM hero ORDER BY id") == [
        (1, 0, "draft", "ROOKIE"),
        (2, 0, "draft", "ROOKIE"),
    ]
    assert [row[0] in (True, 1) for row in await rows(database, "SELECT active FROM hero")] == [
        True,
        True,
    ]
    # The server default was only there for the old rows: models and database agree.
    assert migrate.check() == []
    await database.dispose()
    async with database.connect() as connection:
        found_columns = await connection.run_sync(lambda c: inspect(c).get_columns("hero"))
    assert {c["name"]: c["default"] for c in found_columns}["power"] is None
    # Down and up again: the enum type goes with its column and comes back with it.
    migrate.downgrade("-1")
    migrate.upgrade()
    assert migrate.check() == []


async def test_not_null_column_without_a_literal_default_says_to_edit(
    project: Project, database: Database
) -> None:
    project.models(HERO + '    code: str = Field(default_factory=lambda: "x")\n')

    caught = project.make("add code")

    found = [str(w.message) for w in caught if isinstance(w.message, NotNullColumnWarning)]
    assert len(found) == 1
    assert "hero.code" in found[0]
    assert "(2 rows now)" in found[0]
    assert "edit" in found[0]
    assert "server_default" in found[0]


async def test_a_column_rename_seen_as_drop_and_add_names_the_values_at_risk(
    project: Project, database: Database
) -> None:
    project.models(HERO.replace("    name: str\n", "    full_name: str | None = None\n"))

    caught = project.make("rename name")

    found = [str(w.message) for w in caught if isinstance(w.message, DestructiveMigrationWarning)]
    assert any(
        "column hero.name (2 rows) is dropped and hero.full_name added" in line
        and "new_column_name" in line
        for line in found
    ), found


async def test_a_table_rename_seen_as_drop_and_create_names_the_rows_at_risk(
    project: Project, database: Database
) -> None:
    project.models(
        HERO.replace(
            "class Hero(Base, table=True):\n",
            'class Hero(Base, table=True):\n    __tablename__ = "heroes"\n',
        )
    )

    caught = project.make("rename hero")

    found = [str(w.message) for w in caught if isinstance(w.message, DestructiveMigrationWarning)]
    assert any("DROPS table hero (2 rows):" in line for line in found), found
    assert any(
        "table hero (2 rows) is dropped and table heroes created" in line
        and "op.rename_table('hero', 'heroes')" in line
        for line in found
    ), found


async def test_dropping_an_indexed_column_and_adding_a_foreign_key_applies_with_rows(
    project: Project, database: Database
) -> None:
    project.models(
        """
class Team(Base, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str


class Hero(Base, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True)
"""
    )

    project.make("teams, no age")
    migrate.upgrade()

    assert migrate.check() == []
    assert await rows(database, "SELECT id, name, team_id FROM hero ORDER BY id") == [
        (1, "Deadpond", None),
        (2, "Rusty", None),
    ]


async def test_a_column_made_not_null_gets_its_nulls_filled_from_a_literal_default(
    project: Project, database: Database
) -> None:
    project.models(
        HERO.replace("age: int | None = Field(default=None,", "age: int = Field(default=18,")
    )

    caught = project.make("age required")
    migrate.upgrade()  # before: NOT NULL constraint failed / column contains null values

    found = [str(w.message) for w in caught if isinstance(w.message, NotNullColumnWarning)]
    assert len(found) == 1
    assert "hero.age becomes NOT NULL (1 NULL now)" in found[0]
    assert await rows(database, "SELECT id, age FROM hero ORDER BY id") == [(1, 30), (2, 18)]
    assert migrate.check() == []


async def test_a_column_made_not_null_without_a_literal_default_says_to_edit(
    project: Project, database: Database
) -> None:
    project.models(
        HERO.replace(
            "age: int | None = Field(default=None,", "age: int = Field(default_factory=int,"
        )
    )

    caught = project.make("age required")

    found = [str(w.message) for w in caught if isinstance(w.message, NotNullColumnWarning)]
    assert len(found) == 1
    assert "hero.age becomes NOT NULL (1 NULL now)" in found[0]
    assert "edit" in found[0]


TEAM = """
class Team(Base, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str
"""

# (models before, models after): each autogenerated revision must apply to tables with rows, on
# SQLite through batch table copies, and go down and up again.
CHANGES = {
    "foreign key added to an existing column": (
        TEAM + HERO + "    team_id: int | None = None\n",
        TEAM + HERO + '    team_id: int | None = Field(default=None, foreign_key="team.id")\n',
    ),
    "column dropped with its composite index": (
        HERO
        + "    power: int | None = None\n"
        + '    __table_args__ = (sa.Index("ix_hero_name_power", "name", "power"),)\n',
        HERO,
    ),
    "unique constraint added": (
        HERO,
        HERO.replace("    name: str\n", "    name: str = Field(unique=True)\n"),
    ),
    "column type changed": (HERO, HERO.replace("age: int | None", "age: str | None")),
    "referenced table dropped with the referring column": (
        TEAM + HERO + '    team_id: int | None = Field(default=None, foreign_key="team.id")\n',
        HERO,
    ),
}


@pytest.mark.parametrize(("before", "after"), CHANGES.values(), ids=CHANGES.keys())
async def test_generated_revisions_apply_to_tables_with_rows_and_revert(
    project: Project, database: Database, before: str, after: str
) -> None:
    project.models("import sqlalchemy as sa\n" + before)
    migrate.make_migration("before")  # None when "before" is the fixture's schema
    migrate.upgrade()
    project.models("import sqlalchemy as sa\n" + after)

    project.make("after")
    migrate.upgrade()

    assert migrate.check() == []
    assert await rows(database, "SELECT id, name FROM hero ORDER BY id") == [
        (1, "Deadpond"),
        (2, "Rusty"),
    ]
    migrate.downgrade("-1")
    migrate.upgrade()
    assert migrate.check() == []
