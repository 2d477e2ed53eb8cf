"""The code examples of the Fixtures docs page run, on both databases."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

EXAMPLES = Path(__file__).parent.parent / "docs" / "examples"


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("fixtures_*.py")))
def test_docs_example_runs(backend: Any, example: str, tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": backend.url}
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / example)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Loaded 3 rows into 2 tables" in result.stdout
    records = json.loads(result.stdout[result.stdout.index("[") :])
    assert [r["table"] for r in records] == ["docs_team", "docs_hero", "docs_hero"]
