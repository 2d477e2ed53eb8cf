"""A failed migration changes nothing, on SQLite as on PostgreSQL (issue 8, item 1)."""

from __future__ import annotations

import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect

import batteries_migrate as migrate
from batteries_migrate.exceptions import MigrationError
from batteries_models import Database

MODELS = """
from typing import ClassVar

from sqlalchemy import MetaData
from sqlmodel import Field

from batteries_models import NAMING_CONVENTION, BaseModel


class Base(BaseModel):
    metadata: ClassVar[MetaData] = MetaData(naming_convention=NAMING_CONVENTION)


class Team(Base, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str


class Hero(Base, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str
    team_id: int | None = Field(default=None, foreign_key="team.id", ondelete="CASCADE")
"""

REVISION = '''"""{message}"""

import sqlalchemy as sa
from alembic import op

revision = {revision!r}
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
{body}


def downgrade() -> None:
    pass
'''


class Project:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.base: str = ""

    def write(self, body: str, message: str = "half done") -> Path:
        revision = uuid.uuid4().hex[:12]
        path = self.root / "migrations" / "versions" / f"{revision}_step.py"
        text = REVISION.format(
            message=message,
            revision=revision,
            down=self.base,
            body=textwrap.indent(textwrap.dedent(body).strip(), "    "),
        )
        path.write_text(text, encoding="utf-8")
        return path


@pytest.fixture
def project(backend: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    name = f"atomic_models_{uuid.uuid4().hex[:10]}"
    (tmp_path / f"{name}.py").write_text(MODELS, encoding="utf-8")
    monkeypatch.setenv("BATTERIES_MODELS", name)
    monkeypatch.setenv("BATTERIES_DATABASE_URL", backend.url)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    created = Project(tmp_path)
    migrate.init()
    revision = migrate.make_migration("create hero and team")
    assert revision is not None
    migrate.upgrade()
    created.base = revision.id
    yield created
    sys.modules.pop(name, None)


async def snapshot(database: Database) -> dict[str, Any]:
    """Everything a user could notice: tables, columns, indexes, rows, the recorded version."""

    def read(connection: Any) -> dict[str, Any]:
        inspector = inspect(connection)
        found: dict[str, Any] = {}
        for table in sorted(inspector.get_table_names()):
            columns = [
                (c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)
            ]
            indexes = sorted(i["name"] or "" for i in inspector.get_indexes(table))
            fks = sorted(str(fk["referred_table"]) for fk in inspector.get_foreign_keys(table))
            rows = connection.exec_driver_sql(f"SELECT * FROM {table} ORDER BY 1").all()
            found[table] = (columns, indexes, fks, [tuple(row) for row in rows])
        return found

    # A fresh connection: asyncpg's cached statement plans do not survive a schema change.
    await database.dispose()
    async with database.connect() as connection:
        return await connection.run_sync(read)


async def fill(database: Database) -> None:
    async with database.connect() as connection:
        await connection.exec_driver_sql("INSERT INTO team (id, name) VALUES (1, 'Avengers')")
        await connection.exec_driver_sql(
            "INSERT INTO hero (id, name, team_id) VALUES (1, 'Deadpond', 1), (2, 'Rusty', NULL)"
        )


FAILING_SECOND_STEPS = {
    "add column then fail": """
        op.add_column("hero", sa.Column("email", sa.String(), nullable=True))
        op.execute("UPDATE hero SET email = 'x'")
        op.execute("SELECT no_such_column FROM hero")
    """,
    "table rename then fail": """
        op.rename_table("hero", "heroes")
        op.create_index("ix_heroes_name", "heroes", ["name"])
        op.execute("SELECT no_such_column FROM heroes")
    """,
    "table copy then fail": """
        with op.batch_alter_table("hero", recreate="always") as batch_op:
            batch_op.alter_column("name", new_column_name="full_name")
        op.execute("UPDATE team SET name = 'X'")
        op.execute("SELECT no_such_column FROM hero")
    """,
    "parent table copy then fail": """
        # A table copy on SQLite (an ALTER on PostgreSQL) of a table that hero refers to.
        with op.batch_alter_table("team") as batch_op:
            batch_op.alter_column("name", existing_type=sa.String(), nullable=True)
        op.execute("UPDATE hero SET name = 'X'")
        raise RuntimeError("boom")
    """,
}


@pytest.mark.parametrize("body", FAILING_SECOND_STEPS.values(), ids=FAILING_SECOND_STEPS.keys())
async def test_a_failed_migration_changes_nothing_and_can_be_fixed(
    project: Project, database: Database, body: str
) -> None:
    await fill(database)
    before = await snapshot(database)
    path = project.write(body)

    with pytest.raises(MigrationError):
        migrate.upgrade()

    assert await snapshot(database) == before
    assert migrate.current() == (project.base,)
    # The user fixes the revision (drops the failing step) and upgrades again.
    text = path.read_text(encoding="utf-8").splitlines()
    path.write_text(
        "\n".join(line for line in text if "no_such_column" not in line and "boom" not in line),
        encoding="utf-8",
    )
    migrate.upgrade()
    assert migrate.current() != (project.base,)
    after = await snapshot(database)
    assert sum(len(table[3]) for table in after.values()) == sum(
        len(table[3]) for table in before.values()
    )  # every row survived the fixed migration, table copies included


async def test_a_later_failure_rolls_back_earlier_revisions_of_the_same_upgrade(
    project: Project, database: Database
) -> None:
    await fill(database)
    before = await snapshot(database)
    first = project.write('op.add_column("hero", sa.Column("email", sa.String()))', "add email")
    project.base = first.name.split("_")[0]
    project.write('op.execute("SELECT no_such_column FROM hero")', "broken")

    with pytest.raises(MigrationError) as raised:
        migrate.upgrade()

    assert "nothing was applied" in str(raised.value)
    assert await snapshot(database) == before


async def test_a_migration_that_leaves_a_dangling_foreign_key_is_refused(
    project: Project, database: Database
) -> None:
    await fill(database)
    before = await snapshot(database)
    project.write('op.execute("UPDATE hero SET team_id = 99")')

    with pytest.raises(MigrationError, match="hero"):
        migrate.upgrade()

    assert await snapshot(database) == before
