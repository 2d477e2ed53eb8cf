"""The pytest helpers users get from batteries_migrate.testing, on SQLite and PostgreSQL."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import batteries_migrate as migrate
from batteries_migrate.testing import (
    assert_migrations_healthy,
    assert_models_match_ddl,
    assert_single_head,
    assert_up_down_consistency,
    assert_upgrade_from_base,
)

HEADER = """
import enum
from typing import ClassVar

from sqlalchemy import MetaData
from sqlmodel import Field

from batteries_models import NAMING_CONVENTION, BaseModel


class Base(BaseModel):
    metadata: ClassVar[MetaData] = MetaData(naming_convention=NAMING_CONVENTION)


class Rank(str, enum.Enum):
    ROOKIE = "rookie"
    VETERAN = "veteran"


class Hero(Base, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    rank: Rank = Rank.ROOKIE
"""


@pytest.fixture
def models(backend: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("BATTERIES_DATABASE_URL", backend.url)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    names: list[str] = []

    def write(extra: str = "") -> None:
        name = f"helper_models_{uuid.uuid4().hex[:10]}"
        (tmp_path / f"{name}.py").write_text(HEADER + extra, encoding="utf-8")
        names.append(name)
        monkeypatch.setenv("BATTERIES_MODELS", name)

    yield write
    for name in names:
        sys.modules.pop(name, None)


def _two_revisions(models: Any) -> None:
    models()
    migrate.init()
    migrate.make_migration("create hero")
    migrate.upgrade()
    models("    power: int | None = None\n")
    migrate.make_migration("add power")
    migrate.downgrade("base")


def test_healthy_migrations_pass_every_check(models: Any) -> None:
    _two_revisions(models)

    assert_migrations_healthy()

    assert len(migrate.current()) == 1


def test_model_change_without_migration_fails_the_ddl_check(models: Any) -> None:
    _two_revisions(models)
    models("    power: int | None = None\n    age: int | None = None\n")

    with pytest.raises(AssertionError, match=r"add column hero\.age .*makemigrations"):
        assert_models_match_ddl()


def test_two_heads_fail_the_single_head_check(models: Any) -> None:
    _two_revisions(models)
    migrate.make_migration("a", empty=True)
    first = migrate.history()[-1].id
    (Path("migrations") / "versions" / "feedbeef0000_b.py").write_text(
        f'"""b"""\nrevision = "feedbeef0000"\ndown_revision = {first!r}\n'
        "branch_labels = None\ndepends_on = None\n\n\n"
        "def upgrade() -> None:\n    pass\n\n\ndef downgrade() -> None:\n    pass\n",
        encoding="utf-8",
    )

    with pytest.raises(AssertionError, match="2 migration heads"):
        assert_single_head()


def test_a_broken_downgrade_is_reported(models: Any) -> None:
    _two_revisions(models)
    latest = migrate.heads()[0]
    source = latest.path.read_text()
    latest.path.write_text(
        source.replace(
            '"""Downgrade schema."""', '"""Downgrade schema."""\n    op.drop_table("nope")'
        ),
        encoding="utf-8",
    )
    assert_upgrade_from_base()

    with pytest.raises(AssertionError, match=f"downgrade from {latest.id} failed"):
        assert_up_down_consistency()
