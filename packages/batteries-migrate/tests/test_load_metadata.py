import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from batteries_migrate import NamingConventionWarning, NoModelsError
from batteries_migrate._project import MigrationTarget
from batteries_migrate.environment import load_metadata


@pytest.fixture
def module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    monkeypatch.syspath_prepend(str(tmp_path))
    names: list[str] = []

    def write(source: str) -> MigrationTarget:
        name = f"unit_models_{uuid.uuid4().hex[:10]}"
        (tmp_path / f"{name}.py").write_text(source, encoding="utf-8")
        names.append(name)
        url = make_url("sqlite+aiosqlite:///x.db")
        return MigrationTarget("default", url, Path("migrations"), "alembic_version", name)

    yield write
    for name in names:
        sys.modules.pop(name, None)


PLAIN_TABLE = """
from sqlalchemy import Column, Integer, MetaData, Table

metadata = MetaData()
plain = Table("plain", metadata, Column("id", Integer, primary_key=True))
"""

CONVENTION_TABLE = """
from sqlalchemy import Column, Integer, MetaData, Table

from batteries_models import NAMING_CONVENTION

metadata = MetaData(naming_convention=NAMING_CONVENTION)
named = Table("named", metadata, Column("id", Integer, primary_key=True))
"""


def test_metadata_without_a_naming_convention_warns(module) -> None:  # type: ignore[no-untyped-def]
    target = module(PLAIN_TABLE)

    with pytest.warns(NamingConventionWarning, match="BaseModel"):
        metadata = load_metadata(target)

    assert "plain" in metadata.tables  # type: ignore[union-attr]


def test_metadata_with_the_shared_convention_is_quiet(module) -> None:  # type: ignore[no-untyped-def]
    metadata = load_metadata(module(CONVENTION_TABLE))

    assert "named" in metadata.tables  # type: ignore[union-attr]


def test_a_models_module_without_tables_is_refused(module) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NoModelsError, match="defines no table"):
        load_metadata(module("X = 1\n"))


def test_no_models_setting_is_refused() -> None:
    url = make_url("sqlite+aiosqlite:///x.db")
    target = MigrationTarget("default", url, Path("migrations"), "alembic_version", None)

    with pytest.raises(NoModelsError, match=r"\[tool.batteries\]"):
        load_metadata(target)
