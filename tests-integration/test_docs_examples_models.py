"""The code of the Models and Getting started pages runs as a user would run it, on both DBs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from backends import Backend

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"


def run_example(name: str, *args: str, cwd: Path, env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def without_settings() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("BATTERIES_", "DATABASE_URL"))}


def test_models_quickstart(backend: Backend, tmp_path: Path) -> None:
    env = {**without_settings(), "DATABASE_URL": backend.url}
    output = run_example("models_quickstart.py", cwd=tmp_path, env=env)
    assert output.strip() == "['Deadpond']"


def test_getting_started(backend: Backend, tmp_path: Path) -> None:
    output = run_example("getting_started.py", backend.url, cwd=tmp_path, env=without_settings())
    first, _, fixture = output.partition("\n")
    assert first == "2 adults: Deadpond, Rusty-Man"
    assert fixture.count('"table": "hero"') == 3
