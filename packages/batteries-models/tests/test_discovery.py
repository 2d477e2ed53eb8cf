import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from batteries_models import ModelDiscoveryError, discover_models


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, str]]:
    name = f"proj_{uuid.uuid4().hex[:8]}"
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path, name
    for module in [m for m in sys.modules if m == name or m.startswith(f"{name}.")]:
        del sys.modules[module]


def write(root: Path, relative: str, source: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source))


def test_finds_models_in_every_submodule_and_bare_tables(project: tuple[Path, str]) -> None:
    root, name = project
    write(root, f"{name}/__init__.py", "")
    write(
        root,
        f"{name}/heroes.py",
        """
        from sqlalchemy import MetaData
        from sqlmodel import Field, SQLModel
        metadata = MetaData()
        class Base(SQLModel):
            metadata = metadata
        class Hero(Base, table=True):
            id: int | None = Field(default=None, primary_key=True)
        """,
    )
    write(
        root,
        f"{name}/sub/__init__.py",
        "",
    )
    write(
        root,
        f"{name}/sub/links.py",
        f"""
        from sqlalchemy import Column, ForeignKey, Integer, Table
        from {name}.heroes import metadata
        hero_links = Table("hero_link", metadata, Column("hero_id", Integer, ForeignKey("hero.id")))
        """,
    )
    found = discover_models(name)
    assert set(found.tables) == {"hero", "hero_link"}
    assert set(found.models) == {"hero"}
    assert found.models["hero"].__name__ == "Hero"
    assert found.metadata.tables["hero_link"] is found.tables["hero_link"]


def test_plain_declarative_models(project: tuple[Path, str]) -> None:
    root, name = project
    write(
        root,
        f"{name}.py",
        """
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
        class Base(DeclarativeBase):
            pass
        class Account(Base):
            __tablename__ = "account"
            id: Mapped[int] = mapped_column(primary_key=True)
        """,
    )
    found = discover_models(name)
    assert list(found.models) == ["account"]


def test_missing_module_names_the_path() -> None:
    with pytest.raises(
        ModelDiscoveryError, match=r"Cannot import models module 'no_such_app\.models'"
    ) as info:
        discover_models("no_such_app.models")
    assert info.value.path == "no_such_app.models"
    assert "\n" not in str(info.value)


def test_broken_module_shows_the_import_error(project: tuple[Path, str]) -> None:
    root, name = project
    write(root, f"{name}/__init__.py", "")
    write(root, f"{name}/models.py", "import does_not_exist_anywhere\n")
    with pytest.raises(ModelDiscoveryError, match=r"No module named 'does_not_exist_anywhere'"):
        discover_models(name)


def test_modules_in_the_working_folder_are_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = f"cwdproj_{uuid.uuid4().hex[:8]}"
    write(
        tmp_path,
        f"{name}.py",
        """
        from sqlalchemy import Column, Integer, MetaData, Table
        metadata = MetaData()
        thing = Table("thing", metadata, Column("id", Integer, primary_key=True))
        """,
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    try:
        assert set(discover_models(name).tables) == {"thing"}
    finally:
        sys.modules.pop(name, None)


@pytest.mark.parametrize(
    ("source", "line", "error"),
    [
        ("x = 1\ndef broken(:\n    pass\n", 2, "SyntaxError"),
        ("import sqlmodel\n\n\nundefined_name + 1\n", 4, "NameError"),
    ],
)
def test_an_error_in_the_models_module_names_its_file_and_line(
    project: tuple[Path, str], source: str, line: int, error: str
) -> None:
    root, name = project
    write(root, f"{name}/__init__.py", "")
    write(root, f"{name}/models.py", source)
    with pytest.raises(ModelDiscoveryError) as info:
        discover_models(name)
    message = str(info.value)
    assert error in message
    assert f"models.py, line {line})" in message
    assert "\n" not in message
    assert info.value.file == str(root / name / "models.py")
    assert info.value.line == line


def test_models_import_from_a_subfolder_of_the_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = f"rootproj_{uuid.uuid4().hex[:8]}"
    (tmp_path / "pyproject.toml").write_text(f'[tool.batteries]\nmodels = "{name}"\n')
    write(
        tmp_path,
        f"{name}.py",
        """
        from sqlalchemy import Column, Integer, MetaData, Table
        metadata = MetaData()
        thing = Table("thing", metadata, Column("id", Integer, primary_key=True))
        """,
    )
    (tmp_path / "app").mkdir()
    monkeypatch.chdir(tmp_path / "app")
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    try:
        assert set(discover_models(name).tables) == {"thing"}
    finally:
        sys.modules.pop(name, None)


def test_an_error_raised_inside_a_library_names_the_models_line_that_called_it(
    project: tuple[Path, str],
) -> None:
    root, name = project
    write(root, f"{name}/__init__.py", "")
    source = (
        "from sqlalchemy import Column, Integer, MetaData, Table\n\nTable('t', 'not metadata')\n"
    )
    write(root, f"{name}/models.py", source)
    with pytest.raises(ModelDiscoveryError) as info:
        discover_models(name)
    assert info.value.file == str(root / name / "models.py")
    assert info.value.line == 3
