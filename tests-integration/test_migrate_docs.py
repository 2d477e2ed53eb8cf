"""The code of docs/migrations.md runs as written, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import batteries_migrate

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"


def _project(root: Path) -> None:
    """An empty project folder with app/models.py from the docs."""
    (root / "app").mkdir()
    (root / "app" / "__init__.py").write_text("", encoding="utf-8")
    shutil.copy(EXAMPLES / "migrations_models.py", root / "app" / "models.py")
    (root / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0"\n\n[tool.batteries]\nmodels = "app.models"\n',
        encoding="utf-8",
    )


@pytest.fixture(scope="session")
def pycache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bytecode cache shared by the subprocesses: without one each recompiles every import."""
    return tmp_path_factory.mktemp("pycache")


def _run(args: list[str], root: Path, url: str, pycache: Path) -> subprocess.CompletedProcess[str]:
    skip = ("BATTERIES_", "DATABASE_URL", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if not k.startswith(skip)}
    env |= {"BATTERIES_DATABASE_URL": url, "TEST_DATABASE_URL": url, "PYTHONPATH": str(root)}
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return subprocess.run(
        [sys.executable, *args], cwd=root, env=env, capture_output=True, text=True, check=False
    )


def test_api_example_then_the_test_helper_example(
    backend: Any, tmp_path: Path, pycache: Path
) -> None:
    _project(tmp_path)
    shutil.copy(EXAMPLES / "migrations_test_helpers.py", tmp_path / "test_migrations.py")
    # One interpreter for both, as the slow part is starting one: the journey, then pytest.
    script = (
        "import runpy, sys, pytest\n"
        f"runpy.run_path({str(EXAMPLES / 'migrations_api.py')!r}, run_name='__main__')\n"
        "sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', 'test_migrations.py']))\n"
    )

    completed = _run(["-c", script], tmp_path, backend.url, pycache)

    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "wrote " in completed.stdout
    assert "CREATE TABLE hero" in completed.stdout
    assert "1 passed" in completed.stdout


async def test_lifespan_example_upgrades_inside_the_event_loop(
    backend: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BATTERIES_DATABASE_URL", backend.url)
    monkeypatch.delenv("BATTERIES_MODELS", raising=False)
    batteries_migrate.init()
    revision = batteries_migrate.make_migration("empty start", empty=True)
    assert revision is not None
    namespace: dict[str, Any] = {}
    exec(compile((EXAMPLES / "migrations_lifespan.py").read_text(), "lifespan", "exec"), namespace)

    app = namespace["app"]
    async with app.router.lifespan_context(app):  # what the server runs at start-up
        assert batteries_migrate.current() == (revision.id,)


def test_lifespan_example_migrates_and_seeds_at_start_up(
    backend: Any, tmp_path: Path, pycache: Path
) -> None:
    _project(tmp_path)
    shutil.copy(EXAMPLES / "lifespan_migrate_seed.py", tmp_path / "app" / "main.py")
    (tmp_path / "fixtures").mkdir()
    at = "2026-01-01T00:00:00Z"
    fields = {"name": "Deadpond", "secret_name": "Dive", "created_at": at, "updated_at": at}
    record = {"table": "hero", "pk": 1, "fields": fields}
    (tmp_path / "fixtures" / "dev.json").write_text(json.dumps([record]), encoding="utf-8")
    made = _run(["-c", MAKE_FIRST_MIGRATION], tmp_path, backend.url, pycache)
    assert made.returncode == 0, made.stdout + made.stderr
    serve = (
        "import asyncio, httpx\n"
        "from app.main import app\n"
        "async def main():\n"
        "    async with app.router.lifespan_context(app), httpx.AsyncClient(\n"
        "        transport=httpx.ASGITransport(app=app), base_url='http://app') as client:\n"
        "        print('heroes:', (await client.get('/heroes/count')).json())\n"
        "asyncio.run(main())\n"
    )

    completed = _run(["-c", serve], tmp_path, backend.url, pycache)

    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert completed.stdout.strip() == "heroes: 1"


MAKE_FIRST_MIGRATION = (
    "import batteries_migrate\n"
    "batteries_migrate.init()\n"
    "assert batteries_migrate.make_migration('create hero') is not None\n"
)


def _console_sessions(section: str) -> list[tuple[list[str], list[str]]]:
    """Each ``$ fastapi-batteries ...`` command of ``section`` with the output the page shows."""
    page = (EXAMPLES.parent / "migrations.md").read_text(encoding="utf-8")
    text = page.split(section, 1)[1].split("\n## ", 1)[0]
    sessions: list[tuple[list[str], list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", text, flags=re.DOTALL):
        for line in block.splitlines():
            if line.startswith("$ fastapi-batteries "):
                command = shlex.split(line[2:].split("  #")[0])[1:]
                sessions.append((command, []))
            elif sessions and not line.startswith("$ "):
                sessions[-1][1].append(line)
    return sessions


def _normalised(text: str) -> str:
    text = re.sub(r"(?<![0-9a-f])[0-9a-f]{12}(?![0-9a-f])", "<rev>", text)
    return re.sub(r"\d{4}_\d{2}_\d{2}_\d{4}", "<date>", text)


# Runs the commands in a fresh interpreter (the page's models sit on the shared BaseModel
# metadata), answering the confirmation as a user at a terminal would.
_DRIVER = """
import json, sys
import batteries_migrate.cli as migrate_cli
from typer.testing import CliRunner
from batteries_cli._app import app

migrate_cli._stdin_is_interactive = lambda: True
results = []
for command in json.loads(sys.argv[1]):
    result = CliRunner().invoke(app, command, input="y\\n")
    results.append([result.exit_code, result.output])
print(json.dumps(results))
"""


def test_the_console_sessions_of_the_page_print_what_the_page_shows(
    backend: Any, tmp_path: Path, pycache: Path
) -> None:
    _project(tmp_path)
    sessions = _console_sessions("## From an empty folder")
    assert len(sessions) >= 8
    commands = json.dumps([command for command, _ in sessions])

    completed = _run(["-c", _DRIVER, commands], tmp_path, backend.url, pycache)

    assert completed.returncode == 0, completed.stderr
    results = json.loads(completed.stdout)
    for (command, shown), (code, output) in zip(sessions, results, strict=True):
        assert code == 0, (command, output)
        if shown:  # the page shows no output for the SQL of --sql
            expected = "\n".join(
                shown
            )  # with the "y" typed at the question, as the runner echoes it
            assert _normalised(output).splitlines() == _normalised(expected).splitlines(), command
