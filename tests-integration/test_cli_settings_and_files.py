"""A new user's first commands: settings found from a subfolder, typos named, no empty databases.

SQLite only where the subject is a SQLite file: a server database is never created by connecting.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from batteries_cli._app import app

MODELS = """
from typing import ClassVar

from sqlalchemy import MetaData
from sqlmodel import Field

from batteries_models import NAMING_CONVENTION, BaseModel, IntIDMixin


class Base(BaseModel):
    metadata: ClassVar[MetaData] = MetaData(naming_convention=NAMING_CONVENTION)


class Hero(Base, IntIDMixin, table=True):
    name: str = Field(unique=True)
"""

runner = CliRunner()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A project as `pip install` and a text editor leave it: pyproject.toml, .env, models."""
    name = f"first_day_{uuid.uuid4().hex[:8]}"
    (tmp_path / name).mkdir()
    (tmp_path / name / "__init__.py").write_text("")
    (tmp_path / name / "models.py").write_text(MODELS)
    (tmp_path / "pyproject.toml").write_text(f'[tool.batteries]\nmodels = "{name}.models"\n')
    (tmp_path / ".env").write_text("DATABASE_URL=sqlite+aiosqlite:///app.db\n")
    for variable in ("DATABASE_URL", "BATTERIES_DATABASE_URL", "BATTERIES_MODELS"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.delenv("BATTERIES_MIGRATIONS", raising=False)
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    for module in [m for m in sys.modules if m == name or m.startswith(f"{name}.")]:
        del sys.modules[module]


def fastapi_batteries(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_the_journey_runs_from_a_subfolder_of_the_project(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = next(p for p in project.iterdir() if p.name.startswith("first_day_"))
    monkeypatch.chdir(package)  # `cd app`: .env and migrations/ are one folder up

    assert fastapi_batteries("db", "init")[1] == (
        "Created migrations/ for database 'default': now run makemigrations\n"
    )
    code, output = fastapi_batteries("db", "makemigrations", "-m", "create hero")
    assert code == 0, output
    assert output.startswith("Wrote migrations/versions/")
    code, output = fastapi_batteries("db", "upgrade")
    assert code == 0, output
    assert fastapi_batteries("db", "current")[1].endswith(" (head)\n")
    assert (project / "migrations" / "env.py").is_file()
    assert (project / "app.db").is_file()  # the root's .env names the root's app.db
    assert not (package / "app.db").exists()
    assert not (package / "migrations").exists()


@pytest.mark.parametrize(
    "command",
    [
        ("db", "current"),
        ("db", "check"),
        ("db", "show", "current"),
        ("db", "downgrade", "base", "--yes"),
        ("fixtures", "dump"),
        ("fixtures", "load", "heroes.json"),
    ],
)
def test_a_command_that_reads_says_the_sqlite_file_does_not_exist(
    project: Path, command: tuple[str, ...]
) -> None:
    (project / "heroes.json").write_text('[{"table": "hero", "pk": 1, "fields": {"name": "A"}}]')
    assert fastapi_batteries("db", "init")[0] == 0

    code, output = fastapi_batteries(*command)

    assert code == 1
    assert output.startswith(
        f"Error: Database 'default' is a SQLite file that does not exist: {project / 'app.db'} "
    )
    assert "`fastapi-batteries db upgrade` creates it" in output
    assert len(output.splitlines()) == 1
    assert not (project / "app.db").exists()  # not created as an empty database


def test_the_first_makemigrations_compares_with_an_empty_database_and_upgrade_creates_it(
    project: Path,
) -> None:
    fastapi_batteries("db", "init")

    code, output = fastapi_batteries("db", "makemigrations", "-m", "create hero")
    assert code == 0, output
    assert not (project / "app.db").exists()
    assert "CREATE TABLE hero" in fastapi_batteries("db", "upgrade", "--sql")[1]
    assert not (project / "app.db").exists()  # a dry run creates nothing either

    code, output = fastapi_batteries("db", "upgrade")
    assert code == 0, output
    assert (project / "app.db").is_file()
    code, output = fastapi_batteries("db", "makemigrations", "-m", "nothing")
    assert output == "No changes detected: nothing written (use --empty for a blank revision)\n"


@pytest.mark.parametrize("command", [("db", "current"), ("fixtures", "dump")])
def test_a_typo_in_tool_batteries_is_one_warning_line_before_the_output(
    project: Path, command: tuple[str, ...]
) -> None:
    fastapi_batteries("db", "init")
    fastapi_batteries("db", "makemigrations", "-m", "create hero")
    fastapi_batteries("db", "upgrade")
    text = (project / "pyproject.toml").read_text()
    (project / "pyproject.toml").write_text(text + 'migrations_folder = "migrations"\n')

    code, output = fastapi_batteries(*command)

    assert code == 0, output
    warning = (
        f"Warning: Unknown setting 'migrations_folder' in [tool.batteries] of "
        f"{project / 'pyproject.toml'} is ignored: did you mean 'migrations'?"
    )
    assert output.splitlines().count(warning) == 1  # read by several steps, shown once
    assert "UnknownSettingWarning" not in output  # no Python source location


@pytest.mark.parametrize("command", [("db", "current"), ("fixtures", "dump")])
def test_a_setting_that_does_not_validate_is_one_line_naming_it(
    project: Path, monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...]
) -> None:
    (project / ".env").write_text(
        "DATABASE_URL=sqlite+aiosqlite:///app.db\nBATTERIES_POOL_SIZE=ten\n"
    )

    code, output = fastapi_batteries(*command)

    assert code == 1
    assert output == (
        f"Error: Invalid setting pool_size, from .env {project / '.env'} (BATTERIES_POOL_SIZE): "
        "Input should be a valid integer, unable to parse string as an integer (got 'ten'); "
        "fix the value where it is set\n"
    )
