from pathlib import Path

import pytest

from batteries_models import BatteriesSettings, ConfigurationError

ENV_NAMES = ("BATTERIES_DATABASE_URL", "DATABASE_URL", "BATTERIES_MODELS", "BATTERIES_ECHO")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_batteries_url_wins_over_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite:///fallback.db")
    assert BatteriesSettings().database().url == "sqlite:///fallback.db"
    monkeypatch.setenv("BATTERIES_DATABASE_URL", "sqlite:///main.db")
    assert BatteriesSettings().database().url == "sqlite:///main.db"


def test_dotenv_is_read_and_environment_beats_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text("DATABASE_URL=sqlite:///from_dotenv.db\nBATTERIES_ECHO=true\n")
    settings = BatteriesSettings()
    assert settings.database().url == "sqlite:///from_dotenv.db"
    assert settings.database().echo is True
    monkeypatch.setenv("DATABASE_URL", "sqlite:///from_env.db")
    assert BatteriesSettings().database().url == "sqlite:///from_env.db"


def test_named_databases_from_nested_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite:///main.db")
    monkeypatch.setenv("BATTERIES_DATABASES__ANALYTICS__URL", "postgresql://u:p@h/analytics")
    monkeypatch.setenv("BATTERIES_DATABASES__ANALYTICS__POOL_SIZE", "3")
    settings = BatteriesSettings()
    assert settings.database_names() == ["default", "analytics"]
    assert settings.database("analytics").pool_size == 3


def test_tool_batteries_in_pyproject_and_env_override(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.batteries]\nmodels = "app.models"\nmigrations = "db/migrations"\n'
    )
    settings = BatteriesSettings()
    assert (settings.models, settings.migrations) == ("app.models", "db/migrations")
    monkeypatch.setenv("BATTERIES_MODELS", "other.models")
    assert BatteriesSettings().models == "other.models"


def test_pyproject_is_found_from_a_subfolder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.batteries]\nmodels = "app.models"\n')
    (tmp_path / "src" / "app").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "src" / "app")
    assert BatteriesSettings().models == "app.models"


def test_no_url_says_which_variables_to_set() -> None:
    with pytest.raises(ConfigurationError, match="set BATTERIES_DATABASE_URL or DATABASE_URL"):
        BatteriesSettings().database()


def test_unknown_named_database_lists_the_known_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite:///main.db")
    with pytest.raises(
        ConfigurationError, match=r"configured: default\).*BATTERIES_DATABASES__REPORTS__URL"
    ):
        BatteriesSettings().database("reports")


def test_printing_the_settings_never_shows_a_password() -> None:
    settings = BatteriesSettings(
        database_url="postgresql://app:p@ss#w0rd@db/app",
        databases={"analytics": {"url": "postgresql://app:s3cr%40tive@db/a"}},
    )
    for text in (repr(settings), str(settings), repr(settings.database("analytics"))):
        assert "w0rd" not in text
        assert "tive" not in text
        assert "postgresql://app:***@db/" in text
    assert settings.database().url == "postgresql://app:p@ss#w0rd@db/app"  # only the printing


def test_environment_defaults_to_development_and_reads_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("BATTERIES_ENVIRONMENT", raising=False)
    assert BatteriesSettings().environment == "development"
    monkeypatch.setenv("BATTERIES_ENVIRONMENT", " Production ")
    assert BatteriesSettings().environment == "production"


def test_an_unknown_environment_is_refused_with_the_allowed_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A typo must not pass for "development" and let development tools run in production.
    monkeypatch.setenv("BATTERIES_ENVIRONMENT", "prod")
    with pytest.raises(ValueError, match="'development', 'test' or 'production'"):
        BatteriesSettings()


def test_overrides_replace_the_default_url_and_keep_its_engine_options(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BATTERIES_DATABASES__DEFAULT__URL", "sqlite:///configured.db")
    monkeypatch.setenv("BATTERIES_DATABASES__DEFAULT__POOL_SIZE", "7")
    settings = BatteriesSettings()

    overridden = settings.with_overrides(database_url="sqlite:///given.db", models="other.models")

    assert overridden.database().url == "sqlite:///given.db"
    assert overridden.database().pool_size == 7
    assert overridden.models == "other.models"
    assert settings.database().url == "sqlite:///configured.db"  # a copy; the original is kept
    assert settings.with_overrides() == settings
