"""Moving from Django: load a ``manage.py dumpdata`` file into the tables Django created.

Run it as ``python docs/examples/formats_django.py``; ``DATABASE_URL`` picks the database (a
temporary SQLite file by default). The tables here are made with SQLAlchemy to keep the example
short; in a real move they are the ones Django's migrations made.
"""

import asyncio
import json
import os
import tempfile
from pathlib import Path

from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table

from batteries_fixtures import dump, load
from batteries_fixtures.formats import DjangoFormat
from batteries_models import Database

# What Django's migrations create for `shop.Category` (db_table = "categories"), `shop.Item`
# with a foreign key and a many-to-many field `tags` to `shop.Tag` (natural key: its name).
metadata = MetaData()
Table("categories", metadata, Column("id", Integer, primary_key=True), Column("name", String))
Table(
    "shop_tag",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String, unique=True),
    info={"natural_key": ("name",)},  # Tag.natural_key() returns (self.name,)
)
Table(
    "shop_item",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("title", String),
    Column("category_id", Integer, ForeignKey("categories.id")),
)
Table(
    "shop_item_tags",  # the table Django made for Item.tags
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", Integer, ForeignKey("shop_item.id")),
    Column("tag_id", Integer, ForeignKey("shop_tag.id")),
)

# dumpdata shop --natural-foreign --natural-primary
DUMPDATA = [
    {"model": "shop.category", "pk": 1, "fields": {"name": "Books"}},
    {"model": "shop.tag", "fields": {"name": "new"}},
    {"model": "shop.tag", "fields": {"name": "sale"}},
    {"model": "shop.item", "pk": 1, "fields": {"title": "Dune", "category": 1,
                                                "tags": [["sale"], ["new"]]}},
]  # fmt: skip


async def main(url: str, folder: Path) -> None:
    database = Database(url)
    await database.create_all(metadata)
    fixture = folder / "dumpdata.json"
    fixture.write_text(json.dumps(DUMPDATA), encoding="utf-8")

    django = DjangoFormat(tables={"shop.category": "categories"})  # the model's db_table
    print((await load(database, fixture, format=django, models=metadata)).summary())

    out = folder / "back.json"
    await dump(database, out, format=django, natural_primary=True, models=metadata)
    print(out.read_text(encoding="utf-8"), end="")
    await database.dispose()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = os.environ.get("DATABASE_URL", f"sqlite+aiosqlite:///{folder / 'app.db'}")
        asyncio.run(main(url, folder))
