"""A fixture format of your own: a reader yielding records, a writer taking them.

Run it as ``python docs/examples/formats_plugin.py``; ``DATABASE_URL`` picks the database (a
temporary SQLite file by default). Passed as an object here; a package registers it with an
entry point in the group ``batteries_fixtures.formats`` so that ``--format tsv`` finds it.
"""

import asyncio
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from sqlmodel import Field

from batteries_fixtures import dump, load
from batteries_fixtures.formats import MISSING, FixtureFormat, FormatContext, Record
from batteries_models import BaseModel, Database, IntIDMixin


class TsvFormat(FixtureFormat):
    """One record per line: table, primary key and fields, tab-separated, each as JSON."""

    name = "tsv"
    suffixes = (".tsv",)
    description = "table<TAB>pk<TAB>fields, each as JSON"

    def read(self, stream: IO[bytes], path: str, context: FormatContext) -> Iterator[Record]:
        for index, line in enumerate(stream):
            table, pk, fields = line.decode("utf-8").rstrip("\n").split("\t")
            key = MISSING if pk == "" else json.loads(pk)
            yield Record(path, index, index + 1, json.loads(table), key, json.loads(fields))

    def writer(self, stream: IO[str], context: FormatContext) -> "TsvWriter":
        return TsvWriter(stream)


class TsvWriter:
    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def write(self, record: dict[str, Any]) -> None:
        pk = json.dumps(record["pk"]) if "pk" in record else ""
        fields = json.dumps(record["fields"], ensure_ascii=False)
        self.stream.write(f"{json.dumps(record['table'])}\t{pk}\t{fields}\n")

    def close(self) -> None:
        self.stream.flush()


class Power(BaseModel, IntIDMixin, table=True):
    __tablename__ = "docs_power"
    name: str
    level: int = Field(default=1)


async def main(url: str, folder: Path) -> None:
    database = Database(url)
    await database.create_all()
    async with database.session() as session:
        session.add_all([Power(id=1, name="flight", level=3), Power(id=2, name="x-ray")])
    path = folder / "powers.tsv"
    print((await dump(database, path, format=TsvFormat(), models=[Power])).summary())
    print(path.read_text(encoding="utf-8"), end="")
    await database.drop_all()
    await database.create_all()
    print((await load(database, path, format=TsvFormat(), models=[Power])).summary())
    await database.dispose()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = os.environ.get("DATABASE_URL", f"sqlite+aiosqlite:///{folder / 'app.db'}")
        asyncio.run(main(url, folder))
