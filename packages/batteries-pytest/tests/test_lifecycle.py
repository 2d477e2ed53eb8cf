"""The test database of a run: made only when asked for, named, kept or dropped, refused."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    from conftest import Project

# Records what the run found, for the outer test to read: was the database kept from an earlier
# run (a table made by that run is still there), and which columns does `hero` have?
STATE = """
import json
from pathlib import Path

import pytest
from sqlalchemy import inspect


@pytest.mark.batteries_db(transaction=True)
async def test_state(batteries_test_database, db_connection):
    def look(sync):
        found = inspect(sync)
        return {
            "kept": found.has_table("keepsake"),
            "columns": sorted(c["name"] for c in found.get_columns("hero")),
        }

    state = await db_connection.run_sync(look)
    state["reused"] = batteries_test_database.reused
    state["schema"] = batteries_test_database.schema
    await db_connection.exec_driver_sql("CREATE TABLE IF NOT EXISTS keepsake (id INTEGER)")
    await db_connection.commit()
    Path("state.json").write_text(json.dumps(state))
"""

REVISION = '''
"""{message}"""
import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
    {upgrade}


def downgrade() -> None:
    {downgrade}
'''

ENV = """
from alembic import context

from batteries_migrate.environment import run_env

run_env(context, compare_type=True, compare_server_default=True)
"""

CREATE_HERO = (
    'op.create_table("hero", sa.Column("id", sa.Integer, primary_key=True), '
    'sa.Column("name", sa.String, nullable=False, unique=True))'
)


def _state(project: Project, *args: str) -> dict[str, Any]:
    result = project.run(*args)
    assert result.ret == 0, project.output(result)
    state: dict[str, Any] = json.loads((project.pytester.path / "state.json").read_text())
    return state


def _migrations(project: Project, *revisions: tuple[str, str | None, str, str]) -> None:
    # The env.py `fastapi-batteries db init` writes. Written here, not by init(): importing
    # Alembic in this process would leave pytester to unload half of SQLAlchemy afterwards.
    versions = project.pytester.path / "migrations" / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    (versions.parent / "env.py").write_text(ENV)
    for revision, down, upgrade, downgrade in revisions:
        text = REVISION.format(
            message=revision, revision=revision, down=down, upgrade=upgrade, downgrade=downgrade
        )
        (versions / f"{revision}.py").write_text(text)


def test_a_project_that_does_not_ask_touches_no_database(project: Project) -> None:
    project.write(
        test_plain="""
        import sys


        def test_the_plugin_is_loaded(request):
            assert request.config.pluginmanager.has_plugin("batteries")


        def test_sync():
            assert "sqlalchemy" not in sys.modules


        async def test_async():
            assert "sqlalchemy" not in sys.modules


        class TestAClass:
            def test_method(self):
                assert "batteries_models" not in sys.modules
        """
    )
    result = project.run()
    assert result.ret == 0, project.output(result)
    result.assert_outcomes(passed=4)
    assert project.test_databases() == []


def test_reuse_db_keeps_the_database_and_migrates_it_when_the_head_moved(
    project: Project,
) -> None:
    _migrations(project, ("0001", None, CREATE_HERO, 'op.drop_table("hero")'))
    project.write(test_state=STATE)
    first = _state(project, "--reuse-db")
    assert first == {
        "kept": False,
        "columns": ["id", "name"],
        "reused": False,
        "schema": "migrations",
    }
    assert len(project.test_databases()) == 1

    again = _state(project, "--reuse-db")
    assert (again["kept"], again["reused"]) == (True, True)

    _migrations(
        project,
        (
            "0002",
            "0001",
            'op.add_column("hero", sa.Column("power", sa.String, nullable=True))',
            'op.drop_column("hero", "power")',
        ),
    )
    moved = _state(project, "--reuse-db")
    assert (moved["kept"], moved["reused"], moved["columns"]) == (
        True,
        True,
        ["id", "name", "power"],
    )

    fresh = _state(project, "--reuse-db", "--create-db")
    assert (fresh["kept"], fresh["reused"], fresh["columns"]) == (
        False,
        False,
        ["id", "name", "power"],
    )

    _state(project)  # without --reuse-db: made for the run and dropped after it
    assert project.test_databases() == []


def test_reuse_db_with_create_all_starts_again_when_the_models_changed(project: Project) -> None:
    project.write(test_state=STATE)
    assert _state(project, "--reuse-db")["schema"] == "create_all"
    assert _state(project, "--reuse-db")["kept"] is True
    models = project.pytester.path / "models.py"
    models.write_text(models.read_text() + "    power: str | None = None\n")
    changed = _state(project, "--reuse-db")
    assert (changed["kept"], changed["reused"]) == (False, False)
    assert changed["columns"] == ["id", "name", "power"]
    _state(project)
    assert project.test_databases() == []


def test_two_xdist_workers_get_a_database_each(project: Project) -> None:
    project.write(
        test_workers="""
        import os
        from pathlib import Path

        import pytest
        from sqlalchemy.engine import make_url


        @pytest.mark.parametrize("n", range(8))
        async def test_commits_in_its_own_database(n, client, batteries_test_database):
            # Every test adds the same hero: one shared database would see it twice.
            assert (await client.post("/heroes/Same")).status_code == 201
            assert (await client.get("/heroes")).json() == ["Same"]
            name = batteries_test_database.url.database
            Path(f"{os.environ['PYTEST_XDIST_WORKER']}.name").write_text(name)
        """
    )
    result = project.run("-n", "2")
    assert result.ret == 0, project.output(result)
    result.assert_outcomes(passed=8)
    names = {p.stem: Path(p.read_text()).name for p in project.pytester.path.glob("gw*.name")}
    expected = {f"gw{n}": f"{project.prefix}_gw{n}_test" for n in (0, 1)}
    if project.backend == "sqlite":
        expected = {worker: f"{name}.db" for worker, name in expected.items()}
    assert names == expected
    assert project.test_databases() == []


def _precious(project: Project, name: str) -> str:
    """A database that is not a test database, with one row in it; its URL."""
    script = "CREATE TABLE precious (id INTEGER); INSERT INTO precious VALUES (1)"
    if project.backend == "postgresql":
        project.admin(f'CREATE DATABASE "{name}"')
        for statement in script.split("; "):
            project.admin(statement, name)
        return make_url(project.url).set(database=name).render_as_string(hide_password=False)
    path = project.pytester.path / f"{name}.db"
    with sqlite3.connect(path) as connection:
        connection.executescript(script)
    connection.close()
    return f"sqlite+aiosqlite:///{path}"


def _rows(project: Project, name: str) -> list[tuple[object, ...]]:
    if project.backend == "postgresql":
        return project.admin("SELECT id FROM precious", name)
    with sqlite3.connect(project.pytester.path / f"{name}.db") as connection:
        rows = connection.execute("SELECT id FROM precious").fetchall()
    connection.close()
    return rows


def test_a_database_whose_name_does_not_end_in_test_is_refused(project: Project) -> None:
    name = f"{project.prefix}_keep"
    project.environment["BATTERIES_TEST_DATABASE_URL"] = _precious(project, name)
    project.write(
        test_uses_it="""
        async def test_one(db_session):
            pass


        async def test_two(client):
            pass
        """
    )
    result = project.run()
    assert result.ret != 0
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        [f"*Refusing to use database '{name}' (*) for tests: the plugin drops and re-creates it*"]
    )
    assert "Traceback" not in result.stdout.str()
    assert _rows(project, name) == [(1,)]


def test_an_explicit_test_database_is_used_as_named(project: Project) -> None:
    name = f"{project.prefix}_ci_test"
    url = make_url(project.url)
    explicit = url.set(database=str(project.pytester.path / f"{name}.db"))
    if project.backend == "postgresql":
        explicit = url.set(database=name)
    project.environment["BATTERIES_TEST_DATABASE_URL"] = explicit.render_as_string(
        hide_password=False
    )
    project.write(
        test_named="""
        async def test_named(batteries_test_database, client):
            assert batteries_test_database.url.database.endswith("_ci_test") or (
                batteries_test_database.url.database.endswith("_ci_test.db")
            )
            assert (await client.post("/heroes/Explicit")).status_code == 201
        """
    )
    result = project.run()
    assert result.ret == 0, project.output(result)
    assert project.test_databases() == []


@pytest.mark.parametrize("project", ["sqlite"], indirect=True)
@pytest.mark.parametrize("configured", ["sqlite+aiosqlite:///:memory:", "a file"])
def test_sqlite_in_memory_is_one_database_for_every_connection(
    project: Project, configured: str
) -> None:
    if configured == "a file":
        project.ini('batteries_sqlite = "memory"')
    else:
        project.url = configured
    project.write(
        test_memory="""
        import pytest
        from sqlmodel import select

        from batteries_models import DatabaseRegistry
        from models import Hero


        async def test_in_the_tests_transaction(client, batteries_test_database):
            assert batteries_test_database.url.database == "file::memory:"
            assert (await client.post("/heroes/Rolled")).status_code == 201


        @pytest.mark.batteries_db(transaction=True)
        async def test_another_connection_sees_the_same_database(client):
            assert (await client.post("/heroes/Shared")).status_code == 201
            registry = DatabaseRegistry()
            try:
                async with registry.get().session() as other:
                    assert [h.name for h in (await other.exec(select(Hero))).all()] == ["Shared"]
            finally:
                await registry.dispose_all()
        """
    )
    result = project.run()
    assert result.ret == 0, project.output(result)
    result.assert_outcomes(passed=2)
    assert project.test_databases() == []


@pytest.mark.parametrize("project", ["sqlite"], indirect=True)
def test_a_named_database_is_built_and_loaded_with_its_own_models(project: Project) -> None:
    project.ini('batteries_database = "archive"')
    project.environment["BATTERIES_DATABASES__ARCHIVE__URL"] = project.url
    project.environment["BATTERIES_DATABASES__ARCHIVE__MODELS"] = "archive_models"
    project.write(
        archive_models="""
        from batteries_models import BaseModel, IntIDMixin


        class Scroll(BaseModel, IntIDMixin, table=True):
            title: str
        """,
        **{"scrolls.json": '[{"table": "scroll", "pk": 1, "fields": {"title": "Iliad"}}]'},
        test_archive="""
        import pytest
        from sqlalchemy import inspect, text


        @pytest.mark.fixtures("scrolls.json")
        async def test_scrolls(db_session):
            connection = await db_session.connection()
            tables = await connection.run_sync(lambda c: inspect(c).get_table_names())
            assert tables == ["scroll"]  # archive's models, not the project's hero
            titles = await connection.execute(text("SELECT title FROM scroll"))
            assert titles.scalars().all() == ["Iliad"]
        """,
    )
    result = project.run()
    assert result.ret == 0, project.output(result)
    assert project.test_databases() == []
