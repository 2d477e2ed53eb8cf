"""``batteries_lifespan(migrate=True, seed=[...])``: migrated and seeded before the app serves."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from sqlalchemy import inspect

import batteries_migrate
from backends import Backend
from batteries_models import Database, RefusedInProductionError
from batteries_models.fastapi import batteries_lifespan, get_registry
from demo_project import free_port, wait_until

MODELS = """
from typing import ClassVar

from sqlalchemy import MetaData
from sqlmodel import Field

from batteries_models import NAMING_CONVENTION, BaseModel


class Base(BaseModel):
    metadata: ClassVar[MetaData] = MetaData(naming_convention=NAMING_CONVENTION)


class Pet(Base, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str
"""
PETS = [
    {"table": "pet", "pk": 1, "fields": {"name": "Rex"}},
    {"table": "pet", "pk": 2, "fields": {"name": "Tom"}},
]


@pytest.fixture
def project(backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A project with a Pet model, its first migration written (not applied) and a fixture."""
    name = f"lifespan_models_{uuid.uuid4().hex[:10]}"
    (tmp_path / f"{name}.py").write_text(MODELS, encoding="utf-8")
    (tmp_path / "pets.json").write_text(json.dumps(PETS), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("BATTERIES_DATABASE_URL", backend.url)
    monkeypatch.setenv("BATTERIES_MODELS", name)
    for variable in ("DATABASE_URL", "BATTERIES_ENVIRONMENT"):
        monkeypatch.delenv(variable, raising=False)
    batteries_migrate.init()
    assert batteries_migrate.make_migration("create pet") is not None
    yield tmp_path
    sys.modules.pop(name, None)


def make_app(**options: Any) -> FastAPI:
    app = FastAPI(lifespan=batteries_lifespan(**options))

    @app.get("/pets")
    async def pets(request: Request) -> list[str]:
        async with get_registry(request).get().connect() as connection:
            rows = await connection.exec_driver_sql("SELECT name FROM pet ORDER BY id")
            return [row[0] for row in rows]

    return app


async def pet_names(app: FastAPI) -> list[str]:
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        response = await client.get("/pets")
        assert response.status_code == 200, response.text
        names: list[str] = response.json()
        return names


async def tables(database: Database) -> set[str]:
    async with database.connect() as connection:
        return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))


async def test_the_app_migrates_then_seeds_before_it_serves(project: Path) -> None:
    app = make_app(migrate=True, seed=["pets.json"])

    assert await pet_names(app) == ["Rex", "Tom"]
    assert await pet_names(app) == ["Rex", "Tom"]  # a restart changes nothing
    assert len(batteries_migrate.current()) == 1


async def test_production_refuses_to_migrate_or_seed_unless_forced(
    project: Path, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BATTERIES_ENVIRONMENT", "production")
    app = make_app(migrate=True, seed=["pets.json"])

    with pytest.raises(RefusedInProductionError, match="Refusing to migrate the database at"):
        async with app.router.lifespan_context(app):
            pass
    assert "pet" not in await tables(database)  # nothing was done

    assert await pet_names(make_app(migrate=True, seed=["pets.json"], force=True)) == ["Rex", "Tom"]


REVISION = '''"""{message}"""

import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
{body}
    op.execute("INSERT INTO applied (revision, pid) VALUES ('{revision}', pg_backend_pid())")


def downgrade() -> None:
    pass
'''
# The first revision waits (30 s at most) until another session waits for an advisory lock of
# this database: the second worker, blocked by the lock this upgrade holds. So the two upgrades
# truly overlap, however the machine schedules the two processes.
WAIT_FOR_THE_OTHER_WORKER = """
    op.create_table("applied", sa.Column("revision", sa.Text), sa.Column("pid", sa.Integer))
    op.execute(
        \"\"\"
        DO $$
        BEGIN
          FOR i IN 1..600 LOOP
            EXIT WHEN EXISTS (
              SELECT 1 FROM pg_locks
              WHERE locktype = 'advisory' AND NOT granted
                AND database = (SELECT oid FROM pg_database WHERE datname = current_database()));
            PERFORM pg_sleep(0.05);
          END LOOP;
        END $$
        \"\"\"
    )"""
WORKER_APP = """
from fastapi import FastAPI, Request
from batteries_models.fastapi import batteries_lifespan

app = FastAPI(lifespan=batteries_lifespan(migrate=True))


@app.get("/")
async def root() -> str:
    return "serving"
"""


async def test_two_workers_starting_at_once_apply_each_migration_once(
    backend: Backend,
    database: Database,
    tmp_path: Path,
    pycache: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if not backend.has_advisory_locks:
        pytest.skip("advisory locks are a PostgreSQL feature")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BATTERIES_DATABASE_URL", backend.url)
    batteries_migrate.init()
    versions = tmp_path / "migrations" / "versions"
    (versions / "r1_applied.py").write_text(
        REVISION.format(message="r1", revision="r1", down=None, body=WAIT_FOR_THE_OTHER_WORKER)
    )
    pet = '    op.create_table("pet", sa.Column("id", sa.Integer, primary_key=True))'
    (versions / "r2_pet.py").write_text(
        REVISION.format(message="r2", revision="r2", down="r1", body=pet)
    )
    (tmp_path / "worker.py").write_text(WORKER_APP, encoding="utf-8")
    env = {"BATTERIES_DATABASE_URL": backend.url, "PYTHONPYCACHEPREFIX": str(pycache)}

    await asyncio.to_thread(serve_two_workers, tmp_path, env)

    async with database.connect() as connection:
        result = await connection.exec_driver_sql("SELECT revision, pid FROM applied")
        applied = sorted(tuple(row) for row in result)
    assert [revision for revision, _ in applied] == ["r1", "r2"]  # each applied once
    assert len({pid for _, pid in applied}) == 1  # by one worker, in one upgrade
    assert batteries_migrate.current() == ("r2",)


def serve_two_workers(root: Path, env: dict[str, str]) -> None:
    """Start two uvicorn workers at once; return when both serve, after stopping them."""
    ports = [free_port(), free_port()]
    logs = [root / f"worker{port}.log" for port in ports]
    workers = []
    for port, log in zip(ports, logs, strict=True):
        with log.open("w") as output:
            command = [sys.executable, "-m", "uvicorn", "worker:app", "--port", str(port)]
            workers.append(
                subprocess.Popen(
                    command, cwd=root, env=env, stdout=output, stderr=subprocess.STDOUT
                )
            )
    try:
        for worker, port, log in zip(workers, ports, logs, strict=True):

            def serves(worker: Any = worker, port: int = port, log: Path = log) -> bool:
                assert worker.poll() is None, log.read_text()
                try:
                    return httpx.get(f"http://127.0.0.1:{port}/", timeout=5).json() == "serving"
                except httpx.TransportError:
                    return False

            wait_until(serves, f"the worker on port {port} to serve")
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait(timeout=60)
