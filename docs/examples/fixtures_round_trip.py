"""Dump a database, wipe it, load the fixture back: the second dump has the same bytes.

Run it as ``python docs/examples/fixtures_round_trip.py``; ``DATABASE_URL`` picks the database
(a temporary SQLite file by default).
"""

import asyncio
import os
import tempfile
from pathlib import Path

from sqlmodel import Field

from batteries_fixtures import dump, load
from batteries_models import BaseModel, Database, IntIDMixin


class Team(BaseModel, IntIDMixin, table=True):
    __tablename__ = "docs_team"
    __natural_key__ = ("name",)  # lets fixtures refer to a team by name
    name: str = Field(unique=True)


class Hero(BaseModel, IntIDMixin, table=True):
    __tablename__ = "docs_hero"
    name: str
    team_id: int | None = Field(default=None, foreign_key="docs_team.id")


async def main(url: str, folder: Path) -> None:
    database = Database(url)
    await database.create_all()
    async with database.session() as session:
        team = Team(name="Preventers")
        session.add(team)
        await session.flush()
        session.add_all([Hero(name="Deadpond", team_id=team.id), Hero(name="Rusty-Man")])

    # 1. dump: tables in foreign-key order, rows by primary key
    fixture = folder / "heroes.json"
    print((await dump(database, fixture, models=[Team, Hero])).summary())

    # 2. wipe
    await database.drop_all()
    await database.create_all()

    # 3. load: one transaction, batched inserts; loading it twice would change nothing
    print((await load(database, fixture, models=[Team, Hero])).summary())

    # 4. dump again: the same bytes
    again = folder / "again.json"
    await dump(database, again, models=[Team, Hero])
    assert again.read_bytes() == fixture.read_bytes()
    print(fixture.read_text(encoding="utf-8"))
    await database.dispose()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = os.environ.get("DATABASE_URL", f"sqlite+aiosqlite:///{folder / 'app.db'}")
        asyncio.run(main(url, folder))
