"""The code on the docs' Models page runs, as a user would run it, on both databases."""

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
