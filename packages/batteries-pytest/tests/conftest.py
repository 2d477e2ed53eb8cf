"""The plugin's tests run real test modules, in a throwaway project, in a pytest of their own.

``project`` writes the project (models, an app, a fixture file, pyproject.toml) into pytester's
folder; ``project.run(...)`` runs pytest there in a subprocess, as a user would, with
``DATABASE_URL`` pointing at the backend of the test. Each test gets its own configured database
name on PostgreSQL, so its test database (``<name>_test``) is its own; afterwards the test checks
that no test database was left behind.
"""

from __future__ import annotations

import asyncio
import os
import textwrap
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import asyncpg
import pytest
from sqlalchemy.engine import make_url

POSTGRES_URL = os.environ.get(
    "BATTERIES_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)

PYPROJECT = """
[tool.pytest.ini_options]
asyncio_mode = "auto"
addopts = ["-p", "no:randomly"]
pythonpath = ["."]
filterwarnings = ["error"]
{ini}
[tool.batteries]
models = "models"
app = "main:app"
"""

MODELS = """
from sqlmodel import Field

from batteries_models import BaseModel, IntIDMixin


class Hero(BaseModel, IntIDMixin, table=True):
    name: str = Field(unique=True)
"""

APP = """
from fastapi import FastAPI
from sqlmodel import select

from batteries_models.fastapi import SessionDep, batteries_lifespan
from models import Hero

app = FastAPI(lifespan=batteries_lifespan())


@app.post("/heroes/{name}", status_code=201)
async def create(name: str, session: SessionDep) -> dict[str, str]:
    session.add(Hero(name=name))
    await session.commit()
    return {"name": name}


@app.get("/heroes")
async def names(session: SessionDep) -> list[str]:
    return list((await session.exec(select(Hero.name).order_by(Hero.name))).all())
"""

HEROES = """[
{"table": "hero", "pk": 1, "fields": {"name": "Deadpond"}},
{"table": "hero", "pk": 2, "fields": {"name": "Spider-Boy"}}
]
"""


async def _admin(sql: str, database: str | None = None) -> list[tuple[object, ...]]:
    # asyncpg is imported with this module, not here: pytester removes the modules a test
    # imported when it ends, and importing asyncpg's extension modules again crashes.
    url = make_url(POSTGRES_URL)
    connection = await asyncpg.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        database=database or url.database or "postgres",
        timeout=5,
    )
    try:
        return [tuple(row) for row in await connection.fetch(sql)]
    finally:
        await connection.close()


def postgres_databases(prefix: str) -> list[str]:
    """Names of the server's databases that start with ``prefix``."""
    rows = asyncio.run(_admin(f"SELECT datname FROM pg_database WHERE datname LIKE '{prefix}%'"))
    return sorted(str(row[0]) for row in rows)


@dataclass
class Project:
    """A throwaway project and how to run pytest in it."""

    pytester: pytest.Pytester
    backend: str
    url: str
    prefix: str
    environment: dict[str, str] = field(default_factory=dict)

    def write(self, **files: str) -> None:
        """Write files (``test_x="..."``), dedented; names may contain ``/``."""
        for name, content in files.items():
            path = self.pytester.path / (name if "." in name else f"{name}.py")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(content).lstrip(), encoding="utf-8")

    def ini(self, text: str) -> None:
        """Replace the extra lines of ``[tool.pytest.ini_options]``."""
        if "asyncio_default_fixture_loop_scope" not in text:
            text = f'asyncio_default_fixture_loop_scope = "function"\n{text}'
        (self.pytester.path / "pyproject.toml").write_text(PYPROJECT.format(ini=text))

    def run(self, *args: str) -> pytest.RunResult:
        """Run pytest in the project, in a new process, as a user would."""
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("DATABASE_URL", self.url)
            for name, value in self.environment.items():
                patch.setenv(name, value)
            return self.pytester.runpytest_subprocess(*args)

    @staticmethod
    def output(result: pytest.RunResult) -> str:
        """The run's output, for assertion messages."""
        return "\n".join(result.outlines + result.errlines)

    def admin(self, sql: str, database: str | None = None) -> list[tuple[object, ...]]:
        """Run ``sql`` on the PostgreSQL server (in ``database``, else the maintenance one)."""
        return asyncio.run(_admin(sql, database))

    def test_databases(self) -> list[str]:
        """The test databases left behind: PostgreSQL databases, or SQLite files."""
        if self.backend == "postgresql":
            return postgres_databases(self.prefix)
        return sorted(str(p) for p in self.pytester.path.rglob("*_test.db"))


@pytest.fixture(scope="session")
def bytecode_cache(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One bytecode cache for every inner run: this machine may set PYTHONDONTWRITEBYTECODE."""
    return str(tmp_path_factory.mktemp("pycache"))


@pytest.fixture(params=["sqlite", "postgresql"])
def project(
    request: pytest.FixtureRequest,
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    bytecode_cache: str,
) -> Iterator[Project]:
    """A project with a Hero model, an app and heroes.json, on the test's backend."""
    for name in list(os.environ):
        # An outer run under xdist (make stress) must not name the inner run's databases.
        if name.startswith(("PYTEST_XDIST", "BATTERIES_")) or name == "PYTEST_ADDOPTS":
            monkeypatch.delenv(name)
    prefix = f"bp_{uuid.uuid4().hex[:10]}"
    if request.param == "postgresql":
        try:
            postgres_databases(prefix)
        except (OSError, TimeoutError) as exc:
            reason = f"PostgreSQL at {make_url(POSTGRES_URL)!r} is unreachable: {exc}"
            if os.environ.get("CI"):
                pytest.fail(f"{reason} (CI=true: the PostgreSQL half must run)")
            pytest.skip(reason)
        url = make_url(POSTGRES_URL).set(database=prefix).render_as_string(hide_password=False)
    else:
        url = f"sqlite+aiosqlite:///{pytester.path / f'{prefix}.db'}"
    found = Project(pytester, request.param, url, prefix, {"PYTHONPYCACHEPREFIX": bytecode_cache})
    found.ini("")
    found.write(models=MODELS, main=APP, **{"heroes.json": HEROES})
    yield found
    if request.param == "postgresql":
        for name in postgres_databases(prefix):
            asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
