"""A failed migration is one line on stderr, whatever failed (issue 8, item 3)."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

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
"""

REVISION = '''"""add email"""

import sqlalchemy as sa
from alembic import op

revision = {revision!r}
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("hero", sa.Column("email", sa.String(), nullable=True))
{body}


def downgrade() -> None:
    pass
'''


class Project:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.runner = CliRunner()
        self.base = ""

    def __call__(self, *args: str) -> Any:
        return self.runner.invoke(app, ["db", *args])

    def revision(self, body: str, *, module: str = "") -> tuple[str, Path]:
        revision = uuid.uuid4().hex[:12]
        path = self.root / "migrations" / "versions" / f"{revision}_add_email.py"
        text = REVISION.format(revision=revision, down=self.base, body=body)
        path.write_text(module + text, encoding="utf-8")
        return revision, path


@pytest.fixture
def project(backend: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    name = f"cli_error_models_{uuid.uuid4().hex[:10]}"
    (tmp_path / f"{name}.py").write_text(MODELS, encoding="utf-8")
    monkeypatch.setenv("BATTERIES_MODELS", name)
    monkeypatch.setenv("BATTERIES_DATABASE_URL", backend.url)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    created = Project(tmp_path)
    assert created("init").exit_code == 0
    assert created("makemigrations", "-m", "create hero").exit_code == 0
    assert created("upgrade").exit_code == 0
    created.base = created("current").output.split()[0]
    yield created
    sys.modules.pop(name, None)


def assert_one_line(result: Any, *fragments: str) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return str(lines[0])


FAILURES = {
    "database error": (
        '    op.add_column("hero", sa.Column("name", sa.String()))',
        "op.add_column('hero', 'name')",
    ),
    "exception raised": ('    raise RuntimeError("boom")', "RuntimeError: boom"),
    "name error": ("    undefined_helper()", "NameError: name 'undefined_helper'"),
}


@pytest.mark.parametrize(("body", "expected"), FAILURES.values(), ids=FAILURES.keys())
def test_a_failed_migration_is_one_line_naming_revision_and_statement(
    project: Project, body: str, expected: str
) -> None:
    revision, path = project.revision(body)

    result = project("upgrade")

    line = assert_one_line(
        result,
        f'Migration {revision} "add email" failed at',
        expected,
        f"{path.name}, line 14",
        f"nothing was applied (the database is at {project.base})",
    )
    assert line.startswith("Error: ")
    assert project("current").output.split()[0] == project.base

    verbose = project("upgrade", "--traceback")
    assert verbose.exit_code == 1
    assert "Traceback (most recent call last)" in verbose.stderr
    assert verbose.stderr.splitlines()[-1] == line


def test_a_revision_file_with_a_syntax_error_names_file_and_line(project: Project) -> None:
    _, path = project.revision("    op.execute(")

    for command in (("upgrade",), ("history",), ("current",), ("makemigrations", "-m", "x")):
        assert_one_line(project(*command), str(path), "syntax error at line 14")
    assert project("current", "--traceback").exit_code == 1


def test_a_revision_file_that_fails_on_import_names_file_and_line(project: Project) -> None:
    _, path = project.revision("", module="import no_such_module_anywhere\n")

    assert_one_line(
        project("upgrade"), str(path), "line 1", "ModuleNotFoundError", "no_such_module_anywhere"
    )


def test_a_port_out_of_range_is_a_one_line_configuration_error(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BATTERIES_DATABASE_URL", "postgresql+asyncpg://app:s3cret@db:99999/app")

    line = assert_one_line(project("upgrade"), "Port 99999", "1-65535")
    assert "s3cret" not in line


def test_makemigrations_prints_the_not_null_warning_as_one_line(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = f"cli_error_models_{uuid.uuid4().hex[:10]}"
    (project.root / f"{name}.py").write_text(MODELS + "    power: int = 0\n", encoding="utf-8")
    monkeypatch.setenv("BATTERIES_MODELS", name)

    result = project("makemigrations", "-m", "add power")

    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if "hero.power" in line]
    assert len(warnings) == 1
    assert warnings[0].startswith("Warning: Revision ")
    assert "default 0" in warnings[0]
    assert project("upgrade").exit_code == 0
    sys.modules.pop(name, None)
