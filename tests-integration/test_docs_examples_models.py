"""The code of the Models and Getting started pages runs as a user would run it, on both DBs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from backends import Backend

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"


def test_models_quickstart(backend: Backend, tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": backend.url}
    env.pop("BATTERIES_DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "models_quickstart.py")],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['Deadpond']"


def test_getting_started(backend: Backend, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BATTERIES_", "DATABASE_URL"))}
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "getting_started.py"), backend.url],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    first, _, fixture = result.stdout.partition("\n")
    assert first == "2 adults: Deadpond, Rusty-Man"
    assert '"table": "hero"' in fixture
    assert fixture.count('"table": "hero"') == 3
