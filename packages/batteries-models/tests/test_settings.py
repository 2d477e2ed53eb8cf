import warnings
from pathlib import Path

import pytest

from batteries_models import BatteriesSettings, ConfigurationError
from batteries_models.exceptions import UnknownSettingWarning

ENV_NAMES = (
    "BATTERIES_DATABASE_URL",
    "DATABASE_URL",
    "BATTERIES_MODELS",
    "BATTERIES_ECHO",
    "BATTERIES_MIGRATIONS",
    "BATTERIES_APP",
)


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


def test_dotenv_of_the_project_root_is_read_from_a_subfolder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.batteries]\nmodels = "app.models"\n')
    (tmp_path / ".env").write_text("DATABASE_URL=postgresql://app:s3cret@db/app\n")
    (tmp_path / "app").mkdir()
    monkeypatch.chdir(tmp_path / "app")

    settings = BatteriesSettings()

    assert settings.database().url == "postgresql://app:s3cret@db/app"
    report = settings.explain()
    assert report.project_root == tmp_path
    assert report.pyproject == tmp_path / "pyproject.toml"
    assert report.env_files == (tmp_path / ".env",)
    url = report["database_url"]
    assert (url.origin, url.path, url.key) == ("dotenv", tmp_path / ".env", "DATABASE_URL")
    assert url.display == "postgresql://app:***@db/app"
    assert url.describe() == f".env {tmp_path / '.env'} (DATABASE_URL)"
    assert report["models"].describe() == f"pyproject.toml {tmp_path / 'pyproject.toml'} (models)"


def test_the_working_folders_dotenv_beats_the_project_roots(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / ".env").write_text("DATABASE_URL=sqlite:///root.db\nBATTERIES_ECHO=true\n")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / ".env").write_text("DATABASE_URL=sqlite:///here.db\n")
    monkeypatch.chdir(tmp_path / "app")

    settings = BatteriesSettings()

    assert settings.database_url == "sqlite:///here.db"
    assert settings.echo is True
    assert settings.explain().env_files == (tmp_path / "app" / ".env", tmp_path / ".env")
    assert settings.explain()["echo"].path == tmp_path / ".env"


def test_relative_paths_in_a_file_are_relative_to_that_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.batteries]\nmigrations = "db/migrations"\n')
    (tmp_path / ".env").write_text("DATABASE_URL=sqlite+aiosqlite:///app.db\n")
    (tmp_path / "app").mkdir()
    monkeypatch.chdir(tmp_path / "app")

    settings = BatteriesSettings()

    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
    assert settings.migrations == str(tmp_path / "db" / "migrations")
    monkeypatch.setenv("DATABASE_URL", "sqlite:///mine.db")  # the environment: the shell's folder
    assert BatteriesSettings().database_url == "sqlite:///mine.db"


def test_the_default_migrations_folder_is_the_project_roots(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.batteries]\nmodels = "app.models"\n')
    (tmp_path / "app").mkdir()
    monkeypatch.chdir(tmp_path / "app")
    assert BatteriesSettings().migrations == str(tmp_path / "migrations")
    monkeypatch.chdir(tmp_path)
    assert BatteriesSettings().migrations == "migrations"
    # A parent's pyproject.toml without [tool.batteries] is not this project's root.
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "monorepo"\n')
    monkeypatch.chdir(tmp_path / "app")
    assert BatteriesSettings().migrations == "migrations"


def test_every_setting_says_where_it_came_from(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.batteries]\nmodels = "app.models"\n[tool.batteries.databases.reports]\n'
        'url = "sqlite:///reports.db"\n'
    )
    monkeypatch.setenv("BATTERIES_DATABASE_URL", "postgresql://u:pw@h/main")
    monkeypatch.setenv("BATTERIES_DATABASES__REPORTS__ECHO", "true")

    report = BatteriesSettings(app="app.main:app").explain()

    origins = {value.name: (value.origin, value.key) for value in report.values}
    assert origins["database_url"] == ("environment", "BATTERIES_DATABASE_URL")
    assert origins["app"] == ("argument", None)
    assert origins["models"] == ("pyproject", "models")
    assert origins["migrations"] == ("default", None)
    assert origins["databases.reports.url"] == (
        "pyproject",
        "[tool.batteries.databases.reports] url",
    )
    assert origins["databases.reports.echo"] == (
        "environment",
        "BATTERIES_DATABASES__REPORTS__ECHO",
    )
    assert report["databases.reports.echo"].value is True
    assert report["database_url"].display == "postgresql://u:***@h/main"
    assert report.env_files == ()


@pytest.mark.parametrize(
    ("toml", "key", "suggestion"),
    [
        ('modles = "app.models"', "modles", "models"),
        ('database-url = "sqlite:///app.db"', "database-url", "database_url"),
        (
            '[tool.batteries.databases.reports]\nurl = "sqlite:///r.db"\nuri = "x"',
            "databases.reports.uri",
            "databases.reports.url",
        ),
        ("zzzzzz = 1", "zzzzzz", None),
    ],
)
def test_an_unknown_key_in_tool_batteries_warns_with_the_closest_one(
    tmp_path: Path, toml: str, key: str, suggestion: str | None
) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.batteries]\n{toml}\n")
    with pytest.warns(UnknownSettingWarning) as caught:
        BatteriesSettings()
    [warning] = [w.message for w in caught]
    assert isinstance(warning, UnknownSettingWarning)
    assert (warning.key, warning.suggestion) == (key, suggestion)
    assert str(tmp_path / "pyproject.toml") in str(warning)
    if suggestion is not None:
        assert str(warning).endswith(f"did you mean {suggestion!r}?")


def test_an_unknown_batteries_variable_in_dotenv_warns_and_others_are_left_alone(
    tmp_path: Path,
) -> None:
    (tmp_path / ".env").write_text("BATTERIES_MODLES=app.models\nSECRET_KEY=x\n")
    with pytest.warns(UnknownSettingWarning, match="did you mean 'BATTERIES_MODELS'") as caught:
        BatteriesSettings()
    assert len(caught) == 1


def test_known_keys_do_not_warn(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.batteries]\nmodels = "a"\napp = "a:app"\nmigrations = "m"\n'
        'database_url = "sqlite:///a.db"\n[tool.batteries.databases.x]\nurl = "sqlite:///x.db"\n'
    )
    (tmp_path / ".env").write_text(
        "DATABASE_URL=sqlite:///b.db\nBATTERIES_ECHO=1\nBATTERIES_DATABASES__X__POOL_SIZE=2\n"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        settings = BatteriesSettings()
    assert settings.databases["x"].pool_size == 2


def test_no_url_names_the_files_that_were_read(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    with pytest.raises(ConfigurationError, match=r"read: the environment, .*pyproject\.toml\)$"):
        BatteriesSettings().database()


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "BATTERIES_POOL_SIZE",
            "abc",
            "Invalid setting pool_size, from environment BATTERIES_POOL_SIZE: Input should be a "
            "valid integer, unable to parse string as an integer (got 'abc'); fix the value where "
            "it is set",
        ),
        (
            "BATTERIES_DATABASES__REPORTS__ECHO",
            "true",
            "Invalid setting databases.reports.url: Field required; set "
            "BATTERIES_DATABASES__REPORTS__URL, or remove the other options of that database",
        ),
    ],
)
def test_a_setting_that_does_not_validate_is_one_line_naming_it_and_its_source(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError) as raised:
        BatteriesSettings()
    assert str(raised.value) == message


def test_an_invalid_value_from_dotenv_names_the_file_and_hides_passwords(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "BATTERIES_ECHO=maybe\nBATTERIES_POOL_SIZE=postgresql://u:pw@h/d\n"
    )
    with pytest.raises(ConfigurationError) as raised:
        BatteriesSettings()
    text = str(raised.value)
    assert text.startswith(
        f"Invalid setting echo, from .env {tmp_path / '.env'} (BATTERIES_ECHO): "
        "Input should be a valid boolean"
    )
    assert text.endswith("(and 1 more); fix the value where it is set")
    assert "pw" not in text
