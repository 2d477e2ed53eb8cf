"""batteries-fixtures at production scale: whole processes against raw limits and Django.

    uv run --group bench python bench/bench_fixtures_scale.py           # 10k and 100k books
    uv run --group bench python bench/bench_fixtures_scale.py --quick   # 2k books, once (smoke)
    uv run --group bench python bench/bench_fixtures_scale.py --books 10000   # one size
    uv run --group bench python bench/bench_fixtures_scale.py --huge    # adds 1M books
    uv run --group bench python bench/bench_fixtures_scale.py --books 1000000 --no-warm-up  # 1M
    uv run --group bench python bench/bench_fixtures_scale.py --only dump

Data: ``scale_models`` (five tables made by SQLAlchemy's ``create_all``, plain foreign keys),
4.975 rows per book: 49,750 rows at 10k books, 497,500 at 100k, 4,975,000 at 1M, from a seeded
generator, written once as our JSON and JSONL fixtures, one CSV per table, and Django's fixture.

Every operation is a whole process, start-up included (Python gets a bytecode cache through
``PYTHONPYCACHEPREFIX``, and each command runs once untimed first, so no run pays for compiling):

- ours: ``batteries-fixtures load --append`` into an empty database, ``load`` (merge) into an
  empty database, ``load`` (merge) of the same fixture into the full database, ``dump``;
  JSON and JSONL each; on PostgreSQL also ``dump --jobs 2`` (JSON).
- raw limits: PostgreSQL ``psql -1`` with ``\\copy ... FROM`` each CSV (load) and
  ``\\copy (SELECT ... ORDER BY id) TO`` each CSV (dump); SQLite a Python ``sqlite3`` process
  ``executemany`` from the CSVs in one transaction, and ``SELECT *`` -> one JSON line per row.
- Django (up to 10k books): ``loaddata`` and ``dumpdata`` of the same rows, through Django models
  over the same tables.

Times are medians of ``--repeats`` runs (3 by default), operations rotated between repeats;
peak RSS is the process's own (GNU ``time``; psql's server side is not in it). Ratios: ours / raw
(loads against the raw load, dumps against the raw dump) and Django / ours (same format, JSON).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import platform
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import make_url

import scale_models
from batteries_models import Database
from throwaway_postgres import throwaway_database
from words import WORDS as ALL_WORDS

HERE = Path(__file__).resolve().parent
TABLES: list[Table] = list(scale_models.Base.metadata.sorted_tables)  # parents first
WORDS = ALL_WORDS[:24]  # the first 24: this benchmark's data set stays as it was
DJANGO_BOOKS = 10_000
QUICK_BOOKS = 2_000  # --quick: a smoke run of every command, one timed run each


# ---------------------------------------------------------------- data


def generate(books: int, seed: int = 20261201) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of every table, as Python values in column order."""
    rng = random.Random(seed)
    start = datetime(1950, 1, 1, tzinfo=UTC)

    def words(n: int) -> str:
        return " ".join(rng.choices(WORDS, k=n))

    def moment(years: int) -> datetime:
        seconds = rng.randrange(years * 365 * 86_400)
        return start + timedelta(seconds=seconds, microseconds=rng.randrange(1_000_000))

    authors, tags = max(books // 10, 1), max(books // 40, 2)
    rows: dict[str, list[tuple[Any, ...]]] = {}
    rows["scale_author"] = [
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
    rows["scale_tag"] = [(i, f"tag-{i}-{rng.choice(WORDS)}") for i in range(1, tags + 1)]
    rows["scale_book"] = [
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
    links: list[tuple[Any, ...]] = []
    for book in range(1, books + 1):
        first = rng.randint(1, tags)
        links.append((len(links) + 1, book, first))
        if book % 20 < 17:  # 17 books in 20 have a second tag: 1.85 links per book
            links.append((len(links) + 1, book, first % tags + 1))
    rows["scale_book_tag"] = links
    rows["scale_review"] = [
        (i, (i + 1) // 2, rng.randint(1, 5), words(rng.randint(5, 25)), moment(10))
        for i in range(1, 2 * books + 1)
    ]
    return rows


def _fixture_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    return value


def _csv_value(value: Any, dialect: str) -> Any:
    if isinstance(value, bool):
        return ("t" if value else "f") if dialect == "postgresql" else int(value)
    if isinstance(value, datetime):
        if dialect == "postgresql":
            return value.isoformat(timespec="microseconds")
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    return "" if value is None else value


@dataclass
class Files:
    """The same rows in every form the runs read."""

    ours: dict[str, Path]
    csv: dict[str, dict[str, Path]]  # dialect -> table -> CSV
    django: Path


def write_files(rows: dict[str, list[tuple[Any, ...]]], folder: Path) -> Files:
    folder.mkdir(parents=True, exist_ok=True)
    texts: list[str] = []
    django: list[dict[str, Any]] = []
    for table in TABLES:
        keys = [c.key for c in table.columns]
        model = table.name.removeprefix("scale_").replace("_", "")
        for row in rows[table.name]:
            values = dict(zip(keys, map(_fixture_value, row), strict=True))
            pk = values.pop("id")
            record = {"table": table.name, "pk": pk, "fields": values}
            texts.append(json.dumps(record, ensure_ascii=False))
            fields = {k.removesuffix("_id"): v for k, v in values.items()}
            django.append({"model": f"django_bench.{model}", "pk": pk, "fields": fields})
    ours = {"JSON": folder / "rows.json", "JSONL": folder / "rows.jsonl"}
    ours["JSON"].write_text("[\n" + ",\n".join(texts) + "\n]\n", encoding="utf-8")
    ours["JSONL"].write_text("".join(t + "\n" for t in texts), encoding="utf-8")
    django_path = folder / "django.json"
    django_path.write_text(json.dumps(django, ensure_ascii=False), encoding="utf-8")
    csvs: dict[str, dict[str, Path]] = {}
    for dialect in ("sqlite", "postgresql"):
        csvs[dialect] = {}
        for table in TABLES:
            path = folder / f"{dialect}.{table.name}.csv"
            with path.open("w", encoding="utf-8", newline="") as handle:
                writer = csv.writer(handle)
                for row in rows[table.name]:
                    writer.writerow([_csv_value(v, dialect) for v in row])
            csvs[dialect][table.name] = path
    return Files(ours, csvs, django_path)


# ---------------------------------------------------------------- processes


@dataclass
class Run:
    seconds: float
    peak_mb: float


GNU_TIME = Path("/usr/bin/time")


def run_process(command: list[str], env: dict[str, str]) -> Run:
    """Run ``command`` to completion: wall time and the child's peak resident set.

    The peak comes from GNU time when it is there: a child forked straight from this process
    would report this process's own resident set as its floor (Linux keeps the high-water mark
    across fork and exec), GNU time's fork starts from a tiny process.
    """
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        wrapped = command
        if GNU_TIME.exists():
            wrapped = [str(GNU_TIME), "-f", "%M", "-o", rss.name, *command]
        started = time.perf_counter()
        result = subprocess.run(
            wrapped, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        seconds = time.perf_counter() - started
        if result.returncode != 0:
            tail = result.stderr.strip()[-500:]
            msg = f"{' '.join(command[:3])} ... failed ({result.returncode}): {tail}"
            raise RuntimeError(msg)
        text = Path(rss.name).read_text().strip()
        peak_kb = int(text.splitlines()[-1]) if text else 0
    return Run(seconds, peak_kb / 1024)


SQLITE_LOAD = """
import csv, sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("PRAGMA foreign_keys=ON")
connection.execute("BEGIN")
for spec in sys.argv[2:]:
    table, path, nullable = spec.split("|")
    nullable = {int(i) for i in nullable.split(",") if i}
    with open(path, newline="", encoding="utf-8") as handle:
        rows = [
            tuple(None if i in nullable and v == "" else v for i, v in enumerate(row))
            for row in csv.reader(handle)
        ]
    marks = ", ".join("?" * len(rows[0]))
    connection.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
connection.execute("COMMIT")
"""

SQLITE_DUMP = """
import json, sqlite3, sys
connection = sqlite3.connect(sys.argv[1])
connection.execute("BEGIN")
with open(sys.argv[2], "w", encoding="utf-8") as out:
    for table in sys.argv[3:]:
        cursor = connection.execute(f"SELECT * FROM {table} ORDER BY id")
        names = [d[0] for d in cursor.description]
        while rows := cursor.fetchmany(1000):
            for row in rows:
                out.write(json.dumps(dict(zip(names, row)), ensure_ascii=False) + "\\n")
"""


class Backend:
    """Commands and database state for one database."""

    name: str
    raw_load: str
    raw_dump: str

    def __init__(self, url: str, files: Files, folder: Path, env: dict[str, str]) -> None:
        self.url = url
        self.files = files
        self.folder = folder
        self.env = env
        self.tool = str(Path(sys.executable).with_name("batteries-fixtures"))

    def ours_load(self, fmt: str, mode: str) -> list[str]:
        extra = ["--append"] if mode == "append" else []
        return [self.tool, "load", str(self.files.ours[fmt]), *self._common(), *extra]

    def ours_dump(self, fmt: str, *extra: str) -> list[str]:
        out = str(self.folder / f"out.{fmt.lower()}")
        return [self.tool, "dump", "-o", out, *self._common(), *extra]

    def _common(self) -> list[str]:
        return ["--database-url", self.url, "--models", "scale_models", "--quiet"]

    def django(self, command: str) -> list[str]:
        out = self.files.django if command == "loaddata" else self.folder / "django_out.json"
        return [sys.executable, str(HERE / "django_run.py"), command, self.url, str(out)]

    def raw_load_command(self) -> list[str]:
        raise NotImplementedError

    def raw_dump_command(self) -> list[str]:
        raise NotImplementedError

    async def wipe(self) -> None:
        raise NotImplementedError

    async def fill(self) -> None:
        await self.wipe()
        run_process(self.raw_load_command(), self.env)

    async def counts(self) -> dict[str, int]:
        db = Database(self.url)
        try:
            async with db.connect() as connection:
                found = {}
                for table in TABLES:
                    result = await connection.exec_driver_sql(f"SELECT count(*) FROM {table.name}")
                    found[table.name] = int(result.scalar_one())
                return found
        finally:
            await db.dispose()


class SQLite(Backend):
    name = "SQLite"
    raw_load = "python sqlite3 executemany from CSV"
    raw_dump = "python sqlite3 SELECT -> JSONL"

    @property
    def path(self) -> str:
        return str(make_url(self.url).database)

    def raw_load_command(self) -> list[str]:
        specs = []
        for table in TABLES:
            nullable = ",".join(str(i) for i, c in enumerate(table.columns) if c.nullable)
            specs.append(f"{table.name}|{self.files.csv['sqlite'][table.name]}|{nullable}")
        return [sys.executable, "-c", SQLITE_LOAD, self.path, *specs]

    def raw_dump_command(self) -> list[str]:
        out = str(self.folder / "raw.jsonl")
        return [sys.executable, "-c", SQLITE_DUMP, self.path, out, *(t.name for t in TABLES)]

    async def wipe(self) -> None:
        connection = sqlite3.connect(self.path, isolation_level=None)
        connection.execute("BEGIN")
        for table in reversed(TABLES):
            connection.execute(f"DELETE FROM {table.name}")
        connection.execute("COMMIT")
        connection.close()


class Postgres(Backend):
    name = "PostgreSQL"
    raw_load = "psql -1 \\copy FROM CSV"
    raw_dump = "psql \\copy (SELECT ... ORDER BY id) TO CSV"

    def _psql(self) -> list[str]:
        url = make_url(self.url)
        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        return ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", dsn]

    def raw_load_command(self) -> list[str]:
        commands = []
        for table in TABLES:
            commands += [
                "-c",
                f"\\copy {table.name} FROM '{self.files.csv['postgresql'][table.name]}' CSV",
            ]
        return [*self._psql(), "-1", *commands]

    def raw_dump_command(self) -> list[str]:
        commands = []
        for table in TABLES:
            out = self.folder / f"raw.{table.name}.csv"
            sql = f"SELECT * FROM {table.name} ORDER BY id"
            commands += ["-c", f"\\copy ({sql}) TO '{out}' CSV"]
        return [*self._psql(), *commands]

    async def wipe(self) -> None:
        db = Database(self.url)
        async with db.connect() as connection:
            names = ", ".join(t.name for t in TABLES)
            await connection.exec_driver_sql(f"TRUNCATE {names}")
        await db.dispose()


# ---------------------------------------------------------------- the runs


@dataclass
class Operation:
    label: str
    kind: str  # "ours", "raw" or "django"
    state: str  # "empty" or "full" before the run
    command: list[str]
    runs: list[Run] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return statistics.median(r.seconds for r in self.runs)

    @property
    def peak_mb(self) -> float:
        return max(r.peak_mb for r in self.runs)


def operations(backend: Backend, books: int, only: str) -> list[Operation]:
    ops = [Operation("raw load", "raw", "empty", backend.raw_load_command())]
    ops.append(Operation("raw dump", "raw", "full", backend.raw_dump_command()))
    for fmt in ("JSON", "JSONL"):
        ops.append(
            Operation(
                f"load {fmt} append, empty", "ours", "empty", backend.ours_load(fmt, "append")
            )
        )
        ops.append(
            Operation(f"load {fmt} merge, empty", "ours", "empty", backend.ours_load(fmt, "merge"))
        )
        ops.append(
            Operation(f"load {fmt} merge, full", "ours", "full", backend.ours_load(fmt, "merge"))
        )
        ops.append(Operation(f"dump {fmt}", "ours", "full", backend.ours_dump(fmt)))
    if isinstance(backend, Postgres):  # tables on two connections sharing one snapshot
        jobs = backend.ours_dump("JSON", "--jobs", "2")
        ops.append(Operation("dump JSON --jobs 2", "ours", "full", jobs))
    if books <= DJANGO_BOOKS:
        ops.append(Operation("Django loaddata", "django", "empty", backend.django("loaddata")))
        ops.append(Operation("Django dumpdata", "django", "full", backend.django("dumpdata")))
    return [op for op in ops if op.kind == "raw" or only in op.label]


async def measure(
    backend: Backend,
    ops: list[Operation],
    repeats: int,
    expected: dict[str, int],
    *,
    warm_up: bool = True,
) -> None:
    warmed: set[str] = set() if warm_up else {op.kind for op in ops}
    for op in ops:  # untimed, once per kind: fills the bytecode cache, checks the commands work
        if op.kind not in warmed:
            warmed.add(op.kind)
            await (backend.wipe() if op.state == "empty" else backend.fill())
            run_process(op.command, backend.env)
    for i in range(repeats):
        shift = i % len(ops)
        for op in ops[shift:] + ops[:shift]:
            await (backend.wipe() if op.state == "empty" else backend.fill())
            op.runs.append(run_process(op.command, backend.env))
            print(
                f"  {backend.name:10} {op.label:26} {op.runs[-1].seconds:7.2f} s", file=sys.stderr
            )
            if "load" in op.label and await backend.counts() != expected:  # outside the timing
                msg = f"{backend.name} {op.label}: wrong row counts after the load"
                raise AssertionError(msg)


def report_rows(backend: Backend, books: int, total: int, ops: list[Operation]) -> list[list[str]]:
    by_label = {op.label: op for op in ops}
    ours_json = {"Django loaddata": "load JSON append, empty", "Django dumpdata": "dump JSON"}
    rows = []
    for op in ops:
        if op.kind == "ours":
            reference = by_label["raw dump" if op.label.startswith("dump") else "raw load"]
            ratio = f"{op.seconds / reference.seconds:.1f}x ours/raw"
        elif op.kind == "django" and ours_json[op.label] in by_label:
            ratio = f"{op.seconds / by_label[ours_json[op.label]].seconds:.1f}x Django/ours"
        else:
            ratio = backend.raw_load if op.label == "raw load" else backend.raw_dump
            ratio = ratio if op.kind == "raw" else "—"
        rows.append(
            [
                backend.name,
                f"{books:,}",
                op.label,
                f"{op.seconds:.2f}",
                f"{total / op.seconds:,.0f}",
                f"{op.peak_mb:.0f}",
                ratio,
            ]
        )
    return rows


def _env(cache: Path) -> dict[str, str]:
    env = {**os.environ, "PYTHONPYCACHEPREFIX": str(cache)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")]))
    env.pop("DATABASE_URL", None)
    return env


@dataclass
class Args:
    sizes: list[int]
    repeats: int
    only: str
    warm_up: bool = True


async def bench_size(books: int, args: Args, folder: Path, env: dict[str, str]) -> list[list[str]]:
    rows = generate(books)
    expected = {name: len(r) for name, r in rows.items()}
    total = sum(expected.values())
    print(f"{books:,} books: {total:,} rows", file=sys.stderr)
    files = write_files(rows, folder / f"books{books}")
    del rows
    results: list[list[str]] = []
    sqlite = SQLite(f"sqlite+aiosqlite:///{folder / f'books{books}.sqlite3'}", files, folder, env)
    await _run_backend(sqlite, books, total, expected, args, results)
    async with throwaway_database() as url:
        if url is not None:
            postgres = Postgres(url, files, folder, env)
            await _run_backend(postgres, books, total, expected, args, results)
    return results


async def _run_backend(
    backend: Backend,
    books: int,
    total: int,
    expected: dict[str, int],
    args: Args,
    results: list[list[str]],
) -> None:
    db = Database(backend.url)
    await db.create_all(scale_models.Base.metadata)
    await db.dispose()
    ops = operations(backend, books, args.only)
    await measure(backend, ops, args.repeats, expected, warm_up=args.warm_up)
    results.extend(report_rows(backend, books, total, ops))


def sizes_for(quick: bool, huge: bool) -> list[int]:
    if quick:
        return [QUICK_BOOKS]
    return [10_000, 100_000, *([1_000_000] if huge else [])]


def _iter_table(header: list[str], rows: list[list[str]]) -> Iterator[str]:
    yield "| " + " | ".join(header) + " |"
    yield "|" + "---|" * len(header)
    for row in rows:
        yield "| " + " | ".join(row) + " |"


async def main(args: Args) -> None:
    started = time.perf_counter()
    results: list[list[str]] = []
    with tempfile.TemporaryDirectory(prefix="bench-fixtures-scale-") as name:
        folder = Path(name)
        env = _env(folder / "pycache")
        for books in args.sizes:
            results += await bench_size(books, args, folder, env)
    print(
        f"\nWhole processes, median of {args.repeats} runs; Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {time.perf_counter() - started:.0f} s\n"
    )
    header = [
        "backend",
        "books",
        "operation",
        "median s",
        "rows/s",
        "peak RSS MB",
        "ratio / reference",
    ]
    print("\n".join(_iter_table(header, results)))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2k books, one run (smoke run)")
    parser.add_argument("--huge", action="store_true", help="add 1M books (4,975,000 rows)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per operation (>= 3)")
    parser.add_argument("--only", default="", help="only our/Django operations containing this")
    parser.add_argument("--books", type=int, action="append", help="only this size (repeatable)")
    parser.add_argument(
        "--no-warm-up",
        action="store_true",
        help="skip the untimed first run of each kind (for 1M books, where it costs minutes)",
    )
    arguments = parser.parse_args()
    if shutil.which("psql") is None:
        print("psql not found: the PostgreSQL raw limits need it", file=sys.stderr)
    sizes = arguments.books or sizes_for(arguments.quick, arguments.huge)
    repeats = 1 if arguments.quick else max(arguments.repeats, 1)
    asyncio.run(main(Args(sizes, repeats, arguments.only, warm_up=not arguments.no_warm_up)))
