"""Settings from the environment, ``.env`` and ``[tool.batteries]`` in ``pyproject.toml``.

Precedence, highest first: arguments passed to :class:`BatteriesSettings`, real environment
variables, the ``.env`` file, ``[tool.batteries]``, then defaults. The default database URL comes
from ``BATTERIES_DATABASE_URL``, falling back to the conventional ``DATABASE_URL``; named databases
from ``BATTERIES_DATABASES__<NAME>__URL`` (and ``__ECHO``, ``__POOL_SIZE``...).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic import BaseModel as PydanticModel
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    PyprojectTomlConfigSettingsSource,
    SettingsConfigDict,
)

from batteries_models._urls import mask_url
from batteries_models.exceptions import ConfigurationError

__all__ = [
    "DEFAULT_DATABASE",
    "BatteriesSettings",
    "DatabaseSettings",
    "Environment",
    "SQLiteTransactionMode",
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

    def __repr_args__(self) -> Any:
        return _masked(super().__repr_args__())


class BatteriesSettings(BaseSettings):
    """Every setting FastAPI Batteries reads, with the project options of ``[tool.batteries]``.

    Example ``pyproject.toml``::

        [tool.batteries]
        models = "app.models"
        app = "app.main:app"
        migrations = "migrations"
    """

    model_config = SettingsConfigDict(
        env_prefix="BATTERIES_",
        env_nested_delimiter="__",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        pyproject_toml_table_header=("tool", "batteries"),
        pyproject_toml_depth=4,
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

    def __repr_args__(self) -> Any:
        return _masked(super().__repr_args__())

    @field_validator("environment", mode="before")
    @classmethod
    def _lower_environment(cls, value: Any) -> Any:
        # `Production` in a deploy script means production: never let case slip past a refusal.
        return value.strip().lower() if isinstance(value, str) else value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Add ``[tool.batteries]`` below the environment and ``.env``."""
        return (
            init_settings,
            env_settings,
            dotenv_settings,
            PyprojectTomlConfigSettingsSource(settings_cls),
            file_secret_settings,
        )

    def with_overrides(
        self, *, database_url: str | None = None, models: str | None = None
    ) -> BatteriesSettings:
        """Return a copy with the default database at ``database_url`` and ``models`` as models.

        What ``--database-url`` and ``--models`` of a command mean. ``None`` keeps the setting;
        the default database keeps its engine options (those of ``databases.default`` when it
        is configured there), only its URL changes.
        """
        update: dict[str, Any] = {}
        if models is not None:
            update["models"] = models
        if database_url is not None:
            update["database_url"] = database_url
            if DEFAULT_DATABASE in self.databases:
                named = self.databases[DEFAULT_DATABASE].model_copy(update={"url": database_url})
                update["databases"] = {**self.databases, DEFAULT_DATABASE: named}
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
                "(in the environment or in .env), e.g. DATABASE_URL=sqlite+aiosqlite:///app.db"
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
