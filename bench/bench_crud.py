"""BaseCRUD against hand-written SQLAlchemy 2 async code, on SQLite and PostgreSQL, same run.

    uv run python bench/bench_crud.py            # full run (a few minutes)
    uv run python bench/bench_crud.py --quick    # smoke run (seconds)

Each operation is timed as a batch of calls; the batch is repeated, each BaseCRUD batch right
after (or before, alternating) its reference batch. The table shows the median wall-clock time
per call of each side, and the median of the per-pair ratios BaseCRUD / reference, for wall-clock
and for process CPU time (a pair shares the machine's load, so its ratio is steadier than a ratio
of medians on a busy machine). The target is judged on the wall-clock ratio; the CPU ratio
excludes the PostgreSQL server's work, so it magnifies client-side differences there.
PostgreSQL comes from BATTERIES_BENCH_POSTGRES_URL (else BATTERIES_TEST_POSTGRES_URL, else
postgresql+asyncpg://postgres@127.0.0.1:5432/postgres); a throwaway database is created there.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel as Schema
from sqlalchemy import func, insert
from sqlmodel import Field, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from batteries_crud import BaseCRUD
from batteries_models import BaseModel, Database, IntIDMixin
from throwaway_postgres import throwaway_database


class BenchHero(BaseModel, IntIDMixin, table=True):
    __tablename__ = "bench_hero"
    name: str
    age: int = Field(index=True)
    team: str


BENCH_TABLE = BenchHero.__table__  # type: ignore[attr-defined]  # the Core Table, not the ORM entity


class BenchHeroCreate(Schema):
    name: str
    age: int
    team: str


class BenchHeroCRUD(BaseCRUD[BenchHero, BenchHeroCreate, BenchHeroCreate]):
    pass


@dataclass
class Sizes:
    rows: int  # rows in the table for reads
    calls: int  # calls per timed batch for the one-row operations
    repeats: int  # timed batches per side
    many: int  # rows per create_many
    page: int  # page number for paginate (20 rows a page)


FULL = Sizes(rows=20_000, calls=200, repeats=15, many=10_000, page=500)
QUICK = Sizes(rows=2_000, calls=20, repeats=3, many=1_000, page=50)
PAGE_SIZE = 20

Op = Callable[[AsyncSession], Awaitable[None]]


def payload(i: int) -> dict[str, Any]:
    return {"name": f"hero-{i}", "age": i % 90, "team": f"team-{i % 7}"}


# ---------------------------------------------------------------- the two sides of each operation


def get_by_pk(sizes: Sizes) -> tuple[Op, Op]:
    ids = list(range(1, sizes.calls + 1))

    async def hand(session: AsyncSession) -> None:
        for pk in ids:
            assert await session.get(BenchHero, pk) is not None

    async def crud(session: AsyncSession) -> None:
        heroes = BenchHeroCRUD(session)
        for pk in ids:
            assert await heroes.get(pk) is not None

    return hand, crud


def list_100_filtered(sizes: Sizes) -> tuple[Op, Op]:
    calls = max(sizes.calls // 10, 5)

    async def hand(session: AsyncSession) -> None:
        for _ in range(calls):
            statement = select(BenchHero).where(col(BenchHero.age) >= 45).limit(100)
            assert len((await session.exec(statement)).all()) == 100
            session.expunge_all()

    async def crud(session: AsyncSession) -> None:
        heroes = BenchHeroCRUD(session)
        for _ in range(calls):
            assert len(await heroes.list(age__gte=45, limit=100)) == 100
            session.expunge_all()

    return hand, crud


def create_one(sizes: Sizes) -> tuple[Op, Op]:
    async def hand(session: AsyncSession) -> None:
        for i in range(sizes.calls):
            hero = BenchHero.model_validate(BenchHeroCreate(**payload(i)))
            session.add(hero)
            await session.flush()

    async def crud(session: AsyncSession) -> None:
        heroes = BenchHeroCRUD(session)
        for i in range(sizes.calls):
            await heroes.create(BenchHeroCreate(**payload(i)))

    return hand, crud


def core_executemany(rows: list[dict[str, Any]]) -> Op:
    async def hand(session: AsyncSession) -> None:
        # The reference of the issue: a raw Core executemany, no RETURNING, no objects.
        await session.exec(insert(BENCH_TABLE), params=rows)

    return hand


def create_many_count(sizes: Sizes) -> tuple[Op, Op]:
    rows = [payload(i) for i in range(sizes.many)]

    async def crud(session: AsyncSession) -> None:
        assert await BenchHeroCRUD(session).create_many(rows, returning=False) == len(rows)

    return core_executemany(rows), crud


def create_many_objects(sizes: Sizes) -> tuple[Op, Op]:
    rows = [payload(i) for i in range(sizes.many)]

    async def crud(session: AsyncSession) -> None:
        assert len(await BenchHeroCRUD(session).create_many(rows)) == len(rows)

    return core_executemany(rows), crud


def create_many_objects_vs_orm(sizes: Sizes) -> tuple[Op, Op]:
    rows = [payload(i) for i in range(sizes.many)]

    async def hand(session: AsyncSession) -> None:
        # What hand-written code does to get the objects back: the unit of work.
        heroes = [BenchHero(**row) for row in rows]
        session.add_all(heroes)
        await session.flush()

    async def crud(session: AsyncSession) -> None:
        assert len(await BenchHeroCRUD(session).create_many(rows)) == len(rows)

    return hand, crud


def paginate_deep(sizes: Sizes) -> tuple[Op, Op]:
    offset = (sizes.page - 1) * PAGE_SIZE
    calls = max(sizes.calls // 20, 3)

    async def hand(session: AsyncSession) -> None:
        for _ in range(calls):
            statement = select(BenchHero).order_by(col(BenchHero.id))
            items = (await session.exec(statement.offset(offset).limit(PAGE_SIZE))).all()
            total = await session.scalar(select(func.count()).select_from(BenchHero))
            assert len(items) == PAGE_SIZE
            assert total is not None
            session.expunge_all()

    async def crud(session: AsyncSession) -> None:
        heroes = BenchHeroCRUD(session)
        for _ in range(calls):
            page = await heroes.paginate(limit=PAGE_SIZE, offset=offset)
            assert len(page.items) == PAGE_SIZE
            session.expunge_all()

    return hand, crud


def keyset_deep(sizes: Sizes) -> tuple[Op, Op]:
    last_id = (sizes.page - 1) * PAGE_SIZE  # ids are 1..rows: the last id of the page before
    calls = max(sizes.calls // 20, 3)
    cursor: list[str] = []

    async def hand(session: AsyncSession) -> None:
        for _ in range(calls):
            statement = select(BenchHero).where(col(BenchHero.id) > last_id)
            items = (await session.exec(statement.order_by(col(BenchHero.id)).limit(21))).all()
            assert len(items) == PAGE_SIZE + 1
            session.expunge_all()

    async def crud(session: AsyncSession) -> None:
        heroes = BenchHeroCRUD(session)
        if not cursor:  # the warm-up call finds the cursor of the page before, once
            before = await heroes.paginate_keyset(limit=last_id)
            assert before.next_cursor is not None
            cursor.append(before.next_cursor)
            session.expunge_all()
        for _ in range(calls):
            page = await heroes.paginate_keyset(limit=PAGE_SIZE, after=cursor[0])
            assert len(page.items) == PAGE_SIZE
            session.expunge_all()

    return hand, crud


OPERATIONS: list[tuple[str, Callable[[Sizes], tuple[Op, Op]], Callable[[Sizes], int], float]] = [
    ("get by primary key", get_by_pk, lambda s: s.calls, 1.15),
    ("list 100 rows with a filter", list_100_filtered, lambda s: max(s.calls // 10, 5), 1.15),
    ("create one", create_one, lambda s: s.calls, 1.15),
    ("create_many N, returning=False / Core executemany", create_many_count, lambda s: 1, 1.2),
    ("create_many N, objects / Core executemany", create_many_objects, lambda s: 1, 1.2),
    ("create_many N, objects / ORM add_all+flush", create_many_objects_vs_orm, lambda s: 1, 1.15),
    ("paginate, deep page", paginate_deep, lambda s: max(s.calls // 20, 3), 1.15),
    ("paginate_keyset, deep page", keyset_deep, lambda s: max(s.calls // 20, 3), 1.15),
]


# ---------------------------------------------------------------- the harness


async def timed(db: Database, op: Op) -> tuple[float, float]:
    """Wall-clock and process CPU seconds of one batch.

    Each batch runs in its own transaction, rolled back, so every batch sees the same table.
    CPU time counts every thread of this process (aiosqlite's included) but not the PostgreSQL
    server, and it does not move when other programs load the machine.
    """
    async with db.sessionmaker() as session:
        await session.connection()
        wall, cpu = time.perf_counter(), time.process_time()
        await op(session)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        await session.rollback()
    return wall, cpu


async def seed(db: Database, rows: int) -> None:
    await db.drop_all(BenchHero.metadata)
    await db.create_all(BenchHero.metadata)
    async with db.connect() as connection:
        await connection.execute(insert(BenchHero.__table__), [payload(i) for i in range(rows)])  # type: ignore[attr-defined]


async def bench_backend(name: str, url: str, sizes: Sizes, only: str) -> list[list[str]]:
    db = Database(url)
    await seed(db, sizes.rows)
    results = []
    for label, build, calls_of, target in OPERATIONS:
        if only not in label:
            continue
        hand, crud = build(sizes)
        await timed(db, hand)  # warm-up: caches, prepared statements, pool
        await timed(db, crud)
        hand_times: list[tuple[float, float]] = []
        crud_times: list[tuple[float, float]] = []
        for i in range(sizes.repeats):
            pair = [(hand, hand_times), (crud, crud_times)]
            for op, times in pair if i % 2 == 0 else reversed(pair):
                times.append(await timed(db, op))
        calls = calls_of(sizes)
        hand_ms = statistics.median(t[0] for t in hand_times) / calls * 1000
        crud_ms = statistics.median(t[0] for t in crud_times) / calls * 1000
        # Each hand/crud pair ran back to back under the same machine load: the median of the
        # per-pair ratios cancels the load drifts that move both sides at once.
        pairs = list(zip(hand_times, crud_times, strict=True))
        wall_ratio = statistics.median(c[0] / h[0] for h, c in pairs)
        cpu_ratio = statistics.median(c[1] / h[1] for h, c in pairs)
        verdict = "yes" if wall_ratio <= target else "**no**"
        label = label.replace("deep page", f"page {sizes.page} of {PAGE_SIZE}")
        label = label.replace("create_many N", f"create_many {sizes.many:,}")
        figures = [f"{hand_ms:.3f}", f"{crud_ms:.3f}", f"{wall_ratio:.2f}x", f"{cpu_ratio:.2f}x"]
        results.append([name, label, *figures, f"{target}x", verdict])
        ratio = cpu_ratio
        print(f"  {name:10} {label:40} {ratio:.2f}x", file=sys.stderr)
    await db.drop_all(BenchHero.metadata)
    await db.dispose()
    return results


async def main(quick: bool, only: str = "") -> None:
    sizes = QUICK if quick else FULL
    rows: list[list[str]] = []
    with tempfile.TemporaryDirectory() as folder:
        sqlite_url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}"
        rows += await bench_backend("SQLite", sqlite_url, sizes, only)
    async with throwaway_database() as url:
        if url is not None:
            rows += await bench_backend("PostgreSQL", url, sizes, only)
    header = ["backend", "operation", "reference ms/call", "BaseCRUD ms/call", "wall ratio"]
    header += ["CPU ratio", "target", "met"]
    print(
        f"\nMedian of {sizes.repeats} batches; Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs{' (--quick)' if quick else ''}\n"
    )
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--only", default="", help="run the operations whose name contains this")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.quick, arguments.only))
