"""A registry of the named databases of the settings, created on first use."""

from __future__ import annotations

from batteries_models._database import Database
from batteries_models.settings import DEFAULT_DATABASE, BatteriesSettings

__all__ = ["DatabaseRegistry"]


class DatabaseRegistry:
    """The named databases of a :class:`~batteries_models.BatteriesSettings`.

    ``registry.get("analytics")`` builds that ``Database`` on first use and returns the same
    one afterwards; ``await registry.dispose_all()`` closes every engine it built.

    Args:
        settings: The settings to read; ``BatteriesSettings()`` (environment, ``.env``,
            ``pyproject.toml``) when not given.
    """

    def __init__(self, settings: BatteriesSettings | None = None) -> None:
        self.settings = settings if settings is not None else BatteriesSettings()
        self._databases: dict[str, Database] = {}

    def get(self, name: str = DEFAULT_DATABASE) -> Database:
        """Return the database called ``name``.

        Raises:
            ConfigurationError: ``name`` is not configured.
        """
        database = self._databases.get(name)
        if database is None:
            database = Database.from_settings(self.settings.database(name), name=name)
            self._databases[name] = database
        return database

    def __getitem__(self, name: str) -> Database:
        return self.get(name)

    def names(self) -> list[str]:
        """Names of every configured database."""
        return self.settings.database_names()

    async def dispose_all(self) -> None:
        """Dispose of every engine built so far."""
        for database in self._databases.values():
            await database.dispose()
        self._databases.clear()
