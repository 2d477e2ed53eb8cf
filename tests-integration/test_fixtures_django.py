"""Moving from Django: load the files Django's own dumpdata wrote into the tables its sqlmigrate
made, check the rows, dump them back in Django's format and get Django's records again.

The golden files are in django_golden/ (see its README): Django is not needed here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import django_models
from backends import Backend
from batteries_fixtures import FixtureFormatError, FixtureSchemaError, dump, load
from batteries_fixtures.formats import DjangoFormat, get_format
from batteries_models import Database

HERE = Path(__file__).parent
GOLDEN = HERE / "django_golden"
MODELS = django_models.metadata
# The one model whose table is not app_model: Meta.db_table = "publishers".
DJANGO = DjangoFormat(tables={"library.publisher": "publishers"})


async def create_django_tables(database: Database, backend: Backend) -> None:
    """Run the DDL Django's sqlmigrate printed for this database."""
    lines = (GOLDEN / backend.django_sqlmigrate).read_text(encoding="utf-8").splitlines()
    script = "\n".join(line for line in lines if not line.startswith("--"))
    statements = [s.strip() for s in script.split(";\n") if s.strip()]
    async with database.connect() as connection:
        for statement in statements:
            if statement.rstrip(";") in ("BEGIN", "COMMIT"):
                continue
            await connection.exec_driver_sql(statement.rstrip(";"))


def golden(name: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = json.loads((GOLDEN / name).read_text(encoding="utf-8"))
    return records


async def rows(database: Database, sql: str) -> list[tuple[Any, ...]]:
    async with database.connect() as connection:
        return [tuple(row) for row in (await connection.exec_driver_sql(sql)).all()]


def comparable(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records with each many-to-many list sorted: Django keeps no order in them either."""
    for record in records:
        for field, value in record["fields"].items():
            if field == "genres":
                record["fields"][field] = sorted(value)
    return records


async def check_rows(database: Database) -> None:
    authors = await rows(
        database, "SELECT id, name, born, mentor_id FROM library_author ORDER BY id"
    )
    born = [a[2] if isinstance(a[2], date) else date.fromisoformat(a[2]) for a in authors]
    assert [(a[0], a[1], a[3]) for a in authors] == [
        (1, "Ursula K. Le Guin", 3),  # the self reference points forward, at a later record
        (2, "Iain M. Banks", 1),
        (3, "Mary Shelley", None),
    ]
    assert born == [date(1929, 10, 21), date(1954, 2, 16), date(1797, 8, 30)]
    links = await rows(database, "SELECT book_id, genre_id FROM library_book_genres")
    assert sorted(links) == [(1, "sf"), (2, "fant"), (2, "sf"), (3, "fant"), (3, "poe")]
    assert await rows(database, "SELECT id, name, country FROM publishers ORDER BY id") == [
        (1, "Gollancz", "GB"),
        (2, "Éditions du Seuil", "FR"),
    ]
    books = await rows(
        database, "SELECT id, title, author_id, publisher_id, price FROM library_book ORDER BY id"
    )
    assert [(b[0], b[2], b[3], Decimal(str(b[4]))) for b in books] == [
        (1, 1, 1, Decimal("9.99")),
        (2, 2, None, Decimal("12.50")),
        (3, 3, 2, Decimal("0.00")),
    ]
    reviews = await rows(database, "SELECT book_id, rating, body FROM library_review")
    assert sorted(reviews) == [(1, 5, "Ambiguous utopia.\nSecond line."), (3, 4, "")]


async def test_a_django_dump_loads_and_dumps_back_as_the_same_records(
    database: Database, backend: Backend, tmp_path: Path
) -> None:
    await create_django_tables(database, backend)
    report = await load(database, GOLDEN / "dumpdata.json", format=DJANGO, models=MODELS)
    assert report.tables["library_book_genres"].inserted == 5
    assert report.inserted == 18
    await check_rows(database)
    out = tmp_path / "dumpdata.json"
    await dump(database, out, format=DJANGO, indent=2, models=MODELS)
    written = json.loads(out.read_text(encoding="utf-8"))
    assert comparable(written) == comparable(golden("dumpdata.json"))
    # Loading Django's file again changes nothing: a merge by key.
    again = await load(database, GOLDEN / "dumpdata.json", format=DJANGO, models=MODELS)
    assert again.inserted == 0
    assert again.updated == 0


async def test_natural_keys_load_as_django_wrote_them(
    database: Database, backend: Backend, tmp_path: Path
) -> None:
    await create_django_tables(database, backend)
    await load(database, GOLDEN / "dumpdata_natural.json", format=DJANGO, models=MODELS)
    await check_rows(database)
    out = tmp_path / "natural.json"
    await dump(
        database,
        out,
        format=DJANGO,
        natural_foreign=True,
        natural_primary=True,
        indent=2,
        models=MODELS,
    )
    written = json.loads(out.read_text(encoding="utf-8"))
    assert comparable(written) == comparable(golden("dumpdata_natural.json"))
    # The natural dump finds the same rows again: no row is added, none changes.
    again = await load(database, out, format=DJANGO, models=MODELS)
    assert again.inserted == 0
    second = tmp_path / "second.json"
    await dump(database, second, format=DJANGO, natural_primary=True, indent=2, models=MODELS)
    assert second.read_bytes() == out.read_bytes()


async def test_microseconds_are_kept_where_django_would_cut_them(
    database: Database, backend: Backend, tmp_path: Path
) -> None:
    await create_django_tables(database, backend)
    records = golden("dumpdata.json")
    for record in records:
        if record["model"] == "library.book" and record["pk"] == 1:
            record["fields"]["added_at"] = "2024-01-02T03:04:05.678901Z"
    path = tmp_path / "micro.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    await load(database, path, format=DJANGO, models=MODELS)
    out = tmp_path / "out.json"
    await dump(database, out, format=DJANGO, models=MODELS)
    times = {
        r["pk"]: r["fields"]["added_at"]
        for r in json.loads(out.read_text(encoding="utf-8"))
        if r["model"] == "library.book"
    }
    assert times == {
        1: "2024-01-02T03:04:05.678901Z",  # Django's dumpdata would write .678Z
        2: "2024-06-30T23:59:59Z",
        3: "2025-12-31T12:00:00Z",
    }


def test_the_command_line_loads_and_dumps_a_django_fixture(
    backend: Backend, tmp_path: Path
) -> None:
    """Reflected where the tables say enough, the natural key and db_table as options."""
    import asyncio

    async def prepare() -> None:
        database = Database(backend.url)
        await create_django_tables(database, backend)
        await database.dispose()

    asyncio.run(prepare())
    options = ["--format", "django", "-O", "table.library.publisher=publishers"]
    options += ["-O", "natural_key.library.author=name", "--database-url", backend.url]
    if not backend.reflects_django_types:
        options += ["--models", "django_models"]
    env = {**os.environ, "PYTHONPATH": str(HERE)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "batteries_fixtures", *args, *options]
        return subprocess.run(
            command, capture_output=True, text=True, check=False, timeout=120, env=env
        )

    loaded = run("load", str(GOLDEN / "dumpdata_natural.json"), "-v")
    assert loaded.returncode == 0, loaded.stderr
    assert "library_book_genres: 5 inserted" in loaded.stderr
    out = tmp_path / "back.json"
    dumped = run("dump", "-o", str(out), "--indent", "2", "--natural-primary")
    assert dumped.returncode == 0, dumped.stderr
    written = json.loads(out.read_text(encoding="utf-8"))
    assert comparable(written) == comparable(golden("dumpdata_natural.json"))


async def test_a_model_without_its_table_names_the_option_to_give(
    database: Database, backend: Backend, tmp_path: Path
) -> None:
    await create_django_tables(database, backend)
    with pytest.raises(FixtureSchemaError) as info:
        await load(database, GOLDEN / "dumpdata.json", format="django", models=MODELS)
    assert "unknown table 'library_publisher'" in str(info.value)
    with pytest.raises(FixtureSchemaError, match=r"table\.APP_LABEL\.MODEL=publishers"):
        await dump(database, tmp_path / "x.json", format="django", models=MODELS)


def test_unknown_options_are_refused() -> None:
    with pytest.raises(FixtureFormatError, match=r"table\.APP_LABEL\.MODEL=TABLE"):
        get_format("django", {"db_table": "x"})
