"""``fastapi-batteries db shell``: the database's own client, with the password kept off argv."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

from backends import Backend
from demo_project import BIN, DemoProject

FAKE_PSQL = """#!/bin/sh
echo "argv: $*"
echo "PGPASSWORD=$PGPASSWORD PGHOST=$PGHOST PGPORT=$PGPORT PGUSER=$PGUSER PGDATABASE=$PGDATABASE"
echo "PGSSLMODE=$PGSSLMODE"
exit 3
"""


def test_db_shell_runs_the_client_on_the_configured_database(
    demo: DemoProject, backend: Backend
) -> None:
    demo.ready()
    done = demo.run("db", "shell", "--", *backend.client_query("select count(*) from hero"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "4"


def fake_psql(folder: Path) -> Path:
    folder.mkdir()
    script = folder / "psql"
    script.write_text(FAKE_PSQL, encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return folder


def run(args: list[str], url: str, path: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BATTERIES_", "PG"))}
    env |= {"DATABASE_URL": url, "PATH": path}
    return subprocess.run(
        [str(BIN / "fastapi-batteries"), "db", "shell", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_password_goes_through_the_environment_never_argv(tmp_path: Path) -> None:
    folder = fake_psql(tmp_path / "bin")
    url = "postgresql://app:s3cr%40t-pw@db.example:6543/shop?sslmode=require"

    done = run(["--", "-c", "select 1"], url, f"{folder}:{os.environ['PATH']}", tmp_path)

    assert done.returncode == 3  # the client's own exit status
    argv, variables, ssl = done.stdout.splitlines()
    assert argv == "argv: -c select 1"
    assert "s3cr" not in argv
    assert variables == (
        "PGPASSWORD=s3cr@t-pw PGHOST=db.example PGPORT=6543 PGUSER=app PGDATABASE=shop"
    )
    assert ssl == "PGSSLMODE=require"


def test_a_missing_client_says_what_to_install(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    for url, client in (
        ("postgresql://app@localhost/shop", "psql"),
        (f"sqlite:///{tmp_path / 'app.db'}", "sqlite3"),
    ):
        done = run([], url, str(empty), tmp_path)
        assert done.returncode == 1
        assert done.stderr.startswith(f"Error: {client} is not installed or not on PATH: install")
        assert "Traceback" not in done.stderr
