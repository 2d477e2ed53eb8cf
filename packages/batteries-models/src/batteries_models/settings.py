"""Settings from the environment, ``.env`` and ``[tool.batteries]`` in ``pyproject.toml``.

Precedence, highest first: arguments passed to :class:`BatteriesSettings`, real environment
variables, the working folder's ``.env``, the project root's ``.env``, ``[tool.batteries]``, then
defaults. The project root is the folder of the ``pyproject.toml`` found in the working folder or
up to four folders above it. The default database URL comes from ``BATTERIES_DATABASE_URL``,
falling back to the conventional ``DATABASE_URL``; named databases from
``BATTERIES_DATABASES__<NAME>__URL`` (and ``__ECHO``, ``__POOL_SIZE``...).

A relative path set in a file (``sqlite:///app.db``, ``migrations = "db/migrations"``) is relative
to that file's folder, and the default migrations folder is the project root's, so a command run
in a subfolder of the project reaches the same database and migrations; in the environment a
path keeps its usual meaning, relative to the working folder.

:meth:`BatteriesSettings.explain` says where each value came from::

    report = BatteriesSettings().explain()
    for setting in report.values:
        print(setting.name, setting.display, setting.describe())  # passwords masked
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, PrivateAttr, SecretStr, ValidationError, field_validator
from pydantic import BaseModel as PydanticModel
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from batteries_models._settings_sources import (
    PYPROJECT_DEPTH,
    SettingOrigin,
    SettingSource,
    SettingsReport,
    build_report,
    build_sources,
    invalid_settings,
    take_recording,
)
from batteries_models._urls import mask_url
from batteries_models.exceptions import ConfigurationError

__all__ = [
    "DEFAULT_DATABASE",
    "BatteriesSettings",
    "DatabaseSettings",
    "Environment",
    "SQLiteTransactionMode",
    "SettingOrigin",
    "SettingSource",
    "SettingsReport",
]

DEFAULT_DATABASE = "default"
"""Name of the database used when no name is given."""

SQLiteTransactionMode = Literal["deferred", "immediate", "exclusive"]
"""How a SQLite transaction takes its lock: ``BEGIN DEFERRED``, ``IMMEDIATE`` or ``EXCLUSIVE``."""

Environment = Literal["development", "test", "production"]
"""Where the project runs (``BATTERIES_ENVIRONMENT``); development tools refuse ``production``."""

_BUSY = "SQLite: seconds to wait for another connection's lock."
_MODE = "SQLite: 'immediate' takes the write lock at BEGIN; 'deferred' on the first write."


class DatabaseSettings(PydanticModel):
    """How to reach one database, and the engine options to use for it."""

    url: str = Field(description="SQLAlchemy URL; a sync PostgreSQL or SQLite URL is made async.")
    echo: bool = Field(default=False, description="Log every SQL statement.")
    pool_size: int | None = Field(default=None, description="Connections kept in the pool.")
    max_overflow: int | None = Field(default=None, description="Extra connections allowed.")
    pool_timeout: float | None = Field(
        default=None, description="Seconds to wait for a connection."
    )
    pool_recycle: int | None = Field(
        default=None, description="Recycle connections after N seconds."
    )
    pool_pre_ping: bool = Field(default=False, description="Test connections before use.")
    sqlite_busy_timeout: float = Field(default=5.0, ge=0, description=_BUSY)
    sqlite_transaction_mode: SQLiteTransactionMode = Field(default="immediate", description=_MODE)
    models: str | None = Field(
        default=None,
        description="Dotted path of this database's models module (default: the project's).",
    )
    migrations: str | None = Field(
        default=None,
        description="Folder of this database's migrations (default: <migrations>/<name>).",
    )

    def __repr_args__(self) -> Any:
        return _masked(super().__repr_args__())


class BatteriesSettings(BaseSettings):
    """Every setting FastAPI Batteries reads, with the project options of ``[tool.batteries]``.

    Example ``pyproject.toml``::

        [tool.batteries]
        models = "app.models"
        app = "app.main:app"
        migrations = "migrations"

        [tool.batteries.databases.legacy]  # or BATTERIES_DATABASES__LEGACY__URL=...
        url = "postgresql://app@old-host/shop"
        models = "legacy.models"  # its own tables (default: the project's models)
        migrations = "legacy/migrations"  # its own folder (default: migrations/legacy)
    """

    model_config = SettingsConfigDict(
        env_prefix="BATTERIES_",
        env_nested_delimiter="__",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        pyproject_toml_table_header=("tool", "batteries"),
        pyproject_toml_depth=PYPROJECT_DEPTH,
    )

    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("BATTERIES_DATABASE_URL", "DATABASE_URL", "database_url"),
        description="URL of the default database.",
    )
    echo: bool = Field(default=False, description="Log SQL of the default database.")
    pool_size: int | None = None
    max_overflow: int | None = None
    pool_timeout: float | None = None
    pool_recycle: int | None = None
    pool_pre_ping: bool = False
    sqlite_busy_timeout: float = Field(default=5.0, ge=0, description=_BUSY)
    sqlite_transaction_mode: SQLiteTransactionMode = Field(default="immediate", description=_MODE)
    databases: dict[str, DatabaseSettings] = Field(
        default_factory=dict, description="Named databases, by name."
    )
    models: str | None = Field(default=None, description="Dotted path of the models module.")
    app: str | None = Field(default=None, description="The FastAPI app, as 'module:attribute'.")
    migrations: str = Field(default="migrations", description="Folder of the migration scripts.")
    environment: Environment = Field(
        default="development",
        description="Where the project runs; development tools refuse to run in 'production'.",
    )
    fixtures: dict[str, Any] = Field(
        default_factory=dict,
        description="Options of batteries-fixtures ([tool.batteries.fixtures]): its transforms.",
    )
    scrub_key: SecretStr | None = Field(
        default=None,
        description="Secret key of the scrubbers' keyed hash (fixtures --scrub); keep it out of "
        "pyproject.toml: BATTERIES_SCRUB_KEY.",
    )

    _recording: Any = PrivateAttr(default=None)

    def __init__(self, **values: Any) -> None:
        """Read the settings; ``values`` win over every source.

        ``values`` also take pydantic-settings' options (``_env_file=``, ``_secrets_dir=``...).

        Raises:
            ConfigurationError: A setting does not validate; the one-line message names the
                setting, the variable or file it came from, and what is wrong with it.
        """
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise invalid_settings(exc, type(self).model_fields) from exc

    def model_post_init(self, context: Any, /) -> None:
        """Keep the record of what each source gave, for :meth:`explain`."""
        self._recording = take_recording(self)

    def __repr_args__(self) -> Any:
        return _masked(super().__repr_args__())

    @field_validator("environment", mode="before")
    @classmethod
    def _lower_environment(cls, value: Any) -> Any:
        # `Production` in a deploy script means production: never let case slip past a refusal.
        return value.strip().lower() if isinstance(value, str) else value

    @property
    def project_root(self) -> Path:
        """The folder of the project's ``pyproject.toml``; the working folder without one."""
        return self.explain().project_root

    def explain(self) -> SettingsReport:
        """Every setting with where its value came from, and the files that were read.

        Example::

            report = BatteriesSettings().explain()
            report["database_url"].describe()  # ".env /app/.env (DATABASE_URL)"
            report["database_url"].display  # the URL with its password masked
            report.env_files, report.pyproject  # what was read

        Returns:
            A :class:`SettingsReport`: one :class:`SettingSource` per setting (and per option of
            each named database), in declaration order.
        """
        return build_report(self._recording, self, type(self).model_fields)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Read the project root's ``.env`` too, and ``[tool.batteries]`` below both ``.env``."""
        return build_sources(
            settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings
        )

    def with_overrides(
        self, *, database_url: str | None = None, models: str | None = None
    ) -> BatteriesSettings:
        """Return a copy with the default database at ``database_url`` and ``models`` as models.

        What ``--database-url`` and ``--models`` of a command mean. ``None`` keeps the setting;
        ``models`` is every database's, named ones with models of their own included; the
        default database keeps its engine options (those of ``databases.default`` when it is
        configured there), only its URL changes.
        """
        update: dict[str, Any] = {}
        databases = dict(self.databases)
        if models is not None:
            update["models"] = models
            for name, named in databases.items():
                if named.models is not None:  # models_for() then falls back to ``models``
                    databases[name] = named.model_copy(update={"models": None})
        if database_url is not None:
            update["database_url"] = database_url
            if DEFAULT_DATABASE in databases:
                named = databases[DEFAULT_DATABASE].model_copy(update={"url": database_url})
                databases[DEFAULT_DATABASE] = named
        if databases != self.databases:
            update["databases"] = databases
        return self.model_copy(update=update)

    def database_names(self) -> list[str]:
        """Names of every configured database, ``default`` first when it is configured."""
        names = sorted(self.databases)
        if self.database_url is not None and DEFAULT_DATABASE not in names:
            names.insert(0, DEFAULT_DATABASE)
        elif DEFAULT_DATABASE in names:
            names.remove(DEFAULT_DATABASE)
            names.insert(0, DEFAULT_DATABASE)
        return names

    def models_for(self, name: str = DEFAULT_DATABASE) -> str | None:
        """The models module of the database called ``name``.

        Its own ``databases.<name>.models`` when set, else the project's ``models``. Needs no
        URL: a database's models are known before it is reachable.
        """
        named = self.databases.get(name)
        if named is not None and named.models is not None:
            return named.models
        return self.models

    def migrations_for(self, name: str = DEFAULT_DATABASE) -> Path:
        """The migrations folder of the database called ``name``.

        Its own ``databases.<name>.migrations`` when set, else ``<migrations>`` for
        ``default`` and ``<migrations>/<name>`` for every other database.
        """
        named = self.databases.get(name)
        if named is not None and named.migrations is not None:
            return Path(named.migrations)
        root = Path(self.migrations)
        return root if name == DEFAULT_DATABASE else root / name

    def database(self, name: str = DEFAULT_DATABASE) -> DatabaseSettings:
        """Return the settings of the database called ``name``.

        Raises:
            ConfigurationError: No URL is configured for that name.
        """
        if name in self.databases:
            return self.databases[name]
        if name == DEFAULT_DATABASE and self.database_url is not None:
            return DatabaseSettings(
                url=self.database_url,
                echo=self.echo,
                pool_size=self.pool_size,
                max_overflow=self.max_overflow,
                pool_timeout=self.pool_timeout,
                pool_recycle=self.pool_recycle,
                pool_pre_ping=self.pool_pre_ping,
                sqlite_busy_timeout=self.sqlite_busy_timeout,
                sqlite_transaction_mode=self.sqlite_transaction_mode,
            )
        if name == DEFAULT_DATABASE:
            msg = (
                "No database URL is configured: set BATTERIES_DATABASE_URL or DATABASE_URL "
                "(in the environment or in .env), e.g. DATABASE_URL=sqlite+aiosqlite:///app.db "
                f"(read: the environment, {self.explain().files_read()})"
            )
        else:
            known = ", ".join(self.database_names()) or "none"
            msg = (
                f"No database named {name!r} is configured (configured: {known}): "
                f"set BATTERIES_DATABASES__{name.upper()}__URL"
            )
        raise ConfigurationError(msg)


def _masked(args: Any) -> list[tuple[str | None, Any]]:
    """Arguments of ``repr``/``str`` with URL passwords masked: settings get printed and logged."""
    return [
        (name, mask_url(value) if name in ("url", "database_url") and value else value)
        for name, value in args
    ]
