"""Foreign-key cycles sort without SQLAlchemy's "Cannot correctly sort tables" warning."""

import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Column, ForeignKey, Integer, MetaData, Table

from batteries_models import Database, discover_models

CYCLE = """
from sqlalchemy import Column, ForeignKey, Integer, MetaData, Table

metadata = MetaData()
team = Table(
    "team", metadata,
    Column("id", Integer, primary_key=True),
    Column("captain_id", ForeignKey("hero.id")),
)
hero = Table(
    "hero", metadata,
    Column("id", Integer, primary_key=True),
    Column("team_id", ForeignKey("team.id")),
    Column("mentor_id", ForeignKey("hero.id")),
)
"""


@pytest.fixture
def cycle_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    name = f"cycle_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(CYCLE))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


def test_discovery_marks_one_key_of_the_cycle_and_the_tables_sort(cycle_module: str) -> None:
    found = discover_models(cycle_module)

    marked = [
        f"{table.name}.{','.join(fk.column_keys)}"
        for table in found.metadata.tables.values()
        for fk in table.foreign_key_constraints
        if fk.use_alter
    ]
    assert marked == ["hero.team_id"]  # the first by table and column name; one is enough
    assert [t.name for t in found.metadata.sorted_tables] == ["hero", "team"]  # warnings = errors


def test_a_key_the_models_mark_is_respected() -> None:
    metadata = MetaData()
    Table(
        "a", metadata, Column("id", Integer, primary_key=True), Column("b_id", ForeignKey("b.id"))
    )
    b = Table(
        "b",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("a_id", ForeignKey("a.id", use_alter=True)),
    )
    assert [t.name for t in metadata.sorted_tables] == ["b", "a"]
    assert [fk.use_alter for fk in b.foreign_key_constraints] == [True]


async def test_create_all_and_drop_all_on_sqlite_do_not_warn(tmp_path: Path) -> None:
    metadata = MetaData()
    Table(
        "a", metadata, Column("id", Integer, primary_key=True), Column("b_id", ForeignKey("b.id"))
    )
    Table(
        "b", metadata, Column("id", Integer, primary_key=True), Column("a_id", ForeignKey("a.id"))
    )
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'cycle.db'}")
    try:
        await database.create_all(metadata)
        await database.drop_all(metadata)  # warned "Can't sort tables for DROP" before
    finally:
        await database.dispose()
