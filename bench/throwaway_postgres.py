"""The PostgreSQL side of the benchmarks: where it is, and a throwaway database per run.

PostgreSQL comes from BATTERIES_BENCH_POSTGRES_URL, else BATTERIES_TEST_POSTGRES_URL, else
postgresql+asyncpg://postgres@127.0.0.1:5432/postgres.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.engine import make_url

from batteries_models import mask_url

POSTGRES_URL = os.environ.get(
    "BATTERIES_BENCH_POSTGRES_URL",
    os.environ.get(
        "BATTERIES_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
    ),
)


async def asyncpg_connect(url: str) -> Any:
    """A raw asyncpg connection to ``url``: the references measure the driver, not SQLAlchemy."""
    import asyncpg

    parsed = make_url(url)
    return await asyncpg.connect(
        host=parsed.host,
        port=parsed.port or 5432,
        user=parsed.username,
        password=parsed.password,
        database=parsed.database or "postgres",
        timeout=5,
    )


async def _admin(sql: str) -> None:
    conn = await asyncpg_connect(POSTGRES_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@asynccontextmanager
async def throwaway_database() -> AsyncIterator[str | None]:
    """The URL of a new database, dropped afterwards; ``None`` when PostgreSQL is unreachable."""
    name = f"batteries_bench_{uuid.uuid4().hex[:10]}"
    try:
        await _admin(f'CREATE DATABASE "{name}"')
    except Exception as exc:
        print(f"PostgreSQL skipped: {mask_url(POSTGRES_URL)} unreachable ({exc})", file=sys.stderr)
        yield None
        return
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
