"""batteries-fixtures subset dumps: ``--where TABLE:SQL`` and ``--with-related``.

A subset with ``--with-related`` holds every row its rows point at (self-references, cycles and
composite keys included, NULL references skipped), so it loads into an empty database; without
it, rows pointing at rows left out are refused as rows pointing at excluded tables are.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    MetaData,
    String,
    Table,
    insert,
)
from typer.testing import CliRunner

from batteries_fixtures import FixtureSchemaError, dump, load
from batteries_fixtures import _dump as dump_module
from batteries_fixtures._server_json import copy_records
from batteries_fixtures.cli import app
from batteries_models import NAMING_CONVENTION, Database

runner = CliRunner()

metadata = MetaData(naming_convention=NAMING_CONVENTION)
# A string key that would break any SQL it was formatted into.
HOSTILE = "o'brien\"); DROP TABLE book; --"
author = Table(
    "author",
    metadata,
    Column("id", String(60), primary_key=True),
    Column("name", String(60), nullable=False),
)
book = Table(
    "book",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("title", String(60), nullable=False),
    Column("author_id", ForeignKey("author.id"), nullable=False),
    Column("sequel_of_id", ForeignKey("book.id")),  # self-reference, often NULL
)
edition = Table(
    "edition",
    metadata,
    Column("book_id", ForeignKey("book.id"), primary_key=True),
    Column("number", Integer, primary_key=True, autoincrement=False),
)
printing = Table(
    "printing",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("book_id", Integer, nullable=False),
    Column("edition_number", Integer),  # NULL: the printing names no edition
    ForeignKeyConstraint(["book_id", "edition_number"], ["edition.book_id", "edition.number"]),
)
review = Table(
    "review",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("book_id", ForeignKey("book.id"), nullable=False),
    Column("stars", Integer, nullable=False),
)
# A cycle of two tables: a team's captain is a player, a player is on a team.
team = Table(
    "team",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("captain_id", ForeignKey("player.id", use_alter=True)),
)
player = Table(
    "player",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("team_id", ForeignKey("team.id")),
)

ROWS: list[tuple[Table, list[dict[str, Any]]]] = [
    (
        author,
        [{"id": "ann", "name": "Ann"}, {"id": HOSTILE, "name": "Bob"}, {"id": "cy", "name": "Cy"}],
    ),
    (
        book,
        [
            {"id": 1, "title": "One", "author_id": "ann", "sequel_of_id": None},
            {"id": 2, "title": "Two", "author_id": HOSTILE, "sequel_of_id": 1},
            {"id": 3, "title": "Three", "author_id": "ann", "sequel_of_id": 2},
            {"id": 4, "title": "Other", "author_id": "cy", "sequel_of_id": None},
        ],
    ),
    (
        edition,
        [{"book_id": 1, "number": 1}, {"book_id": 1, "number": 2}, {"book_id": 4, "number": 1}],
    ),
    (
        printing,
        [
            {"id": 10, "book_id": 1, "edition_number": 2},
            {"id": 11, "book_id": 4, "edition_number": None},
        ],
    ),
    (review, [{"id": 100, "book_id": 3, "stars": 5}, {"id": 101, "book_id": 4, "stars": 1}]),
    (
        team,
        [
            {"id": 1, "captain_id": None},
            {"id": 2, "captain_id": None},
            {"id": 3, "captain_id": None},
        ],
    ),
    (
        player,
        [
            {"id": 1, "team_id": 1},
            {"id": 2, "team_id": 2},
            {"id": 3, "team_id": 3},
            {"id": 4, "team_id": None},
        ],
    ),
]


async def _seeded(database: Database) -> None:
    await database.create_all(metadata)
    async with database.connect() as connection:
        for table, rows in ROWS:
            await connection.execute(insert(table), rows)
        # team 1's captain plays for team 2, whose captain plays for team 1: a cycle in the data
        await connection.execute(team.update().where(team.c.id == 1).values(captain_id=2))
        await connection.execute(team.update().where(team.c.id == 2).values(captain_id=1))
        await connection.execute(team.update().where(team.c.id == 3).values(captain_id=3))
        await connection.commit()


async def _emptied(database: Database) -> None:
    async with database.connect() as connection:
        await connection.execute(team.update().values(captain_id=None))
        for table in reversed(metadata.sorted_tables):
            await connection.execute(table.delete())
        await connection.commit()


async def _dump(database: Database, **options: Any) -> str:
    buffer = io.StringIO()
    await dump(database, buffer, models=metadata, **options)
    return buffer.getvalue()


def _keys(text: str) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for record in json.loads(text):
        found.setdefault(record["table"], []).append(record["pk"])
    return found


async def test_with_related_adds_every_row_the_subset_points_at_and_loads_into_an_empty_database(
    database: Database, tmp_path: Path
) -> None:
    await _seeded(database)
    text = await _dump(
        database, tables=["review"], where={"review": "stars >= 5"}, with_related=True
    )
    # review 100 -> book 3 -> sequel of 2 -> sequel of 1 (self-reference, transitively) and
    # their authors; book 4, its author and its review are left out. No child is followed:
    # neither edition nor printing, which point at book 1, is dumped.
    assert _keys(text) == {
        "author": ["ann", HOSTILE],
        "book": [1, 2, 3],
        "review": [100],
    }
    path = tmp_path / "subset.json"
    path.write_text(text, encoding="utf-8")
    await _emptied(database)
    report = await load(database, path, models=metadata)
    assert report.tables["book"].inserted == 3
    assert await _dump(database, tables=["author", "book", "review"]) == text


async def test_cycles_terminate_and_composite_references_follow_both_columns(
    database: Database,
) -> None:
    await _seeded(database)
    # player 1 -> team 1 -> captain 2 -> team 2 -> captain 1 (already in): the cycle ends.
    text = await _dump(database, tables=["player"], where={"player": "id = 1"}, with_related=True)
    assert _keys(text) == {"player": [1, 2], "team": [1, 2]}
    # printing 10 -> edition (1, 2) through both columns -> book 1; printing 11's edition
    # number is NULL, so it points at nothing (book_id alone is no foreign key).
    text = await _dump(
        database,
        tables=["printing"],
        where={"printing": "printing.id IN (10, 11)"},
        with_related=True,
    )
    assert _keys(text) == {
        "author": ["ann"],
        "book": [1],
        "edition": [{"book_id": 1, "number": 2}],
        "printing": [10, 11],
    }


async def test_a_table_the_dump_names_without_where_stays_whole(database: Database) -> None:
    await _seeded(database)
    # Every table, one limited: author gets Cy back because book 4 (whole book table) names
    # him, though the --where keeps only Ann.
    text = await _dump(database, where={"author": "id = 'ann'"}, with_related=True)
    keys = _keys(text)
    assert keys["author"] == ["ann", "cy", HOSTILE]
    assert keys["book"] == [1, 2, 3, 4]


async def test_a_subset_without_related_refuses_rows_that_point_at_rows_left_out(
    database: Database,
) -> None:
    await _seeded(database)
    with pytest.raises(FixtureSchemaError) as caught:
        await _dump(database, tables=["author", "book"], where={"book": "id >= 3"})
    message = str(caught.value)
    assert "rows pointing at rows its --where leaves out: book(sequel_of_id) -> book;" in message
    assert "--with-related" in message
    assert "--allow-dangling" in message
    with pytest.raises(FixtureSchemaError, match=r"book\(author_id\) -> author;"):
        await _dump(database, tables=["author", "book"], where={"author": "id = 'ann'"})
    # The rows kept only: books 1 and 4 point at nothing left out.
    text = await _dump(database, tables=["author", "book"], where={"book": "id IN (1, 4)"})
    assert _keys(text) == {"author": ["ann", "cy", HOSTILE], "book": [1, 4]}
    # A table left out counts only the rows kept: review 101 points at book 4 only.
    with pytest.raises(FixtureSchemaError, match=r"tables it does not include: review\(book_id\)"):
        await _dump(database, tables=["review"], where={"review": "id = 101"})
    text = await _dump(
        database, tables=["review"], where={"review": "id = 101"}, allow_dangling=True
    )
    assert _keys(text) == {"review": [101]}


async def test_an_excluded_table_stays_out_and_is_refused_as_dangling(database: Database) -> None:
    await _seeded(database)
    with pytest.raises(FixtureSchemaError, match=r"book\(author_id\) -> author;"):
        await _dump(database, exclude=["author"], where={"book": "id = 1"}, with_related=True)


async def test_where_errors_are_one_line_naming_the_table(database: Database) -> None:
    await _seeded(database)
    with pytest.raises(FixtureSchemaError, match=r"Unknown table 'books'"):
        await _dump(database, where={"books": "id = 1"})
    with pytest.raises(FixtureSchemaError, match=r"--where names table 'review', but --exclude"):
        await _dump(database, exclude=["review"], where={"review": "id = 1"})
    with pytest.raises(FixtureSchemaError) as caught:
        await _dump(database, where={"book": "no_such_column = 1"})
    assert "The database refused the --where of table 'book':" in str(caught.value)
    assert caught.value.table == "book"


async def test_jobs_give_the_same_subset_bytes(database: Database) -> None:
    await _seeded(database)
    options: dict[str, Any] = {"where": {"review": "stars >= 5"}, "with_related": True}
    assert await _dump(database, jobs=3, **options) == await _dump(database, **options)


def test_the_command_line_takes_where_and_with_related(backend: Any, tmp_path: Path) -> None:
    import asyncio

    async def seed() -> None:
        db = Database(backend.url)
        try:
            await _seeded(db)
        finally:
            await db.dispose()

    asyncio.run(seed())
    output = tmp_path / "subset.json"
    base = ["dump", "--database-url", backend.url, "-o", str(output)]
    result = runner.invoke(
        app, [*base, "review", "--where", "review:stars >= 5", "--with-related", "-q"]
    )
    assert result.exit_code == 0, result.stderr
    assert _keys(output.read_text(encoding="utf-8"))["book"] == [1, 2, 3]
    for where, fragment in [
        ("review", "is not TABLE:SQL"),
        ("nope:id = 1", "Unknown table 'nope'"),
        ("review:stars >>> 5", "refused the --where of table 'review'"),
    ]:
        result = runner.invoke(app, [*base, "--where", where])
        assert result.exit_code == 1
        assert result.stderr.count("\n") == 1, result.stderr
        assert fragment in result.stderr


async def test_the_server_written_dump_keeps_the_same_subset(
    backend: Any, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _seeded(database)
    options: dict[str, Any] = {
        "tables": ["review"],
        "where": {"review": "stars >= 5"},
        "with_related": True,
    }
    served: list[str] = []

    async def watched(connection: Any, info: Any, *args: Any, **kwargs: Any) -> int | None:
        count = await copy_records(connection, info, *args, **kwargs)
        if count is not None:
            served.append(info.name)
        return count

    async def never(*args: Any, **kwargs: Any) -> None:
        return None

    with monkeypatch.context() as patch:
        patch.setattr(dump_module, "copy_records", watched)
        by_server = await _dump(database, **options)
        patch.setattr(dump_module, "copy_records", never)
        by_python = await _dump(database, **options)
    assert by_server == by_python
    assert _keys(by_server)["book"] == [1, 2, 3]
    expected = ["author", "book", "review"] if backend.writes_dump_records_itself else []
    assert served == expected
