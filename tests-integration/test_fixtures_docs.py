"""The code examples of the Fixtures docs page run, on both databases."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).parent.parent / "docs" / "examples"


def _run(example: str, backend: Any, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": backend.url}
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / example)],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result


def test_every_fixtures_example_is_tested() -> None:
    assert sorted(p.name for p in EXAMPLES.glob("fixtures_*.py")) == [
        "fixtures_round_trip.py",
        "fixtures_subset.py",
    ]


def test_the_round_trip_example_runs(backend: Any, tmp_path: Path) -> None:
    result = _run("fixtures_round_trip.py", backend, tmp_path)
    assert "Loaded 3 rows into 2 tables" in result.stdout
    records = json.loads(result.stdout[result.stdout.index("[") :])
    assert [r["table"] for r in records] == ["docs_team", "docs_hero", "docs_hero"]


def test_the_subset_example_moves_the_related_rows_only(backend: Any, tmp_path: Path) -> None:
    result = _run("fixtures_subset.py", backend, tmp_path)
    assert "Dumped 4 rows from 3 tables" in result.stdout
    assert "Loaded 4 rows into 3 tables" in result.stdout
    records = json.loads(result.stdout[result.stdout.index("[") :])
    assert [(r["table"], r["pk"]) for r in records] == [
        ("docs_author", 1),
        ("docs_book", 1),
        ("docs_book", 3),
        ("docs_review", 1),
    ]
