"""``fastapi-batteries db``: the commands a user types, on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import batteries_migrate.cli as migrate_cli
from batteries_cli._app import app

MODELS = """
from typing import ClassVar

from sqlalchemy import MetaData
from sqlmodel import Field

from batteries_models import NAMING_CONVENTION, BaseModel


class Base(BaseModel):
    metadata: ClassVar[MetaData] = MetaData(naming_convention=NAMING_CONVENTION)


class Hero(Base, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str
{extra}
"""


class Shell:
    """Runs ``fastapi-batteries`` in a project folder and remembers the models module."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root = root
        self.monkeypatch = monkeypatch
        self.runner = CliRunner()
        self.modules: list[str] = []

    def models(self, extra: str = "") -> None:
        name = f"cli_models_{uuid.uuid4().hex[:10]}"
        (self.root / f"{name}.py").write_text(MODELS.format(extra=extra), encoding="utf-8")
        self.modules.append(name)
        self.monkeypatch.setenv("BATTERIES_MODELS", name)

    def __call__(self, *args: str) -> Any:
        return self.runner.invoke(app, ["db", *args])


@pytest.fixture
def shell(backend: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Shell]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("BATTERIES_DATABASE_URL", backend.url)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    created = Shell(tmp_path, monkeypatch)
    yield created
    for name in created.modules:
        sys.modules.pop(name, None)


def test_journey_from_init_to_downgrade(shell: Shell) -> None:
    shell.models()

    assert (
        shell("init").output
        == "Created migrations/ for database 'default': now run makemigrations\n"
    )
    made = shell("makemigrations", "-m", "create hero")
    assert made.exit_code == 0, made.output
    [path] = (shell.root / "migrations" / "versions").glob("*.py")
    first = path.name.split("-")[1].split("_")[0]
    # The path relative to the project, as the docs show; no "Running post write hook ...".
    assert made.output == f"Wrote migrations/versions/{path.name} ({first}: create hero)\n"
    up = shell("upgrade")
    assert up.exit_code == 0, up.output
    assert up.output == f"Applied 1 revision on database 'default':\n  {first} create hero\n"

    assert shell("current").output == f"{first} (head)\n"
    assert f"    migrations/versions/{path.name}" in shell("history", "-v").output
    assert shell("check").exit_code == 0

    shell.models(extra="    power: int | None = None\n")
    shell("makemigrations", "-m", "add power")
    second = shell("heads").output.split(" -> ")[1].split(" ")[0]
    assert shell("upgrade").output.splitlines()[1:] == [f"  {second} add power"]
    assert shell("current").output == f"{second} (head)\n"
    assert shell("downgrade", "-1", "--yes").output == (
        f"Reverted 1 revision on database 'default':\n  {second} add power\n"
    )
    assert shell("current").output == f"{first}\n"  # no longer the head
    assert shell("upgrade", "head").exit_code == 0

    down = shell("downgrade", "base", "--yes")
    assert down.exit_code == 0, down.output
    assert down.output.splitlines() == [
        "Reverted 2 revisions on database 'default':",
        f"  {second} add power",
        f"  {first} create hero",
    ]
    assert shell("current").output.strip() == "(no revision applied)"
    assert shell("downgrade", "base").output == (
        "Nothing to revert: database 'default' is already at base\n"
    )
    assert shell("upgrade", "--quiet").output == ""
    assert shell("upgrade").output == "Nothing to do: database 'default' is already at head\n"


def test_check_exits_non_zero_with_the_differences(shell: Shell) -> None:
    shell.models()
    shell("init")
    shell("makemigrations", "-m", "create hero")
    shell("upgrade")
    shell.models(extra="    power: int | None = None\n")

    result = shell("check")

    assert result.exit_code == 1
    assert "add column hero.power (INTEGER, nullable)" in result.output
    assert "makemigrations" in result.output


def test_downgrade_and_stamp_refuse_without_yes_when_not_a_terminal(shell: Shell) -> None:
    shell.models()
    shell("init")
    shell("makemigrations", "-m", "create hero")
    shell("upgrade")
    before = shell("current").output

    head = before.split()[0]
    for args, what in (
        (("downgrade", "base"), f"reverts 1 revision ({head})"),
        (("stamp", "base"), "records base as the revision of database 'default'"),
    ):
        result = shell(*args)
        assert result.exit_code == 1
        assert f"this command {what} and stdin is not a terminal: pass --yes" in result.output
        assert "Traceback" not in result.output
    assert shell("current").output == before


def test_downgrade_asks_on_a_terminal(shell: Shell, monkeypatch: pytest.MonkeyPatch) -> None:
    shell.models()
    shell("init")
    shell("makemigrations", "-m", "create hero")
    shell("upgrade")
    before = shell("current").output
    monkeypatch.setattr(migrate_cli, "_stdin_is_interactive", lambda: True)

    refused = shell.runner.invoke(app, ["db", "downgrade", "base"], input="n\n")
    assert refused.exit_code == 1
    head = before.split()[0]
    # The question lists what it reverts before the answer is asked for.
    assert refused.output.startswith(
        f"Downgrade database 'default' to base, reverting 1 revision:\n  {head} create hero\n"
        "Data they added may be lost. Revert them? [y/N]: "
    )
    assert shell("current").output == before

    accepted = shell.runner.invoke(app, ["db", "downgrade", "base"], input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert shell("current").output.strip() == "(no revision applied)"


def test_upgrade_sql_is_a_dry_run(shell: Shell, backend: Any) -> None:
    shell.models()
    shell("init")
    shell("makemigrations", "-m", "create hero")

    result = shell("upgrade", "--sql")

    assert result.exit_code == 0, result.output
    assert "CREATE TABLE hero" in result.output
    if backend.database_is_a_file:  # neither makemigrations nor the dry run created it
        assert "is a SQLite file that does not exist" in shell("current").output
    else:
        assert shell("current").output.strip() == "(no revision applied)"

    quiet = shell("upgrade", "--quiet")
    assert quiet.exit_code == 0
    assert quiet.output == ""
    assert shell("current").output.strip() != "(no revision applied)"


def test_makemigrations_warns_when_a_table_is_dropped(shell: Shell) -> None:
    shell.models()
    shell("init")
    shell("makemigrations", "-m", "create hero")
    shell("upgrade")
    name = f"cli_models_{uuid.uuid4().hex[:10]}"
    (shell.root / f"{name}.py").write_text(
        MODELS.split("class Hero")[0].replace("{extra}", "") + "class Villain(Base, table=True):\n"
        "    id: int | None = Field(default=None, primary_key=True)\n",
        encoding="utf-8",
    )
    shell.modules.append(name)
    shell.monkeypatch.setenv("BATTERIES_MODELS", name)

    result = shell("makemigrations", "-m", "villains only")

    assert result.exit_code == 0, result.output
    assert "Warning: Revision" in result.output
    assert "DROPS table hero" in result.output


def test_errors_are_one_line_without_traceback(shell: Shell) -> None:
    shell.models()
    missing = shell("upgrade")
    assert missing.exit_code == 1
    assert "run `fastapi-batteries db init`" in missing.output

    shell("init")
    shell("makemigrations", "-m", "create hero")
    unknown = shell("upgrade", "deadbeef")
    assert unknown.exit_code == 1
    assert "Unknown revision 'deadbeef'" in unknown.output

    for result in (missing, unknown):
        assert result.output.count("\n") == 1
        assert "Traceback" not in result.output


def test_two_heads_then_merge(shell: Shell) -> None:
    shell.models()
    shell("init")
    shell("makemigrations", "-m", "create hero")
    shell("makemigrations", "-m", "ours", "--empty")
    base = shell("history").output.splitlines()[-1].split(" -> ")[1].split(",")[0]
    rev = uuid.uuid4().hex[:12]
    (shell.root / "migrations" / "versions" / f"{rev}_theirs.py").write_text(
        f'"""theirs"""\nrevision = {rev!r}\ndown_revision = {base!r}\n'
        "branch_labels = None\ndepends_on = None\n\n\n"
        "def upgrade() -> None:\n    pass\n\n\ndef downgrade() -> None:\n    pass\n",
        encoding="utf-8",
    )

    assert len(shell("heads").output.splitlines()) == 2
    refused = shell("upgrade")
    assert refused.exit_code == 1
    assert "fastapi-batteries db merge" in refused.output
    merged = shell("merge")
    assert merged.exit_code == 0, merged.output
    assert shell("upgrade").exit_code == 0
    assert len(shell("heads").output.splitlines()) == 1


def test_db_help_works_and_stays_light() -> None:
    # A fresh interpreter: --help must not import SQLAlchemy, Alembic or the models.
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from batteries_cli._app import app\n"
        "result = CliRunner().invoke(app, ['db', '--help'])\n"
        "assert result.exit_code == 0, result.output\n"
        "assert 'makemigrations' in result.output and 'downgrade' in result.output\n"
        "heavy = [m for m in ('sqlalchemy', 'alembic', 'sqlmodel') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr
