import importlib.util
from importlib.machinery import ModuleSpec
from pathlib import Path
from typing import Any

import pytest

from batteries_migrate._config import build_config
from batteries_migrate._project import resolve_target
from batteries_migrate.environment import TARGET_ATTRIBUTE
from batteries_models import BatteriesSettings, DatabaseSettings

SECRET_URL = "postgresql+asyncpg://hero:p%40ss%25word@db.example:5432/app"


@pytest.fixture(autouse=True)
def _in_empty_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


@pytest.fixture(autouse=True)
def _drivers_look_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    # Drivers are extras of batteries-models; this package's own environment has none, and
    # these tests never connect.
    real = importlib.util.find_spec

    def find_spec(name: str, package: str | None = None) -> Any:
        if name in ("asyncpg", "aiosqlite"):
            return real(name, package) or ModuleSpec(name, None)
        return real(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


def settings(**kwargs: object) -> BatteriesSettings:
    return BatteriesSettings(database_url=SECRET_URL, **kwargs)  # type: ignore[arg-type]


def test_url_with_percent_travels_in_attributes_never_in_the_ini() -> None:
    target = resolve_target(settings=settings())

    config = build_config(target)

    assert config.attributes[TARGET_ATTRIBUTE].url.password == "p@ss%word"
    sections = config.file_config.sections()
    text = "".join(f"{k}={v}" for s in sections for k, v in config.file_config.items(s, raw=True))
    assert "p@ss" not in text
    assert "sqlalchemy.url" not in text


def test_default_database_uses_the_migrations_folder_and_alembic_version() -> None:
    target = resolve_target(settings=settings(migrations="db/migrations"))

    config = build_config(target)

    assert target.version_table == "alembic_version"
    assert config.get_main_option("script_location") == str(Path("db/migrations").resolve())


def test_named_database_gets_a_subfolder_and_its_own_version_table() -> None:
    named = settings(databases={"analytics": DatabaseSettings(url="sqlite:///a.db")})

    target = resolve_target("analytics", settings=named)

    assert target.directory == Path("migrations") / "analytics"
    assert target.version_table == "alembic_version_analytics"
    assert target.dialect == "sqlite"
    assert target.lock_key != resolve_target(settings=named).lock_key


def test_an_existing_alembic_ini_is_respected(tmp_path: Path) -> None:
    (tmp_path / "alembic.ini").write_text(
        "[alembic]\nscript_location = %(here)s/legacy\nfile_template = %%(rev)s\n"
        "[post_write_hooks]\nhooks =\n",
        encoding="utf-8",
    )

    config = build_config(resolve_target(settings=settings()))

    assert config.get_main_option("script_location") == f"{tmp_path}/legacy"
    assert config.get_main_option("file_template") == "%(rev)s"
    assert config.get_section_option("post_write_hooks", "hooks") == ""


def test_ruff_formats_new_revisions_when_installed() -> None:
    config = build_config(resolve_target(settings=settings()))

    hooks = config.get_section_option("post_write_hooks", "hooks") or ""
    assert "ruff_format" in hooks
    assert "format" in (config.get_section_option("post_write_hooks", "ruff_format.options") or "")


def test_init_needs_no_database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import batteries_migrate

    monkeypatch.delenv("BATTERIES_DATABASE_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    no_url = BatteriesSettings(migrations="db")
    assert no_url.database_url is None

    folder = batteries_migrate.init(settings=no_url)

    assert folder == Path("db")
    assert (tmp_path / "db" / "env.py").is_file()
    assert (tmp_path / "db" / "versions").is_dir()


def test_init_of_an_unknown_named_database_fails() -> None:
    import batteries_migrate
    from batteries_models import ConfigurationError

    with pytest.raises(ConfigurationError, match="analytcs"):
        batteries_migrate.init(database="analytcs", settings=settings())


def test_init_twice_is_refused() -> None:
    import batteries_migrate

    batteries_migrate.init(settings=settings())

    with pytest.raises(batteries_migrate.AlreadyInitialisedError, match=r"env\.py exists"):
        batteries_migrate.init(settings=settings())
