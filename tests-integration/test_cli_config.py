"""``fastapi-batteries config``: ``show`` says where each setting came from; ``check`` is a
deploy gate, one line per check and exit 1 on a failure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from backends import Backend
from batteries_cli._app import app
from demo_project import DemoProject

AGE = "    age: int | None = None\n"


def failures(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("FAIL")]


def test_a_ready_project_passes_every_check(demo: DemoProject) -> None:
    demo.ready()

    done = demo.run("config", "check")

    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert [line.split(":")[0] for line in lines[:-1]] == [
        "ok    settings",
        "ok    models",
        "ok    database 'default'",
        "ok    migrations of 'default'",
        "ok    model changes of 'default'",
        "ok    app",
    ]
    assert lines[-1] == "6 ok, 0 failed, 0 skipped"


def test_a_pending_migration_fails_one_line(demo: DemoProject) -> None:
    for args in (("db", "upgrade"), ("db", "downgrade", "base", "--yes")):
        done = demo.run(*args)  # reachable, with nothing applied
        assert done.returncode == 0, done.stderr

    done = demo.run("config", "check")

    assert done.returncode == 1
    assert failures(done.stdout) == [
        "FAIL  migrations of 'default': not at head (at no revision, head "
        f"{head(demo)}): run fastapi-batteries db upgrade"
    ]


def test_a_model_change_without_a_migration_fails_one_line(demo: DemoProject) -> None:
    demo.ready()
    models = demo.root / "demo_app" / "models.py"
    source = models.read_text(encoding="utf-8")
    models.write_text(
        source.replace('    """A power a hero can have."""\n', '    """A power."""\n\n' + AGE)
    )

    done = demo.run("config", "check")

    assert done.returncode == 1
    (line,) = failures(done.stdout)
    assert line.startswith("FAIL  model changes of 'default': 1 change(s) without a migration")
    assert "add column power.age" in line
    assert line.endswith("run fastapi-batteries db makemigrations")


def test_an_unreachable_database_fails_one_line_and_hides_the_password(
    demo: DemoProject, backend: Backend
) -> None:
    if backend.has_passwords:
        url = make_url(backend.url).set(password="s3cret-pw", port=1)
        unreachable = url.render_as_string(hide_password=False)
    else:
        unreachable = f"sqlite+aiosqlite:///{demo.root / 'missing.sqlite3'}"

    done = demo.run("config", "check", env=demo.env(DATABASE_URL=unreachable))

    assert done.returncode == 1
    (line,) = failures(done.stdout)
    assert line.startswith("FAIL  database 'default': ")
    assert "skip  migrations of 'default': the database is unreachable" in done.stdout
    assert "s3cret-pw" not in done.stdout + done.stderr
    assert not (demo.root / "missing.sqlite3").exists()  # the check created no database


def head(demo: DemoProject) -> str:
    done = demo.run("db", "heads")
    return done.stdout.split(" -> ")[1].split(" ")[0]


def test_show_names_each_source_and_masks_passwords(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("DATABASE_URL", "BATTERIES_DATABASE_URL", "BATTERIES_MODELS", "BATTERIES_ECHO"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "pyproject.toml").write_text('[tool.batteries]\nmodels = "app.models"\n')
    (tmp_path / ".env").write_text(
        "DATABASE_URL=postgresql://app:s3cret-pw@db.example/app\n"
        "BATTERIES_SCRUB_KEY=scrub-s3cret-key\n"
    )
    monkeypatch.setenv("BATTERIES_ECHO", "true")

    shown = CliRunner().invoke(app, ["config", "show"])

    assert shown.exit_code == 0, shown.output
    rows = {line.split()[0]: line for line in shown.stdout.splitlines()}
    assert rows["database_url"].split()[1] == "postgresql://app:***@db.example/app"
    assert rows["database_url"].endswith(f".env {tmp_path / '.env'} (DATABASE_URL)")
    assert rows["echo"].endswith("environment BATTERIES_ECHO")
    assert rows["models"].endswith(f"pyproject.toml {tmp_path / 'pyproject.toml'} (models)")
    assert rows["environment"].endswith("default")
    assert "environment > .env" in rows["precedence:"]
    assert "s3cret-pw" not in shown.output
    assert rows["scrub_key"].split()[1] == "***"
    assert "scrub-s3cret-key" not in shown.output

    as_json = json.loads(CliRunner().invoke(app, ["config", "show", "--json"]).stdout)
    by_name = {entry["name"]: entry for entry in as_json["settings"]}
    assert by_name["database_url"] == {
        "name": "database_url",
        "value": "postgresql://app:***@db.example/app",
        "origin": "dotenv",
        "path": str(tmp_path / ".env"),
        "key": "DATABASE_URL",
    }
    assert by_name["echo"]["value"] is True
    assert by_name["scrub_key"]["value"] == "***"
    assert as_json["env_files"] == [str(tmp_path / ".env")]


def test_an_unknown_setting_fails_the_check(demo: DemoProject) -> None:
    demo.ready()
    pyproject = demo.root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + 'modles = "typo"\n', encoding="utf-8")

    done = demo.run("config", "check")

    assert done.returncode == 1
    (line,) = failures(done.stdout)
    assert line.startswith("FAIL  settings: Unknown setting")
    assert "'modles'" in line
    assert "did you mean 'models'" in line


def test_invalid_settings_fail_naming_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BATTERIES_ENVIRONMENT", "prod")

    done = CliRunner().invoke(app, ["config", "check"])

    assert done.exit_code == 1
    (line,) = failures(done.stdout)
    assert line.startswith("FAIL  settings: Invalid setting environment, from environment ")
    assert "BATTERIES_ENVIRONMENT" in line
    assert "'development', 'test' or 'production'" in line
