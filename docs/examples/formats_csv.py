"""CSV fixtures: one file per table, for spreadsheets and diffs; NULL is an unquoted empty cell.

Run it as ``python docs/examples/formats_csv.py``; ``DATABASE_URL`` picks the database (a
temporary SQLite file by default).
"""

import asyncio
import os
import tempfile
from pathlib import Path

from sqlmodel import Field

from batteries_fixtures import dump, load
from batteries_models import BaseModel, Database, IntIDMixin


class Team(BaseModel, IntIDMixin, table=True):
    __tablename__ = "docs_csv_team"
    name: str


class Hero(BaseModel, IntIDMixin, table=True):
    __tablename__ = "docs_csv_hero"
    name: str
    motto: str | None = None
    team_id: int | None = Field(default=None, foreign_key="docs_csv_team.id")


async def main(url: str, folder: Path) -> None:
    database = Database(url)
    await database.create_all()
    async with database.session() as session:
        session.add(Team(id=1, name="Preventers"))
        await session.flush()
        session.add_all(
            [
                Hero(id=1, name="Deadpond", motto="", team_id=1),  # an empty motto
                Hero(id=2, name='Rusty-Man, "the" man'),  # no motto (NULL), no team
            ]
        )

    tables = folder / "tables"
    await dump(database, tables, split=True, format="csv", models=[Team, Hero])
    for path in sorted(tables.iterdir()):
        print(f"== {path.name}")
        print(path.read_text(encoding="utf-8"), end="")

    await database.drop_all()
    await database.create_all()
    # A folder loads every fixture file in it, in one transaction, parents first.
    print((await load(database, tables, models=[Team, Hero])).summary())
    await database.dispose()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = os.environ.get("DATABASE_URL", f"sqlite+aiosqlite:///{folder / 'app.db'}")
        asyncio.run(main(url, folder))
