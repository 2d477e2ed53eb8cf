"""batteries-fixtures load and dump against each database's own bulk path, same run.

    uv run python bench/bench_fixtures.py            # full run (about 5 minutes)
    uv run python bench/bench_fixtures.py --quick    # smoke run (under a minute)
    uv run python bench/bench_fixtures.py --only "load JSONL"

The schema is four tables: author (10,000 rows), tag (30), book (100,000, a foreign key to
author; int, text, Decimal, aware datetime, bool and nullable text columns) and book_tag (50,000,
a composite key of two foreign keys). The rows come from a seeded random generator and are
written once to a JSON and a JSONL fixture.

- **load**: ``load()`` of each fixture, ``mode="append"`` and ``mode="merge"``, into empty
  tables, against the database's own bulk path on the same rows, already built as driver
  values in memory (no file, no parsing, no checks): SQLite, the stdlib ``sqlite3``
  ``executemany`` per table in one transaction; PostgreSQL, asyncpg ``copy_records_to_table``
  (COPY) per table in one transaction. Tables are wiped (DELETE / TRUNCATE) before every run,
  outside the timing. Each repeat runs the reference and the four loads back to back (order
  rotated); the ratio is the median of the per-repeat ratios ours / reference.
- **dump**: ``dump()`` to a JSON and a JSONL file against a raw ``SELECT *`` of every table,
  ordered by primary key as a dump must be, fetched into Python tuples by the driver.
- **dump, scrubbed**: the JSON dump with scrubbers on four columns of author and on the title
  of every book (``transforms=``): the cost of records going through Python per rule.
- **memory**: in a fresh process per size, the resident set before ``load()`` of the JSONL
  fixture (append) and its peak during the load (Linux VmHWM, reset just before), at two sizes:
  the growth shows whether memory stays flat as the fixture grows.

The first dump of each format is checked against the fixture (same records); every load's
report is checked for the expected row counts. PostgreSQL comes from
BATTERIES_BENCH_POSTGRES_URL (else BATTERIES_TEST_POSTGRES_URL, else
postgresql+asyncpg://postgres@127.0.0.1:5432/postgres); a throwaway database is created there
and dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Table
from sqlmodel import Field

from batteries_fixtures import dump, load
from batteries_models import BaseModel, BatteriesSettings, Database, IntIDMixin
from throwaway_postgres import asyncpg_connect, throwaway_database
from words import WORDS


class FxAuthor(BaseModel, IntIDMixin, table=True):
    __tablename__ = "bench_fx_author"
    name: str
    email: str
    born_at: datetime = Field(sa_type=DateTime(timezone=True))
    active: bool
    bio: str | None = None


class FxTag(BaseModel, IntIDMixin, table=True):
    __tablename__ = "bench_fx_tag"
    name: str


class FxBook(BaseModel, IntIDMixin, table=True):
    __tablename__ = "bench_fx_book"
    author_id: int = Field(foreign_key="bench_fx_author.id", index=True)
    title: str
    pages: int
    price: Decimal = Field(max_digits=10, decimal_places=2)
    published_at: datetime = Field(sa_type=DateTime(timezone=True))
    in_print: bool
    subtitle: str | None = None


class FxBookTag(BaseModel, table=True):
    __tablename__ = "bench_fx_book_tag"
    book_id: int = Field(foreign_key="bench_fx_book.id", primary_key=True)
    tag_id: int = Field(foreign_key="bench_fx_tag.id", primary_key=True)


MODELS = [FxAuthor, FxTag, FxBook, FxBookTag]
TABLES: list[Table] = [m.__table__ for m in MODELS]  # type: ignore[attr-defined]  # parents first
WIPE_ORDER = list(reversed(TABLES))


@dataclass
class Sizes:
    books: int  # book rows of the timed fixture (authors: a tenth, book_tag: a half)
    repeats: int  # timed runs per operation
    memory: tuple[int, int]  # book rows of the two fixtures of the memory measure


# 50,000 books keep the full run near 5 minutes (a load of 100,000 books takes 9 to 12 s); the
# memory measure loads 100,000.
FULL = Sizes(books=50_000, repeats=5, memory=(20_000, 100_000))
QUICK = Sizes(books=5_000, repeats=2, memory=(2_000, 10_000))
LOAD_TARGET = 2.0
OPERATIONS = [
    *(f"load {fmt}, {mode}" for fmt in ("JSON", "JSONL") for mode in ("append", "merge")),
    "dump JSON",
    "dump JSONL",
    "dump JSON, scrubbed",
    "memory",
]
# Scrubbing the people (author) and the books' titles: every book row goes through Python.
SCRUB = {
    "bench_fx_author.email": "email",
    "bench_fx_author.name": "name",
    "bench_fx_author.born_at": {"scrub": "date_shift", "days": 30},
    "bench_fx_author.bio": "text",
    "bench_fx_book.title": "text",
}


# ---------------------------------------------------------------- data and fixtures


@dataclass
class Data:
    """The rows of every table as Python values, by table name, in column order."""

    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(len(rows) for rows in self.rows.values())


def generate(books: int, seed: int = 20261126) -> Data:
    rng = random.Random(seed)
    start = datetime(1950, 1, 1, tzinfo=UTC)

    def words(n: int) -> str:
        return " ".join(rng.choices(WORDS, k=n))

    def moment(years: int) -> datetime:
        seconds = rng.randrange(years * 365 * 86_400)
        return start + timedelta(seconds=seconds, microseconds=rng.randrange(1_000_000))

    authors = max(books // 10, 1)
    data = Data()
    data.rows["bench_fx_author"] = [
        (
            i,
            words(2).title(),
            f"author{i}@example.org",
            moment(50),
            rng.random() < 0.8,
            None if rng.random() < 0.3 else words(rng.randint(5, 15)),
        )
        for i in range(1, authors + 1)
    ]
    data.rows["bench_fx_tag"] = [(i, f"tag-{i}-{rng.choice(WORDS)}") for i in range(1, 31)]
    data.rows["bench_fx_book"] = [
        (
            i,
            rng.randint(1, authors),
            words(rng.randint(2, 6)).capitalize(),
            rng.randint(40, 1200),
            Decimal(rng.randrange(100, 20_000)).scaleb(-2),
            moment(70),
            rng.random() < 0.6,
            None if rng.random() < 0.5 else words(rng.randint(3, 8)),
        )
        for i in range(1, books + 1)
    ]
    data.rows["bench_fx_book_tag"] = [(i, rng.randint(1, 30)) for i in range(2, books + 1, 2)]
    return data


def _encode(value: Any) -> Any:
    """The fixture format's codecs for the types used here (docs/fixtures.md, Format)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    return value


def records(data: Data) -> list[str]:
    """One JSON text per record, tables parents first."""
    texts = []
    for table in TABLES:
        keys = [c.key for c in table.columns]
        pk = [c.key for c in table.primary_key.columns]
        for row in data.rows[table.name]:
            values = dict(zip(keys, map(_encode, row), strict=True))
            key = values[pk[0]] if len(pk) == 1 else {k: values[k] for k in pk}
            fields = {k: v for k, v in values.items() if k not in pk}
            record = {"table": table.name, "pk": key, "fields": fields}
            texts.append(json.dumps(record, ensure_ascii=False))
    return texts


def write_fixtures(data: Data, folder: Path, stem: str) -> dict[str, Path]:
    texts = records(data)
    json_path, jsonl_path = folder / f"{stem}.json", folder / f"{stem}.jsonl"
    json_path.write_text("[\n" + ",\n".join(texts) + "\n]\n", encoding="utf-8")
    jsonl_path.write_text("".join(t + "\n" for t in texts), encoding="utf-8")
    return {"JSON": json_path, "JSONL": jsonl_path}


def sqlite_driver_rows(data: Data, dialect: Any) -> dict[str, list[tuple[Any, ...]]]:
    """The values SQLAlchemy would hand the sqlite3 driver (datetimes as text, and so on)."""
    out = {}
    for table in TABLES:
        processors = [c.type.dialect_impl(dialect).bind_processor(dialect) for c in table.columns]
        out[table.name] = [
            tuple(
                v if p is None or v is None else p(v) for p, v in zip(processors, row, strict=True)
            )
            for row in data.rows[table.name]
        ]
    return out


# ---------------------------------------------------------------- the two databases


class Backend:
    """One database: the library's ``Database``, and a raw driver connection for references."""

    name: str
    reference_load: str
    reference_dump: str

    def __init__(self, url: str) -> None:
        self.url = url
        self.db = Database(url)

    async def start(self, data: Data) -> None:
        await self.db.drop_all(BaseModel.metadata)
        await self.db.create_all(BaseModel.metadata)

    async def wipe(self) -> None:
        raise NotImplementedError

    async def bulk_load(self) -> None:
        raise NotImplementedError

    async def fetch_all(self) -> int:
        raise NotImplementedError

    async def stop(self) -> None:
        await self.db.drop_all(BaseModel.metadata)
        await self.db.dispose()


def _order_by(table: Table) -> str:
    return ", ".join(c.name for c in table.primary_key.columns)


class SQLiteBackend(Backend):
    name = "SQLite"
    reference_load = "sqlite3 executemany"
    reference_dump = "sqlite3 SELECT * fetchall"

    def __init__(self, url: str, path: Path) -> None:
        super().__init__(url)
        self.path = path
        self.raw: sqlite3.Connection | None = None
        self.rows: dict[str, list[tuple[Any, ...]]] = {}

    async def start(self, data: Data) -> None:
        await super().start(data)
        self.rows = sqlite_driver_rows(data, self.db.engine.dialect)
        self.raw = sqlite3.connect(self.path, isolation_level=None)
        self.raw.execute("PRAGMA foreign_keys=ON")  # as the library's connections do

    async def wipe(self) -> None:
        assert self.raw is not None
        self.raw.execute("BEGIN")
        for table in WIPE_ORDER:
            self.raw.execute(f"DELETE FROM {table.name}")
        self.raw.execute("COMMIT")

    async def bulk_load(self) -> None:
        assert self.raw is not None
        self.raw.execute("BEGIN")
        for table in TABLES:
            names = [c.name for c in table.columns]
            marks = ", ".join("?" * len(names))
            sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({marks})"
            self.raw.executemany(sql, self.rows[table.name])
        self.raw.execute("COMMIT")

    async def fetch_all(self) -> int:
        assert self.raw is not None
        count = 0
        for table in TABLES:
            sql = f"SELECT * FROM {table.name} ORDER BY {_order_by(table)}"
            count += len(self.raw.execute(sql).fetchall())
        return count

    async def stop(self) -> None:
        if self.raw is not None:
            self.raw.close()
        await super().stop()


class PostgresBackend(Backend):
    name = "PostgreSQL"
    reference_load = "asyncpg COPY"
    reference_dump = "asyncpg SELECT * fetch"

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.raw: Any = None
        self.data = Data()

    async def start(self, data: Data) -> None:
        await super().start(data)
        self.data = data
        self.raw = await asyncpg_connect(self.url)

    async def wipe(self) -> None:
        await self.raw.execute(f"TRUNCATE {', '.join(t.name for t in TABLES)}")

    async def bulk_load(self) -> None:
        async with self.raw.transaction():
            for table in TABLES:
                await self.raw.copy_records_to_table(
                    table.name,
                    records=self.data.rows[table.name],
                    columns=[c.name for c in table.columns],
                )

    async def fetch_all(self) -> int:
        count = 0
        async with self.raw.transaction(isolation="repeatable_read", readonly=True):
            for table in TABLES:
                sql = f"SELECT * FROM {table.name} ORDER BY {_order_by(table)}"
                count += len(await self.raw.fetch(sql))
        return count

    async def stop(self) -> None:
        if self.raw is not None:
            await self.raw.close()
        await super().stop()


# ---------------------------------------------------------------- the harness


@dataclass
class Timing:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)


async def timed(op: Callable[[], Awaitable[Any]], timing: Timing) -> Any:
    wall, cpu = time.perf_counter(), time.process_time()
    result = await op()
    timing.wall.append(time.perf_counter() - wall)
    timing.cpu.append(time.process_time() - cpu)
    return result


def table_row(
    backend: Backend,
    label: str,
    reference: str,
    ref: Timing,
    ours: Timing,
    rows: int,
    target: float | None,
) -> list[str]:
    ratios = [o / r for r, o in zip(ref.wall, ours.wall, strict=True)]
    ratio = statistics.median(ratios)
    ref_ms = statistics.median(ref.wall) * 1000
    ours_ms = statistics.median(ours.wall) * 1000
    ours_cpu = statistics.median(ours.cpu) * 1000
    rate = rows / statistics.median(ours.wall)
    verdict = "—" if target is None else ("yes" if ratio <= target else "**no**")
    print(f"  {backend.name:10} {label:22} {ratio:6.2f}x  ({ours_ms:,.0f} ms)", file=sys.stderr)
    return [
        backend.name,
        label,
        reference,
        f"{ref_ms:,.0f}",
        f"{ours_ms:,.0f}",
        f"{ours_cpu:,.0f}",
        f"{rate:,.0f}",
        f"{ratio:.2f}x",
        "—" if target is None else f"{target}x",
        verdict,
    ]


def expected_counts(data: Data) -> dict[str, int]:
    return {name: len(rows) for name, rows in data.rows.items()}


async def bench_loads(
    backend: Backend, main: Fixture, warm: Fixture, sizes: Sizes, only: str
) -> list[list[str]]:
    data, fixtures = main.data, main.paths
    expected = expected_counts(data)
    variants = [
        (f"load {fmt}, {mode}", fmt, mode)
        for fmt in ("JSON", "JSONL")
        for mode in ("append", "merge")
        if only in f"load {fmt}, {mode}"
    ]
    if not variants:
        return []

    def ours(fmt: str, mode: Any) -> Callable[[], Awaitable[Any]]:
        async def run() -> None:
            report = await load(backend.db, fixtures[fmt], mode=mode, models=MODELS)
            inserted = {name: counts.inserted for name, counts in report.tables.items()}
            assert inserted == expected, inserted

        return run

    ops: list[tuple[str, Callable[[], Awaitable[Any]]]] = [("reference", backend.bulk_load)]
    ops += [(label, ours(fmt, mode)) for label, fmt, mode in variants]
    timings = {label: Timing() for label, _ in ops}
    # Warm-up: caches, prepared statements; the smaller fixture, for time.
    for path in warm.paths.values():
        await backend.wipe()
        await load(backend.db, path, mode="append", models=MODELS)
    await backend.wipe()
    await backend.bulk_load()
    for i in range(sizes.repeats):
        shift = i % len(ops)
        for label, op in ops[shift:] + ops[:shift]:
            await backend.wipe()
            await timed(op, timings[label])
    reference = timings.pop("reference")
    return [
        table_row(
            backend, label, backend.reference_load, reference, timing, data.total, LOAD_TARGET
        )
        for label, timing in timings.items()
    ]


async def bench_dumps(
    backend: Backend, main: Fixture, sizes: Sizes, folder: Path, only: str
) -> list[list[str]]:
    data, fixtures = main.data, main.paths
    formats = [fmt for fmt in ("JSON", "JSONL") if only in f"dump {fmt}"]
    scrubbed = only in "dump JSON, scrubbed"
    if not formats and not scrubbed:
        return []
    # Rows written by the reference path: the dump check below proves it wrote the same rows.
    await backend.wipe()
    await backend.bulk_load()

    def ours(fmt: str) -> Callable[[], Awaitable[Any]]:
        async def run() -> None:
            output = folder / f"out.{fmt.lower()}"
            report = await dump(backend.db, output, models=MODELS)
            assert dict(report.tables) == expected_counts(data), report.tables

        return run

    async def reference() -> None:
        assert await backend.fetch_all() == data.total

    for fmt in formats:  # warm-up, and the check: the same records as the fixture
        await ours(fmt)()
        produced = (folder / f"out.{fmt.lower()}").read_text(encoding="utf-8")
        wanted = fixtures[fmt].read_text(encoding="utf-8")
        if _records_of(produced) != _records_of(wanted):
            msg = f"{backend.name}: the {fmt} dump differs from the fixture"
            raise AssertionError(msg)
    await reference()
    settings = BatteriesSettings(scrub_key="bench-" * 8)

    async def ours_scrubbed() -> None:
        output = folder / "out.scrubbed.json"
        report = await dump(backend.db, output, models=MODELS, transforms=SCRUB, settings=settings)
        assert dict(report.tables) == expected_counts(data), report.tables

    ops: list[tuple[str, Callable[[], Awaitable[Any]]]] = [("reference", reference)]
    ops += [(f"dump {fmt}", ours(fmt)) for fmt in formats]
    if scrubbed:
        await ours_scrubbed()  # warm-up
        ops.append(("dump JSON, scrubbed", ours_scrubbed))
    timings = {label: Timing() for label, _ in ops}
    for i in range(sizes.repeats):
        shift = i % len(ops)
        for label, op in ops[shift:] + ops[:shift]:
            await timed(op, timings[label])
    ref = timings.pop("reference")
    return [
        table_row(backend, label, backend.reference_dump, ref, timing, data.total, None)
        for label, timing in timings.items()
    ]


def _records_of(text: str) -> list[str]:
    """The records of a JSON or JSONL fixture as sorted lines (table order aside)."""
    return sorted(line.rstrip(",") for line in text.splitlines() if line not in ("[", "]", "[]"))


async def bench_memory(backend: Backend, fixtures: list[Fixture], only: str) -> list[list[str]]:
    if only not in "memory":
        return []
    results = []
    for fixture in fixtures:
        data, path = fixture.data, fixture.paths["JSONL"]
        await backend.wipe()
        child = subprocess.run(
            [sys.executable, __file__, "--memory-child", backend.url, str(path)],
            check=True,
            capture_output=True,
            text=True,
        )
        figures = json.loads(child.stdout.strip().splitlines()[-1])
        before, peak = figures["before"] / 1024, figures["peak"] / 1024
        growth = peak - before
        results.append(
            [
                backend.name,
                f"{len(data.rows['bench_fx_book']):,}",
                f"{data.total:,}",
                f"{path.stat().st_size / 2**20:.1f}",
                f"{before:.0f}",
                f"{peak:.0f}",
                f"{growth:.0f}",
                f"{growth * 2**20 / data.total:,.0f}",
            ]
        )
        print(
            f"  {backend.name:10} memory {data.total:>8,} rows  +{growth:.0f} MB", file=sys.stderr
        )
    await backend.wipe()
    return results


def _status_kib(field: str) -> int:
    """A line of /proc/self/status (Linux), in KiB: VmRSS now, VmHWM the peak since the reset."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    msg = f"no {field} in /proc/self/status"
    raise LookupError(msg)


async def memory_child(url: str, path: str) -> None:
    """In a fresh process: resident memory before loading ``path``, and its peak during the load.

    Writing 5 to /proc/self/clear_refs resets the peak (VmHWM) to the current resident set, so
    the import-time peak does not hide the load's.
    """
    db = Database(url)
    await db.ping()
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")
    before = _status_kib("VmRSS")
    await load(db, path, mode="append", models=MODELS)
    peak = _status_kib("VmHWM")
    await db.dispose()
    print(json.dumps({"before": before, "peak": peak}))


@dataclass
class Fixture:
    data: Data
    paths: dict[str, Path]


async def bench_backend(
    backend: Backend, fixtures: dict[int, Fixture], sizes: Sizes, folder: Path, only: str
) -> tuple[list[list[str]], list[list[str]]]:
    main = fixtures[sizes.books]
    await backend.start(main.data)
    try:
        warm = fixtures[sizes.memory[0]]
        rows = await bench_loads(backend, main, warm, sizes, only)
        rows += await bench_dumps(backend, main, sizes, folder, only)
        measured = [fixtures[n] for n in sizes.memory] if only in "memory" else []
        memory = await bench_memory(backend, measured, only)
    finally:
        await backend.stop()
    return rows, memory


def print_table(header: list[str], rows: list[list[str]]) -> None:
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")


async def main(quick: bool, only: str = "") -> None:
    sizes = QUICK if quick else FULL
    if not any(only in name for name in OPERATIONS):
        print(f"no fixtures operation matches {only!r}: {', '.join(OPERATIONS)}", file=sys.stderr)
        return
    rows: list[list[str]] = []
    memory: list[list[str]] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        fixtures = {}
        wanted = {sizes.books, sizes.memory[0]} | (set(sizes.memory) if only in "memory" else set())
        for books in sorted(wanted):
            data = generate(books)
            fixtures[books] = Fixture(data, write_fixtures(data, folder, f"books{books}"))
        db_path = folder / "bench.sqlite3"
        backend: Backend = SQLiteBackend(f"sqlite+aiosqlite:///{db_path}", db_path)
        found = await bench_backend(backend, fixtures, sizes, folder, only)
        rows += found[0]
        memory += found[1]
        async with throwaway_database() as url:
            if url is not None:
                found = await bench_backend(PostgresBackend(url), fixtures, sizes, folder, only)
                rows += found[0]
                memory += found[1]
    data = fixtures[sizes.books].data
    counts = ", ".join(f"{n.removeprefix('bench_fx_')} {len(r):,}" for n, r in data.rows.items())
    print(
        f"\nMedian of {sizes.repeats} runs; {data.total:,} rows ({counts}); "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"{time.perf_counter() - started:.0f} s{' (--quick)' if quick else ''}\n"
    )
    if rows:
        header = ["backend", "operation", "reference", "reference ms", "ours ms", "ours CPU ms"]
        header += ["ours rows/s", "ratio", "target", "met"]
        print_table(header, rows)
    if memory:
        print()
        header = ["backend", "book rows", "rows", "fixture MB", "RSS before MB", "RSS peak MB"]
        header += ["growth MB", "growth bytes/row"]
        print_table(header, memory)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--only", default="", help="run the operations whose name contains this")
    parser.add_argument("--memory-child", nargs=2, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.memory_child:
        asyncio.run(memory_child(*arguments.memory_child))
    else:
        asyncio.run(main(arguments.quick, arguments.only))
