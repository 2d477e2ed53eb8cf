"""Every code example of docs/crud.md runs, as a user would run it, on both backends."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from batteries_models import Database

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "docs" / "examples").glob("crud_*.py"))


def test_the_docs_page_includes_every_example() -> None:
    page = (ROOT / "docs" / "crud.md").read_text()
    for example in EXAMPLES:
        assert f'--8<-- "docs/examples/{example.name}"' in page


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.stem for e in EXAMPLES])
def test_example_runs(example: Path, database: Database, tmp_path: Path) -> None:
    # A separate process: each example declares its own models, as a user's script would.
    url = database.url.render_as_string(hide_password=False)
    result = subprocess.run(
        [sys.executable, str(example), url],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONWARNINGS": "error"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
