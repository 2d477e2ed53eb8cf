"""`make demo` keeps working: the README's first command, run as a user runs it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

DEMO = Path(__file__).resolve().parent.parent / "demo"


def test_demo_migrates_loads_serves_over_http_and_dumps_back_identically(tmp_path: Path) -> None:
    copy = tmp_path / "demo"
    shutil.copytree(DEMO, copy, ignore=shutil.ignore_patterns(".work", "__pycache__"))
    env = {**os.environ, "VENV": sys.prefix}
    result = subprocess.run(
        ["bash", str(copy / "run.sh")], env=env, capture_output=True, text=True, check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Loaded 15 rows into 4 tables" in output
    # Served by uvicorn over a real socket, as `make help` says, and stopped cleanly.
    assert "$ uvicorn demo_app.main:app  (serving http://127.0.0.1:" in output
    assert "GET  /heroes?age__gte=30 -> 2 heroes: Black Lion, Rusty-Man" in output
    assert "GET  /heroes?order_by=-name&page_size=2 -> Spider-Boy, Rusty-Man (has_next: true)" in (
        output
    )
    assert "-> 409" in output
    assert "GET  /heroes?agee__gte=30 -> 422: Extra inputs are not permitted (agee__gte)" in output
    assert "Server stopped (exit status 0)" in output
    assert "byte-identical" in output
