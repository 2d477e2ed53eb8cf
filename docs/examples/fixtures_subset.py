"""Refresh staging from production: dump a subset of one database, load it into another.

Run it as ``python docs/examples/fixtures_subset.py``; ``DATABASE_URL`` is "production" (a
temporary SQLite file by default), "staging" is an empty SQLite file. Both are named databases
of the settings, as ``BATTERIES_DATABASES__PRODUCTION__URL=...`` would make them.
"""

import asyncio
import os
import tempfile
from pathlib import Path

from sqlmodel import Field

from batteries_fixtures import dump, load
from batteries_models import BaseModel, BatteriesSettings, Database, DatabaseSettings, IntIDMixin


class Author(BaseModel, IntIDMixin, table=True):
    __tablename__ = "docs_author"
    name: str


class Book(BaseModel, IntIDMixin, table=True):
    __tablename__ = "docs_book"
    title: str
    author_id: int = Field(foreign_key="docs_author.id")
    sequel_of_id: int | None = Field(default=None, foreign_key="docs_book.id")


class Review(BaseModel, IntIDMixin, table=True):
    __tablename__ = "docs_review"
    stars: int
    book_id: int = Field(foreign_key="docs_book.id")


async def main(production_url: str, folder: Path) -> None:
    settings = BatteriesSettings(
        databases={
            "production": DatabaseSettings(url=production_url),
            "staging": DatabaseSettings(url=f"sqlite+aiosqlite:///{folder / 'staging.db'}"),
        }
    )
    for name in ("production", "staging"):
        database = Database.from_settings(settings.database(name), name=name)
        await database.create_all()
        if name == "production":
            async with database.session() as session:
                ann, bob = Author(name="Ann"), Author(name="Bob")
                session.add_all([ann, bob])
                await session.flush()
                first = Book(title="First", author_id=ann.id)
                other = Book(title="Other", author_id=bob.id)
                session.add_all([first, other])
                await session.flush()
                sequel = Book(title="Sequel", author_id=ann.id, sequel_of_id=first.id)
                session.add(sequel)
                await session.flush()
                session.add_all(
                    [Review(stars=5, book_id=sequel.id), Review(stars=1, book_id=other.id)]
                )
        await database.dispose()

    # The five-star reviews, the books they review, the books those are sequels of, and
    # their authors: every row the subset points at, and nothing else.
    subset = folder / "subset.json"
    report = await dump(
        "production",
        subset,
        tables=["docs_review"],
        where={"docs_review": "stars = 5"},
        with_related=True,
        models=[Author, Book, Review],
        settings=settings,
    )
    print(report.summary())
    print(
        (await load("staging", subset, models=[Author, Book, Review], settings=settings)).summary()
    )
    print(subset.read_text(encoding="utf-8"))


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = os.environ.get("DATABASE_URL", f"sqlite+aiosqlite:///{folder / 'production.db'}")
        asyncio.run(main(url, folder))
