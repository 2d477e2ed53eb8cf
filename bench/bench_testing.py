"""The pytest plugin's cost per test: fixtures once per module, per test, and a naive conftest.

    uv run python bench/bench_testing.py            # full run (about 6 minutes)
    uv run python bench/bench_testing.py --quick    # smoke run: 20 tests, one repeat

Each variant is a throwaway project with 200 tests that each read a 1,000-row fixture (a count
and a look-up by key), run by pytest in a process of its own, as a user runs it:

- **(a) module**: ``fixtures("items.json", scope="module")`` with a module-wide event loop: one
  load, then a SAVEPOINT per test, rolled back.
- **(b) per test**: ``fixtures("items.json")``: a load inside each test's transaction.
- **(c) naive conftest**: no plugin; the ``conftest.py`` many projects write: per test, drop and
  create the tables, load the fixture (with batteries-fixtures' bulk ``load()``, so the loader is
  the same as the plugin's), hand out a session, dispose the engine.
- **rollback only**: ``db_session`` without fixture files (one query), with a loop per test (a
  new connection per test) and with one loop for the session (a pooled connection).
- **baseline**: the same 200 async tests touching no database.

Times come from pytest's own per-test durations (setup + call + teardown, read by a small
plugin), so interpreter start-up is left out; a first test in each run pays for what a run does
once (making the test database, first imports) and is not counted. Per-test overhead = mean test
time of the variant minus that of the baseline; (a) includes its one module load spread over the
200 tests; the rollback-only lines give medians too (a few slow connections move a mean). Each
variant runs ``--repeats`` times (3 by default), interleaved; figures are medians over repeats.
PostgreSQL comes from BATTERIES_BENCH_POSTGRES_URL (else BATTERIES_TEST_POSTGRES_URL, else
postgresql+asyncpg://postgres@127.0.0.1:5432/postgres): the projects' test databases are made
there by the plugin (and by the naive conftest in a throwaway database), and dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from throwaway_postgres import throwaway_database

ROWS = 1_000
TARGET_RATIO = 10.0  # (c) / (a)
TARGET_ROLLBACK_MS = 5.0  # PostgreSQL

PYPROJECT = """
[tool.pytest.ini_options]
asyncio_mode = "auto"
{ini}
pythonpath = ["."]
addopts = ["-p", "no:randomly", "-p", "no:cacheprovider"]

[tool.batteries]
models = "models"
"""
LOOP_PER_TEST = (
    'asyncio_default_test_loop_scope = "function"\nasyncio_default_fixture_loop_scope = "function"'
)
ONE_LOOP = (
    'asyncio_default_test_loop_scope = "session"\nasyncio_default_fixture_loop_scope = "session"'
)

MODELS = """
from sqlmodel import Field

from batteries_models import BaseModel


class Item(BaseModel, table=True):
    id: int = Field(primary_key=True)
    name: str
    value: int
"""

READ = """
    assert (await db_session.exec(select(func.count()).select_from(Item))).one() == {rows}
    assert (await db_session.get(Item, {key})).value == {key} * 7
"""

HEADER = """
import pytest
from sqlmodel import func, select

from models import Item
"""

# Loaded with -p: each test's setup + call + teardown, at full precision (JUnit XML rounds to ms).
TIMING_PLUGIN = """
import json
from collections import defaultdict

TIMES = defaultdict(float)


def pytest_runtest_logreport(report):
    TIMES[report.nodeid] += report.duration


def pytest_sessionfinish(session):
    with open("times.json", "w") as out:
        json.dump(TIMES, out)
"""

NAIVE_CONFTEST = """
import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from batteries_fixtures import load
from batteries_models import BaseModel, Database

import models  # noqa: F401 - the tables


@pytest.fixture
async def db_session():
    database = Database(NAIVE_URL)
    try:
        await database.drop_all(BaseModel.metadata)
        await database.create_all(BaseModel.metadata)
        await load(database, "items.json", models="models")
        async with AsyncSession(database.engine, expire_on_commit=False) as session:
            yield session
    finally:
        await database.dispose()
"""


@dataclass(frozen=True)
class Variant:
    name: str
    label: str
    pytestmark: str
    ini: str = LOOP_PER_TEST
    reads: bool = True


VARIANTS = [
    Variant("baseline", "no database", "", reads=False),
    Variant(
        "module",
        "(a) module fixtures + savepoint",
        '[pytest.mark.asyncio(loop_scope="module"), '
        'pytest.mark.fixtures("items.json", scope="module")]',
    ),
    Variant("per_test", "(b) fixtures per test", 'pytest.mark.fixtures("items.json")'),
    Variant("naive", "(c) naive conftest", ""),
    Variant("rollback", "rollback only, loop per test", "[]", reads=False),
    Variant(
        "rollback_session",
        "rollback only, one loop",
        "[]",
        ini=ONE_LOOP,
        reads=False,
    ),
]


def write_project(folder: Path, variant: Variant, tests: int, naive_url: str) -> None:
    folder.mkdir(parents=True)
    (folder / "pyproject.toml").write_text(PYPROJECT.format(ini=variant.ini))
    (folder / "models.py").write_text(MODELS)
    records = [
        {"table": "item", "pk": n, "fields": {"name": f"item {n}", "value": n * 7}}
        for n in range(1, ROWS + 1)
    ]
    (folder / "items.json").write_text(json.dumps(records))
    if variant.name == "naive":
        conftest = NAIVE_CONFTEST.replace("NAIVE_URL", repr(naive_url))
        (folder / "conftest.py").write_text(textwrap.dedent(conftest))
    lines = [HEADER]
    if variant.pytestmark:
        lines.append(f"pytestmark = {variant.pytestmark}\n")
    lines += [f"\nasync def test_{n}{test_body(variant, n % ROWS + 1)}" for n in range(tests)]
    (folder / "test_items.py").write_text("".join(lines))
    # What a run does once (making the test database, first imports, SQLAlchemy's first
    # compilation of each statement) is charged to a first test, which is not counted.
    warm = f"{HEADER}\n"
    if variant.name in ("module", "per_test"):
        warm += '\n@pytest.mark.fixtures("items.json")'
    warm += f"\nasync def test_warm_up{test_body(variant, 1)}"
    (folder / "test_0_warm_up.py").write_text(warm)


def test_body(variant: Variant, key: int) -> str:
    """The parameters and body of one test of ``variant``."""
    if variant.name == "baseline":
        return f"():\n    assert {key}\n"
    if variant.reads:
        return f"(db_session):{READ.format(rows=ROWS, key=key)}"
    return "(db_session):\n    await db_session.exec(select(1))\n"


def run_project(folder: Path, url: str) -> list[float]:
    """Per-test times in ms (setup + call + teardown), the warm-up test left out."""
    (folder / "bench_timing.py").write_text(TIMING_PLUGIN)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("BATTERIES_")}
    environment["DATABASE_URL"] = url
    environment.setdefault("PYTHONPYCACHEPREFIX", str(folder.parent / "pycache"))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "bench_timing"],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        msg = f"{folder.name} failed:\n{done.stdout[-3000:]}{done.stderr[-2000:]}"
        raise RuntimeError(msg)
    times: dict[str, float] = json.loads((folder / "times.json").read_text())
    return [seconds * 1000 for nodeid, seconds in times.items() if "warm_up" not in nodeid]


@dataclass
class Figures:
    means: list[float]
    medians: list[float]

    @property
    def mean(self) -> float:
        return statistics.median(self.means)

    @property
    def median(self) -> float:
        return statistics.median(self.medians)


def measure(backend: str, url: str, naive_url: str, tests: int, repeats: int) -> dict[str, Figures]:
    figures = {v.name: Figures([], []) for v in VARIANTS}
    with tempfile.TemporaryDirectory(prefix="bench-testing-") as tmp:
        for repeat in range(repeats):
            order = VARIANTS[repeat % len(VARIANTS) :] + VARIANTS[: repeat % len(VARIANTS)]
            for variant in order:
                folder = Path(tmp) / f"{backend}-{variant.name}-{repeat}"
                write_project(folder, variant, tests, naive_url)
                times = run_project(folder, url)
                assert len(times) == tests, (variant.name, len(times))
                figures[variant.name].means.append(statistics.fmean(times))
                figures[variant.name].medians.append(statistics.median(times))
                print(
                    f"  {backend} {variant.label}: mean {statistics.fmean(times):.2f} ms/test",
                    flush=True,
                )
    return figures


def table_rows(backend: str, figures: dict[str, Figures]) -> list[str]:
    base = figures["baseline"].mean
    return [
        f"| {backend} | {v.label} | {figures[v.name].mean:.2f} | {figures[v.name].median:.2f} | "
        f"{figures[v.name].mean - base if v.name != 'baseline' else 0:.2f} |"
        for v in VARIANTS
    ]


def summary(backend: str, figures: dict[str, Figures]) -> str:
    ratio = figures["naive"].mean / figures["module"].mean

    def rollback(name: str) -> str:
        overhead = figures[name].median - figures["baseline"].median
        if backend != "PostgreSQL":
            return f"{overhead:.2f} ms"
        met = "met" if overhead < TARGET_ROLLBACK_MS else "NOT met"
        return f"{overhead:.2f} ms (target < {TARGET_ROLLBACK_MS:.0f} ms: {met})"

    return (
        f"- {backend}: (c) / (a) = {ratio:.1f}x (target >= {TARGET_RATIO:.0f}x: "
        f"{'met' if ratio >= TARGET_RATIO else 'NOT met'}); (b) / (a) = "
        f"{figures['per_test'].mean / figures['module'].mean:.1f}x; rollback overhead per test "
        f"(medians): {rollback('rollback')} with a loop per test, "
        f"{rollback('rollback_session')} with one loop"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 tests, one repeat")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    tests, repeats = (20, 1) if args.quick else (200, args.repeats)
    print(
        f"Python {platform.python_version()}, {tests} tests per run, {repeats} repeat(s), "
        f"{ROWS:,}-row fixture"
    )
    results: list[tuple[str, dict[str, Figures]]] = []
    with tempfile.TemporaryDirectory(prefix="bench-testing-sqlite-") as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        naive = f"sqlite+aiosqlite:///{tmp}/naive.db"
        results.append(("SQLite", measure("SQLite", url, naive, tests, repeats)))

    async def with_postgres() -> None:
        async with throwaway_database() as naive_url:
            if naive_url is None:
                return
            # The plugin makes <name>_plugin_test from this name, and drops it after each run.
            configured = make_url(naive_url)
            url = configured.set(database=f"{configured.database}_plugin")
            text = url.render_as_string(hide_password=False)
            figures = await asyncio.to_thread(
                measure, "PostgreSQL", text, naive_url, tests, repeats
            )
            results.append(("PostgreSQL", figures))

    asyncio.run(with_postgres())
    lines = [
        "| backend | variant | mean ms/test | median ms/test | overhead ms/test |",
        "|---|---|---|---|---|",
    ]
    for backend, figures in results:
        lines += table_rows(backend, figures)
    lines.append("")
    lines += [summary(backend, figures) for backend, figures in results]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
