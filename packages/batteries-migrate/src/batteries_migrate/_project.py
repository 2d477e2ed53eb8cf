"""Where a named database's migrations live, and how to reach the database: read from settings."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL

from batteries_models import DEFAULT_DATABASE, BatteriesSettings, normalise_url

__all__ = ["MigrationTarget", "resolve_target"]

VERSION_TABLE = "alembic_version"


@dataclass(frozen=True)
class MigrationTarget:
    """One named database and its migrations, as resolved from the settings.

    Attributes:
        database: The name of the database in the settings (``default``...).
        url: Its async URL; never rendered with the password.
        directory: Its migrations folder: its own ``databases.<name>.migrations`` when set,
            else ``<migrations>`` for ``default`` and ``<migrations>/<name>`` for every other
            database.
        version_table: The table that records its applied revisions: ``alembic_version`` for
            ``default``, ``alembic_version_<name>`` for every other database.
        models: The dotted path of its models module, when configured: its own
            ``databases.<name>.models``, else the project's ``models``.
    """

    database: str
    url: URL
    directory: Path
    version_table: str
    models: str | None

    @property
    def dialect(self) -> str:
        """The SQLAlchemy dialect name: ``sqlite``, ``postgresql``..."""
        return self.url.get_backend_name()

    @property
    def lock_key(self) -> int:
        """A stable 63-bit key for ``pg_advisory_xact_lock``, one per version table."""
        return zlib.crc32(f"batteries-migrate:{self.version_table}".encode())


def resolve_target(
    database: str = DEFAULT_DATABASE,
    *,
    settings: BatteriesSettings | None = None,
    models: str | None = None,
) -> MigrationTarget:
    """Read the URL, folder, version table and models module of ``database`` from the settings.

    Raises:
        ConfigurationError: ``database`` has no URL, or the URL is malformed.
        MissingDriverError: The URL's async driver is not installed.
    """
    active = settings if settings is not None else BatteriesSettings()
    url = normalise_url(active.database(database).url)
    version_table = VERSION_TABLE if database == DEFAULT_DATABASE else f"{VERSION_TABLE}_{database}"
    directory = active.migrations_for(database)
    return MigrationTarget(
        database, url, directory, version_table, models or active.models_for(database)
    )
