"""`make demo` keeps working: the README's first command, run as a user runs it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

DEMO = Path(__file__).resolve().parent.parent / "demo"


def test_demo_migrates_loads_serves_and_dumps_back_identically(tmp_path: Path) -> None:
    copy = tmp_path / "demo"
    shutil.copytree(DEMO, copy, ignore=shutil.ignore_patterns(".work", "__pycache__"))
    env = {**os.environ, "VENV": sys.prefix}
    result = subprocess.run(
        ["bash", str(copy / "run.sh")], env=env, capture_output=True, text=True, check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Loaded 15 rows into 4 tables" in output
    assert "GET  /heroes?min_age=30 -> 2 heroes: Black Lion, Rusty-Man" in output
    assert "-> 409" in output
    assert "byte-identical" in output
