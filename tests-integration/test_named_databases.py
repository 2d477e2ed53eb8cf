"""Named databases end to end: two real databases (a SQLite file and PostgreSQL) in one project.

``legacy`` has its own models and migrations folder (``[tool.batteries.databases.legacy]``),
``default`` the project's: each is migrated on its own, then a subset of ``legacy`` is dumped by
name and loaded into ``default`` by name, from Python and from the command line. Each test runs
both ways round: legacy on SQLite with default on PostgreSQL, and the other way.
"""

from __future__ import annotations

import json
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text
from typer.testing import CliRunner

import batteries_migrate as migrate
from backends import Backend
from batteries_cli._app import app as fastapi_batteries
from batteries_fixtures import dump, load
from batteries_models import Database, DatabaseRegistry

runner = CliRunner()
DOCUMENTED = Path(__file__).parents[1] / "docs" / "examples" / "named_databases.toml"

HEADER = """
from typing import ClassVar

from sqlalchemy import MetaData
from sqlmodel import Field

from batteries_models import NAMING_CONVENTION, BaseModel


class Base(BaseModel):
    metadata: ClassVar[MetaData] = MetaData(naming_convention=NAMING_CONVENTION)


class {prefix}Author(Base, table=True):
    __tablename__ = "author"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=60)


class {prefix}Book(Base, table=True):
    __tablename__ = "book"
    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=60)
    year: int
    author_id: int = Field(foreign_key="author.id")
    sequel_of_id: int | None = Field(default=None, foreign_key="book.id")
"""

SHOP = HEADER.format(prefix="Shop")
LEGACY = HEADER.format(prefix="Legacy") + textwrap.dedent(
    """
    class LegacyNote(Base, table=True):
        __tablename__ = "legacy_note"  # only the legacy database has it
        id: int | None = Field(default=None, primary_key=True)
        book_id: int = Field(foreign_key="book.id")
        body: str
    """
)


@pytest.fixture
def project(
    backend: Backend, other_backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """A project whose ``legacy`` database is ``backend`` and ``default`` the other one."""
    # Names of their own: SQLModel's one registry keeps every class a test imported.
    tag = uuid.uuid4().hex[:10]
    names = [f"shop_models_{tag}", f"legacy_models_{tag}"]
    (tmp_path / f"{names[0]}.py").write_text(SHOP, encoding="utf-8")
    (tmp_path / f"{names[1]}.py").write_text(LEGACY, encoding="utf-8")
    # The settings of the migrations page, with module names of this test's own.
    documented = DOCUMENTED.read_text(encoding="utf-8")
    assert '"app.models"' in documented
    assert '"legacy.models"' in documented
    documented = documented.replace('"app.models"', f'"{names[0]}"')
    (tmp_path / "pyproject.toml").write_text(
        documented.replace('"legacy.models"', f'"{names[1]}"'), encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    for variable in ("DATABASE_URL", "BATTERIES_MODELS", "BATTERIES_MIGRATIONS"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("BATTERIES_DATABASE_URL", other_backend.url)
    monkeypatch.setenv("BATTERIES_DATABASES__LEGACY__URL", backend.url)
    yield tmp_path
    for name in names:
        sys.modules.pop(name, None)


def _migrate_both(root: Path) -> None:
    assert migrate.init().resolve() == (root / "migrations").resolve()
    assert migrate.init(database="legacy").resolve() == (root / "legacy_migrations").resolve()
    for database in ("default", "legacy"):
        assert migrate.make_migration("create tables", database=database) is not None
        migrate.upgrade(database=database)
        assert migrate.check(database=database) == []


async def _tables(database: Database) -> set[str]:
    async with database.connect() as connection:
        names = await connection.run_sync(lambda c: inspect(c).get_table_names())
    return set(names)


async def _seed(database: Database) -> None:
    async with database.connect() as connection:
        await connection.execute(
            text("INSERT INTO author (id, name) VALUES (1, 'Ann'), (2, 'Bob'), (3, 'Cy')")
        )
        await connection.execute(
            text(
                "INSERT INTO book (id, title, year, author_id, sequel_of_id) VALUES "
                "(1, 'Old', 1990, 1, NULL), (2, 'Newer', 2005, 2, 1), (3, 'Other', 1970, 3, NULL)"
            )
        )
        await connection.execute(
            text("INSERT INTO legacy_note (id, book_id, body) VALUES (1, 2, 'x')")
        )
        await connection.commit()


def _records(path: Path) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return records


async def test_each_database_migrates_on_its_own_and_a_subset_moves_between_them(
    project: Path,
) -> None:
    _migrate_both(project)
    registry = DatabaseRegistry()
    try:
        legacy, default = registry.get("legacy"), registry.get("default")
        # Each database follows its own models and migrations folder and version table.
        assert await _tables(legacy) == {"alembic_version_legacy", "author", "book", "legacy_note"}
        assert await _tables(default) == {"alembic_version", "author", "book"}
        await _seed(legacy)

        subset = project / "subset.json"
        await dump(
            "legacy", subset, tables=["book"], where={"book": "year >= 2000"}, with_related=True
        )
        # Book 2 and the book it is a sequel of, and their authors: not Cy's book, nor notes.
        assert [(r["table"], r["pk"]) for r in _records(subset)] == [
            ("author", 1),
            ("author", 2),
            ("book", 1),
            ("book", 2),
        ]
        report = await load("default", subset)
        assert (report.tables["author"].inserted, report.tables["book"].inserted) == (2, 2)
        again = project / "again.json"
        await dump("default", again)  # the project's models: author and book
        assert again.read_bytes() == subset.read_bytes()
    finally:
        await registry.dispose_all()


def test_the_command_line_migrates_each_database_and_moves_a_subset(project: Path) -> None:
    import asyncio

    def cli(*args: str) -> str:
        result = runner.invoke(fastapi_batteries, list(args))
        assert result.exit_code == 0, result.output + result.stderr
        return result.output + result.stderr

    for database in ("default", "legacy"):
        cli("db", "init", "--database", database)
        cli("db", "makemigrations", "-m", "create tables", "--database", database)
        assert "Applied 1 revision" in cli("db", "upgrade", "--database", database)
        cli("db", "check", "--database", database)
    assert len(list((project / "legacy_migrations" / "versions").glob("*.py"))) == 1
    assert len(list((project / "migrations" / "versions").glob("*.py"))) == 1
    # The deploy gate imports each database's own models and compares them with its migrations.
    checked = cli("config", "check")
    assert "models (legacy)" in checked
    assert "model changes of 'legacy'" in checked
    assert "FAIL" not in checked

    async def seed() -> None:
        registry = DatabaseRegistry()
        try:
            await _seed(registry.get("legacy"))
        finally:
            await registry.dispose_all()

    asyncio.run(seed())
    subset = project / "subset.json"
    result = runner.invoke(
        fastapi_batteries,
        [
            "fixtures",
            "dump",
            "--database",
            "legacy",
            "--where",
            "book:year >= 2000",
            "--with-related",
            "--exclude",
            "legacy_note",
            "-o",
            str(subset),
        ],
    )
    assert result.exit_code == 0, result.stderr
    result = runner.invoke(fastapi_batteries, ["fixtures", "load", str(subset), "-v"])
    assert result.exit_code == 0, result.stderr
    assert "book: 2 inserted" in result.stderr
    # legacy's own models hold legacy_note: a whole dump of legacy names it, default's does not.
    whole = project / "whole.json"
    assert (
        runner.invoke(
            fastapi_batteries, ["fixtures", "dump", "--database", "legacy", "-o", str(whole)]
        ).exit_code
        == 0
    )
    assert {r["table"] for r in _records(whole)} == {"author", "book", "legacy_note"}
    result = runner.invoke(fastapi_batteries, ["fixtures", "dump", "-o", str(whole)])
    assert result.exit_code == 0, result.stderr
    assert {r["table"] for r in _records(whole)} == {"author", "book"}
