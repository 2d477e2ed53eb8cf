"""batteries-migrate end to end, on SQLite and PostgreSQL: the user journeys of issue 4."""

from __future__ import annotations

import runpy
import sys
import textwrap
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect

import batteries_migrate as migrate
from backends import Backend
from batteries_migrate.exceptions import (
    DestructiveMigrationWarning,
    MigrationFailedError,
    MultipleHeadsError,
    NotInitialisedError,
    NotUpToDateError,
    OfflineBatchError,
    UnknownRevisionError,
)
from batteries_models import Database
from batteries_models.exceptions import DatabaseNotFoundError, DatabaseUnreachableError

MODELS_HEADER = """
import decimal
import enum
import uuid
from datetime import datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy import MetaData
from sqlmodel import Field

from batteries_models import NAMING_CONVENTION, BaseModel


class Base(BaseModel):
    # Each test module gets its own MetaData, with the project's naming convention.
    metadata: ClassVar[MetaData] = MetaData(naming_convention=NAMING_CONVENTION)
"""

HERO_V1 = """
class Hero(Base, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=50)
"""

HERO_V2 = """
class Hero(Base, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=50)
    nickname: str | None = None
"""


@dataclass
class Project:
    """A project folder with settings in the environment, as a user's shell would have."""

    root: Path
    url: str
    monkeypatch: pytest.MonkeyPatch
    modules: list[str] = field(default_factory=list)

    def models(self, body: str) -> str:
        """Write a models module, make it the configured one, and return its name."""
        name = f"models_{uuid.uuid4().hex[:10]}"
        source = MODELS_HEADER + textwrap.dedent(body)
        (self.root / f"{name}.py").write_text(source, encoding="utf-8")
        self.modules.append(name)
        self.monkeypatch.setenv("BATTERIES_MODELS", name)
        return name

    def revision_files(self) -> list[Path]:
        return sorted((self.root / "migrations" / "versions").glob("*.py"))


@pytest.fixture
def project(backend: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("BATTERIES_DATABASE_URL", backend.url)
    monkeypatch.setenv("BATTERIES_MIGRATIONS", "migrations")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    created = Project(tmp_path, backend.url, monkeypatch)
    yield created
    # Every revision a test wrote must at least import: its top level runs here.
    for path in sorted(tmp_path.glob("migrations/**/versions/*.py")):
        runpy.run_path(str(path))
    for name in created.modules:
        sys.modules.pop(name, None)


async def tables(database: Database) -> set[str]:
    async with database.connect() as connection:
        names = await connection.run_sync(lambda c: inspect(c).get_table_names())
    return set(names)


async def columns(database: Database, table: str) -> dict[str, dict[str, Any]]:
    async with database.connect() as connection:
        found = await connection.run_sync(lambda c: inspect(c).get_columns(table))
    return {column["name"]: column for column in found}


# ---------------------------------------------------------------- 1. fresh database


async def test_fresh_database_init_makemigrations_upgrade_current(
    project: Project, database: Database
) -> None:
    project.models(HERO_V1)

    folder = migrate.init()
    revision = migrate.make_migration("create hero")
    migrate.upgrade()

    assert (folder / "env.py").is_file()
    assert "postgres" not in (folder / "env.py").read_text()  # no URL copied into env.py
    assert revision is not None
    assert await tables(database) == {"hero", "alembic_version"}
    assert migrate.current() == (revision.id,)
    assert [head.id for head in migrate.heads()] == [revision.id]


async def test_makemigrations_writes_nothing_without_changes(
    project: Project, database: Database
) -> None:
    project.models(HERO_V1)
    migrate.init()
    migrate.make_migration("create hero")
    migrate.upgrade()

    assert migrate.make_migration("nothing changed") is None
    assert len(project.revision_files()) == 1


async def test_plan_lists_what_upgrade_and_downgrade_would_run(
    project: Project, database: Database
) -> None:
    project.models(HERO_V1)
    migrate.init()
    first = migrate.make_migration("create hero")
    migrate.upgrade()
    project.models(HERO_V2)
    second = migrate.make_migration("add power")
    assert first is not None
    assert second is not None

    assert [r.id for r in migrate.plan()] == [second.id]
    assert [r.id for r in migrate.plan("base", downgrade=True)] == [first.id]
    migrate.upgrade()
    assert migrate.plan() == []
    assert [r.message for r in migrate.plan("base", downgrade=True)] == ["add power", "create hero"]
    assert [r.id for r in migrate.plan("-1", downgrade=True)] == [second.id]
    assert migrate.current() == (second.id,)  # planning changed nothing


# ---------------------------------------------------------------- 2. add a column


async def test_added_column_is_detected_imported_and_round_trips(
    project: Project, database: Database
) -> None:
    project.models(HERO_V1)
    migrate.init()
    migrate.make_migration("create hero")
    migrate.upgrade()

    project.models(HERO_V2)
    revision = migrate.make_migration("add nickname")
    assert revision is not None
    source = revision.path.read_text()
    assert "add_column" in source
    assert "sqlmodel.sql.sqltypes.AutoString" in source
    compile(source, str(revision.path), "exec")  # the file imports what it uses

    migrate.upgrade()
    assert "nickname" in await columns(database, "hero")
    migrate.downgrade("-1")
    assert "nickname" not in await columns(database, "hero")
    migrate.upgrade()
    assert "nickname" in await columns(database, "hero")
    assert migrate.current() == (revision.id,)


# ---------------------------------------------------------------- 3. type and nullable


async def test_type_and_nullable_change_is_detected_and_applied(
    project: Project, database: Database
) -> None:
    project.models(HERO_V1)
    migrate.init()
    migrate.make_migration("create hero")
    migrate.upgrade()
    async with database.connect() as connection:
        await connection.exec_driver_sql("INSERT INTO hero (name) VALUES ('Deadpond')")

    project.models("""
        class Hero(Base, table=True):
            id: int | None = Field(default=None, primary_key=True)
            name: str | None = Field(default=None, max_length=200)
    """)
    revision = migrate.make_migration("widen name")
    assert revision is not None
    source = revision.path.read_text()
    assert "alter_column" in source
    assert "length=200" in source
    assert "nullable=True" in source

    migrate.upgrade()  # on SQLite: a batch ALTER, the table is copied

    name = (await columns(database, "hero"))["name"]
    assert name["nullable"] is True
    assert name["type"].length == 200
    async with database.connect() as connection:
        rows = (await connection.exec_driver_sql("SELECT name FROM hero")).all()
    assert rows == [("Deadpond",)]  # the copy kept the data


# ---------------------------------------------------------------- 4. drift


async def test_check_lists_drift_and_passes_when_in_sync(
    project: Project, database: Database
) -> None:
    project.models(HERO_V1)
    migrate.init()
    migrate.make_migration("create hero")
    migrate.upgrade()
    assert migrate.check() == []

    project.models(HERO_V2)

    assert migrate.check() == ["add column hero.nickname (VARCHAR, nullable)"]


async def test_check_refuses_a_database_behind_head(project: Project, database: Database) -> None:
    project.models(HERO_V1)
    migrate.init()
    migrate.make_migration("create hero")
    migrate.upgrade()
    migrate.make_migration("later", empty=True)

    with pytest.raises(NotUpToDateError, match="run upgrade"):
        migrate.check()


# ---------------------------------------------------------------- 5. two heads


def _parallel_revision(project: Project, down_revision: str, message: str) -> str:
    """A revision written on another branch, as a teammate's merge would bring it."""
    rev = uuid.uuid4().hex[:12]
    path = project.root / "migrations" / "versions" / f"{rev}_{message.replace(' ', '_')}.py"
    path.write_text(
        f'"""{message}"""\n\nrevision = {rev!r}\ndown_revision = {down_revision!r}\n'
        "branch_labels = None\ndepends_on = None\n\n\n"
        "def upgrade() -> None:\n    pass\n\n\ndef downgrade() -> None:\n    pass\n",
        encoding="utf-8",
    )
    return rev


async def test_two_heads_refuse_upgrade_until_merged(project: Project, database: Database) -> None:
    project.models(HERO_V1)
    migrate.init()
    base = migrate.make_migration("create hero")
    assert base is not None
    ours = migrate.make_migration("ours", empty=True)
    assert ours is not None
    theirs = _parallel_revision(project, base.id, "theirs")

    assert {head.id for head in migrate.heads()} == {ours.id, theirs}
    assert [point.id for point in migrate.branches()] == [base.id]
    before = await tables(database)
    with pytest.raises(MultipleHeadsError, match="merge") as raised:
        migrate.upgrade()
    assert set(raised.value.heads) == {ours.id, theirs}
    assert await tables(database) == before  # refused before touching the database
    assert migrate.current() == ()

    merged = migrate.merge()
    migrate.upgrade()

    assert set(merged.down_revisions) == {ours.id, theirs}
    assert migrate.current() == (merged.id,)
    assert [head.id for head in migrate.heads()] == [merged.id]


# ---------------------------------------------------------------- 6. --sql dry run


async def test_upgrade_sql_prints_sql_and_changes_nothing(
    project: Project, database: Database
) -> None:
    project.models(HERO_V1)
    migrate.init()
    first = migrate.make_migration("create hero")
    assert first is not None

    before = await tables(database)

    sql = migrate.upgrade(sql=True)

    assert sql is not None
    assert "CREATE TABLE hero" in sql
    assert await tables(database) == before
    assert "hero" not in before
    assert migrate.current() == ()


async def test_upgrade_sql_starts_at_the_current_revision(
    project: Project, database: Database
) -> None:
    project.models(HERO_V1)
    migrate.init()
    migrate.make_migration("create hero")
    migrate.upgrade()
    project.models(HERO_V2)
    second = migrate.make_migration("add nickname")
    assert second is not None

    sql = migrate.upgrade(sql=True)

    assert sql is not None
    assert "CREATE TABLE hero" not in sql
    assert "nickname" in sql
    assert "nickname" not in await columns(database, "hero")
    assert migrate.current() != (second.id,)


async def test_downgrade_sql_changes_nothing(project: Project, database: Database) -> None:
    project.models(HERO_V1)
    migrate.init()
    migrate.make_migration("create hero")
    migrate.upgrade()

    sql = migrate.downgrade("-1", sql=True)

    assert sql is not None
    assert "DROP TABLE hero" in sql
    assert "hero" in await tables(database)


# ---------------------------------------------------------------- 7. column types


async def test_enum_uuid_json_decimal_and_aware_datetime_round_trip(
    project: Project, database: Database
) -> None:
    module = project.models("""
        class Mood(str, enum.Enum):
            HAPPY = "happy"
            GRUMPY = "grumpy"


        class Event(Base, table=True):
            id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
            mood: Mood = Mood.HAPPY
            payload: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
            price: decimal.Decimal = Field(max_digits=12, decimal_places=4)
            at: datetime
    """)
    migrate.init()
    revision = migrate.make_migration("create event")
    assert revision is not None
    migrate.upgrade()

    models = sys.modules[module]
    from datetime import UTC, datetime

    from sqlmodel import select

    event = models.Event(
        mood=models.Mood.GRUMPY,
        payload={"a": [1, 2]},
        price="12.3456",
        at=datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
    )
    async with database.session() as session:
        session.add(event)
    async with database.session() as session:
        loaded = (await session.exec(select(models.Event))).one()
    assert loaded.mood is models.Mood.GRUMPY
    assert loaded.payload == {"a": [1, 2]}
    assert str(loaded.price) == "12.3456"
    assert loaded.at == event.at
    assert migrate.check() == []

    # Down and up again: on PostgreSQL the ENUM type must not be left behind.
    async with database.connect() as connection:
        await connection.exec_driver_sql("DELETE FROM event")
    migrate.downgrade("base")
    assert await tables(database) == {"alembic_version"}
    migrate.upgrade()
    assert "event" in await tables(database)


# Warnings are errors here: SQLAlchemy's "Cannot correctly sort tables" must not be issued.
async def test_tables_that_refer_to_each_other_migrate_both_ways(
    project: Project, database: Database
) -> None:
    project.models("""
        class Team(Base, table=True):
            id: int | None = Field(default=None, primary_key=True)
            captain_id: int | None = Field(default=None, foreign_key="member.id")


        class Member(Base, table=True):
            id: int | None = Field(default=None, primary_key=True)
            team_id: int | None = Field(default=None, foreign_key="team.id")
    """)
    migrate.init()
    assert migrate.make_migration("create team and member") is not None
    migrate.upgrade()
    assert await tables(database) == {"alembic_version", "team", "member"}
    async with database.connect() as connection:
        keys = await connection.run_sync(
            lambda c: {t: inspect(c).get_foreign_keys(t) for t in ("team", "member")}
        )
    assert [k["referred_table"] for k in keys["team"]] == ["member"]
    assert [k["referred_table"] for k in keys["member"]] == ["team"]
    assert migrate.check() == []
    migrate.downgrade("base")
    assert await tables(database) == {"alembic_version"}
    migrate.upgrade()
    assert migrate.check() == []


# ---------------------------------------------------------------- 8. errors


def test_no_migrations_folder_says_to_run_init(project: Project) -> None:
    project.models(HERO_V1)

    with pytest.raises(NotInitialisedError, match="run `fastapi-batteries db init`") as raised:
        migrate.upgrade()

    assert "\n" not in str(raised.value)
    assert not (project.root / "migrations").exists()


async def test_unknown_revision_is_one_line_and_changes_nothing(
    project: Project, database: Database
) -> None:
    project.models(HERO_V1)
    migrate.init()
    migrate.make_migration("create hero")

    before = await tables(database)

    with pytest.raises(UnknownRevisionError, match="'nope'") as raised:
        migrate.upgrade("nope")

    assert "\n" not in str(raised.value)
    assert await tables(database) == before
    assert migrate.current() == ()


async def test_dropping_a_table_warns_loudly(project: Project, database: Database) -> None:
    project.models(HERO_V1)
    migrate.init()
    migrate.make_migration("create hero")
    migrate.upgrade()
    project.models("""
        class Villain(Base, table=True):
            id: int | None = Field(default=None, primary_key=True)
    """)

    with pytest.warns(DestructiveMigrationWarning, match="DROPS table hero") as caught:
        revision = migrate.make_migration("replace hero")

    assert revision is not None
    assert caught[0].message.dropped == ("table hero",)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+asyncpg://hero:s3cr%25et@127.0.0.1:1/nowhere",
        "sqlite+aiosqlite:////nonexistent-folder/s3cr%25et/app.db",
    ],
    ids=["postgresql", "sqlite"],
)
def test_unreachable_database_masks_the_password(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BATTERIES_DATABASE_URL", url)
    migrate.init()

    with pytest.raises(
        DatabaseUnreachableError, match="check that the server is running"
    ) as raised:
        migrate.upgrade()

    message = str(raised.value)
    assert "\n" not in message
    if "postgresql" in url:
        assert "s3cr" not in message
        assert "***" in message


async def test_sql_dry_run_of_an_alter_column(
    project: Project, database: Database, backend: Any
) -> None:
    project.models(HERO_V1)
    migrate.init()
    migrate.make_migration("create hero")
    migrate.upgrade()
    project.models("""
        class Hero(Base, table=True):
            id: int | None = Field(default=None, primary_key=True)
            name: str | None = Field(default=None, max_length=200)
    """)
    migrate.make_migration("widen name")

    sql = migrate.upgrade(sql=True)

    assert sql is not None
    if backend.alters_by_copying_tables:
        # A batch ALTER needs the live table: the SQL comes from running it on a copy.
        assert "dry run on a copy" in sql
        assert "CREATE TABLE _alembic_tmp_hero" in sql
        assert "BEGIN IMMEDIATE" not in sql  # our transaction, not part of the change
        assert "VARCHAR(200)" in sql
    else:
        assert "ALTER TABLE hero ALTER COLUMN name TYPE VARCHAR(200)" in sql
    assert (await columns(database, "hero"))["name"]["nullable"] is False
    assert migrate.current() != (migrate.heads()[0].id,)
    if backend.alters_by_copying_tables:
        # An explicit range cannot be run on a copy: a clear refusal instead.
        with pytest.raises(OfflineBatchError, match="copy the database file"):
            migrate.upgrade(f"{migrate.current()[0]}:head", sql=True)


# ---------------------------------------------------------------- named databases


async def test_named_database_has_its_own_folder_and_version_table(
    project: Project, database: Database, backend: Any
) -> None:
    project.models(HERO_V1)
    project.monkeypatch.setenv("BATTERIES_DATABASES__ANALYTICS__URL", backend.url)

    folder = migrate.init(database="analytics")
    revision = migrate.make_migration("create hero", database="analytics")
    migrate.upgrade(database="analytics")

    assert folder == Path("migrations") / "analytics"
    assert revision is not None
    assert revision.path.parent == (project.root / "migrations" / "analytics" / "versions")
    assert await tables(database) == {"hero", "alembic_version_analytics"}
    assert migrate.current(database="analytics") == (revision.id,)
    with pytest.raises(NotInitialisedError, match="db init"):
        migrate.current()  # the default database has no migrations folder yet


# ---------------------------------------------------------------- stamp, show, history


async def test_stamp_show_and_history(
    project: Project, database: Database, backend: Backend
) -> None:
    project.models(HERO_V1)
    migrate.init()
    first = migrate.make_migration("create hero")
    second = migrate.make_migration("later", empty=True)
    assert first is not None
    assert second is not None

    assert [r.id for r in migrate.history()] == [second.id, first.id]
    assert migrate.show(first.id)[0].message == "create hero"
    with pytest.raises(UnknownRevisionError):
        migrate.show("deadbeef")

    sql = migrate.stamp("head", sql=True)
    assert sql is not None
    assert second.id in sql
    if backend.database_is_a_file:  # not even created
        with pytest.raises(DatabaseNotFoundError):
            migrate.current()
    else:
        assert migrate.current() == ()

    migrate.stamp(first.id)  # recorded, not run
    assert migrate.current() == (first.id,)
    assert "hero" not in await tables(database)
    assert [r.id for r in migrate.show("current")] == [first.id]


# ---------------------------------------------------------------- concurrency


async def test_concurrent_upgrades_in_one_process_apply_each_revision_once(
    project: Project, database: Database
) -> None:
    import asyncio

    project.models(HERO_V1)
    migrate.init()
    revision = migrate.make_migration("create hero")
    assert revision is not None

    # Four callers at once: the process lock serialises them, the later ones find head.
    await asyncio.gather(*(asyncio.to_thread(migrate.upgrade) for _ in range(4)))

    assert migrate.current() == (revision.id,)
    assert "hero" in await tables(database)


async def test_postgresql_upgrade_waits_for_the_advisory_lock(
    project: Project, database: Database, backend: Any
) -> None:
    if not backend.has_advisory_locks:
        pytest.skip("advisory locks are a PostgreSQL feature; SQLite serialises writers itself")
    project.models(HERO_V1)
    migrate.init()
    revision = migrate.make_migration("create hero")
    assert revision is not None
    key = migrate.resolve_target().lock_key
    name = database.url.database
    # New connections give up after 200 ms instead of waiting: the wait shows as an error.
    async with database.connect() as connection:
        await connection.exec_driver_sql(f"ALTER DATABASE \"{name}\" SET lock_timeout = '200ms'")
    try:
        async with database.connect() as holder:  # another worker, mid-upgrade
            await holder.exec_driver_sql(f"SELECT pg_advisory_xact_lock({key})")
            with pytest.raises(MigrationFailedError, match="lock timeout"):
                migrate.upgrade()
        assert "hero" not in await tables(database)
    finally:
        async with database.connect() as connection:
            await connection.exec_driver_sql(f'ALTER DATABASE "{name}" RESET lock_timeout')

    migrate.upgrade()  # the lock is free again
    assert migrate.current() == (revision.id,)


# ---------------------------------------------------------------- an existing alembic.ini


async def test_plain_alembic_with_an_ini_uses_the_same_env(
    project: Project, database: Database
) -> None:
    from alembic.config import main as alembic_main

    project.models(HERO_V1)
    migrate.init()
    (project.root / "alembic.ini").write_text(
        "[alembic]\nscript_location = %(here)s/migrations\npath_separator = os\n"
        "file_template = legacy_%%(rev)s\n",
        encoding="utf-8",
    )

    revision = migrate.make_migration("create hero")  # ours, honouring the ini
    alembic_main(["-c", "alembic.ini", "upgrade", "head"])  # theirs, with our env.py

    assert revision is not None
    assert revision.path.name == f"legacy_{revision.id}.py"
    assert "hero" in await tables(database)
    assert migrate.current() == (revision.id,)
