"""YAML fixtures: dump to YAML, edit by hand, load back; PyYAML's tags never build objects.

Run it as ``python docs/examples/formats_yaml.py`` (needs ``batteries-fixtures[yaml]``);
``DATABASE_URL`` picks the database (a temporary SQLite file by default).
"""

import asyncio
import os
import tempfile
from pathlib import Path

from sqlmodel import Field

from batteries_fixtures import FixtureFormatError, dump, load
from batteries_models import BaseModel, Database, IntIDMixin


class Country(BaseModel, IntIDMixin, table=True):
    __tablename__ = "docs_country"
    code: str = Field(max_length=2)
    name: str


async def main(url: str, folder: Path) -> None:
    database = Database(url)
    await database.create_all()
    fixture = folder / "countries.yaml"
    # Hand-written: YAML 1.2 reads NO as the text "NO" (no Norway problem).
    fixture.write_text(
        "- table: docs_country\n"
        "  pk: 1\n"
        "  fields: {code: NO, name: Norway}\n"
        "- table: docs_country\n"
        "  pk: 2\n"
        "  fields: {code: FR, name: France}\n",
        encoding="utf-8",
    )
    print((await load(database, fixture, models=[Country])).summary())  # .yaml: YAML

    out = folder / "dump.yaml"
    await dump(database, out, models=[Country])
    print(out.read_text(encoding="utf-8"), end="")

    # A tag that would build a Python object is refused, naming the file and the place.
    evil = folder / "evil.yaml"
    evil.write_text("- !!python/object/apply:os.system [echo pwned]\n", encoding="utf-8")
    try:
        await load(database, evil, models=[Country])
    except FixtureFormatError as exc:
        print("refused:", str(exc).replace(str(folder), "."))
    await database.dispose()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = os.environ.get("DATABASE_URL", f"sqlite+aiosqlite:///{folder / 'app.db'}")
        asyncio.run(main(url, folder))
