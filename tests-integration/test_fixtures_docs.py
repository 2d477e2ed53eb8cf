"""The code examples of the Fixtures docs page run, on both databases."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).parent.parent / "docs" / "examples"


def _run(
    example: str, backend: Any, cwd: Path, **variables: str
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": backend.url, **variables}
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
        "fixtures_scrub.py",
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


def test_the_scrub_example_refreshes_staging_with_no_personal_data(
    backend: Any, other_backend: Any, tmp_path: Path
) -> None:
    """Production on one database, staging on the other kind: subset, scrub, load."""

    def refresh(key: str) -> tuple[str, list[dict[str, Any]]]:
        result = _run(
            "fixtures_scrub.py",
            backend,
            tmp_path,
            STAGING_URL=other_backend.url,
            BATTERIES_SCRUB_KEY=key,
        )
        return result.stdout, json.loads(result.stdout[result.stdout.index("[\n{") :])

    out, records = refresh("k" * 40)
    # The leak guard stopped the first try, naming the column without a rule.
    assert "refused: --scrub: 1 column looks personal" in out
    assert '"docs_customer.phone" = "phone"' in out
    assert "Loaded 3 rows into 2 tables" in out
    dumped = json.dumps(records)
    for personal in ("ann@corp.example", "Ann Lee", "12 34 56 78", "1990-05-17", "Bob Stone"):
        assert personal not in dumped
    customers = [r for r in records if r["table"] == "docs_customer"]
    orders = [r for r in records if r["table"] == "docs_order"]
    assert [c["fields"]["country"] for c in customers] == ["FR", "FR"]  # kept, and the subset
    assert [o["fields"]["status"] for o in orders] == ["paid"]  # the cancelled one dropped
    # The order points at its customer by the scrubbed e-mail, and staging joins them.
    email = orders[0]["fields"]["customer_id"][0]
    assert email == customers[0]["fields"]["email"]
    assert f"staging order of 1250 cents by {email}" in out
