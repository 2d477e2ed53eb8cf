"""The Testing page's example project passes with the pytest plugin, as a user runs it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from backends import Backend

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "docs" / "examples" / "testing"
FILES = sorted(p.relative_to(ROOT).as_posix() for p in EXAMPLE.rglob("*") if p.is_file())


def test_the_docs_page_includes_every_file_of_the_example() -> None:
    page = (ROOT / "docs" / "testing.md").read_text()
    for name in FILES:
        assert f'--8<-- "{name}"' in page


def test_the_example_project_passes_on_the_backend(backend: Backend, tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(EXAMPLE, project)
    environment = {
        name: value
        for name, value in os.environ.items()
        # An outer xdist run (make stress) must not name the inner run's databases.
        if not name.startswith(("PYTEST_XDIST", "BATTERIES_")) and name != "PYTEST_ADDOPTS"
    }
    environment["DATABASE_URL"] = backend.url
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-W", "error", "-p", "no:randomly"],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "7 passed" in result.stdout, result.stdout
