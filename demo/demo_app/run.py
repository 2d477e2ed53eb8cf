"""Run the demo: create the schema on an embedded SQLite database, add heroes, read them back.

The database is ``DATABASE_URL`` when set, else ``.work/demo.sqlite3`` next to this project.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from sqlmodel import select

from batteries_models import BatteriesSettings, Database, discover_models, mask_url

HERE = Path(__file__).resolve().parent.parent


def database_url() -> str:
    if os.environ.get("DATABASE_URL") or os.environ.get("BATTERIES_DATABASE_URL"):
        return BatteriesSettings().database().url
    work = HERE / ".work"
    work.mkdir(exist_ok=True)
    (work / "demo.sqlite3").unlink(missing_ok=True)
    return f"sqlite+aiosqlite:///{work / 'demo.sqlite3'}"


async def main() -> None:
    settings = BatteriesSettings()
    found = discover_models(settings.models or "demo_app.models")
    db = Database(database_url())
    print(f"database: {mask_url(db.url)}")
    print(f"models:   {settings.models} -> tables {', '.join(sorted(found.tables))}")
    from demo_app.models import Hero, Team

    await db.drop_all(found.metadata)
    await db.create_all(found.metadata)
    print("schema:   created every table")
    async with db.session() as session:
        team = Team(name="Preventers")
        session.add(team)
        await session.flush()
        session.add_all(
            [
                Hero(name="Deadpond", secret_name="Dive Wilson", team_id=team.id),
                Hero(name="Rusty-Man", secret_name="Tommy Sharp", age=48, team_id=team.id),
            ]
        )
    async with db.session() as session:
        heroes = (await session.exec(select(Hero).order_by(Hero.name))).all()
    print(f"heroes:   {len(heroes)} inserted and read back")
    for hero in heroes:
        print(f"          {hero!r}")
    await db.dispose()


if __name__ == "__main__":
    asyncio.run(main())
