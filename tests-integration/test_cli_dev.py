"""``fastapi-batteries dev``: the demo app served, reloaded after an edit, stopped cleanly."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from backends import Backend
from batteries_cli._app import app
from demo_project import BIN, DemoProject, free_port, wait_until

PASSWORD = "s3cret-pw"
RELOADED = """

@app.get("/version")
async def version() -> dict[str, str]:
    return {"version": "edited"}
"""


def get(port: int, path: str) -> Any:
    """The JSON body of ``GET path``, or ``None`` while nothing answers."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return json.loads(response.read())
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def test_dev_migrates_seeds_serves_reloads_and_stops(demo: DemoProject, backend: Backend) -> None:
    url = backend.url
    if backend.has_passwords:  # the printed URL must hide it
        url = make_url(url).set(password=PASSWORD).render_as_string(hide_password=False)
    port = free_port()
    log = demo.root / "dev.log"
    with log.open("w") as output:
        command = ["dev", "--port", str(port), "--migrate", "--seed", "fixtures/heroes.json"]
        server = subprocess.Popen(
            [str(BIN / "fastapi-batteries"), *command],
            cwd=demo.root,
            env=demo.env(DATABASE_URL=url),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:

        def answers(path: str) -> bool:
            assert server.poll() is None, log.read_text()
            return get(port, path) is not None

        wait_until(lambda: answers("/heroes"), "the demo app to answer")
        assert get(port, "/heroes")["total"] == 4  # migrated, then seeded

        with (demo.root / "demo_app" / "main.py").open("a", encoding="utf-8") as source:
            source.write(RELOADED)
        wait_until(lambda: answers("/version"), "the reloaded app to answer")
        assert get(port, "/version") == {"version": "edited"}

        server.send_signal(signal.SIGINT)  # Ctrl+C
        assert server.wait(timeout=60) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    printed = log.read_text()
    assert get(port, "/heroes") is None  # the worker went with the reloader
    assert "app        demo_app.main:app (from settings)" in printed
    assert "migrations applied 1 revision(s), at head" in printed
    assert "seeded     Loaded 15 rows into 4 tables" in printed
    assert "Application shutdown complete" in printed
    assert PASSWORD not in printed
    if backend.has_passwords:
        assert ":***@" in printed


def test_dev_refuses_production_unless_forced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BATTERIES_ENVIRONMENT", "production")
    runner = CliRunner()

    refused = runner.invoke(app, ["dev"])
    assert refused.exit_code == 1
    assert (
        "Refusing to run the development server (fastapi-batteries dev): BATTERIES_ENVIRONMENT "
        "is 'production'" in refused.stderr
    )
    assert "pass --force" in refused.stderr

    forced = runner.invoke(app, ["dev", "--force"])  # past the refusal, to the next question
    assert forced.exit_code == 1
    assert "No FastAPI app found" in forced.stderr


def test_truncating_loads_refuse_production_unless_forced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BATTERIES_ENVIRONMENT", "production")
    (tmp_path / "empty.json").write_text("[]", encoding="utf-8")
    sqlite3.connect(tmp_path / "prod.sqlite3").close()  # loads never create the database
    load = ["fixtures", "load", "empty.json", "--truncate", "--yes", "--database-url"]
    load.append(f"sqlite+aiosqlite:///{tmp_path / 'prod.sqlite3'}")
    runner = CliRunner()

    refused = runner.invoke(app, load)
    assert refused.exit_code == 1
    assert (
        "Refusing to delete every row of the fixture's tables (load --truncate)" in refused.stderr
    )

    assert runner.invoke(app, [*load, "--dry-run"]).exit_code == 0  # writes nothing: allowed
    forced = runner.invoke(app, [*load, "--force"])
    assert forced.exit_code == 0, forced.stderr
    assert "Loaded 0 rows" in forced.stderr


def test_dev_without_uvicorn_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "uvicorn", None)
    result = CliRunner().invoke(app, ["dev"])
    assert result.exit_code == 1
    assert "pip install 'fastapi-batteries[dev]'" in result.stderr
