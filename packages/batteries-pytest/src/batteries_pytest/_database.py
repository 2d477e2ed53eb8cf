"""``DatabaseUnderTest``: the database of a test run (the ``batteries_test_database`` fixture)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

    from batteries_models import BatteriesSettings, Database

__all__ = ["DatabaseUnderTest", "SchemaSource"]

SchemaSource = Literal["migrations", "create_all"]
"""How the tables of the test database were made."""


@dataclass(frozen=True)
class DatabaseUnderTest:
    """The database the tests of this run use: the ``batteries_test_database`` fixture.

    Attributes:
        name: Its name in the settings: ``default``, or the ini option ``batteries_database``.
        url: Its URL; print :attr:`masked_url`, never this.
        settings: The project's settings with ``name`` pointing at this database.
        schema: How its tables were made: ``"migrations"`` (``upgrade head``, when the project
            has batteries-migrate migrations) or ``"create_all"`` (from the models).
        reused: Whether it was kept from an earlier run (``--reuse-db``).
    """

    name: str
    url: URL
    settings: BatteriesSettings
    schema: SchemaSource
    reused: bool

    @property
    def masked_url(self) -> str:
        """The URL as text, with its password replaced by ``***``."""
        from batteries_models import mask_url

        return mask_url(self.url)

    @property
    def dialect(self) -> str:
        """The SQLAlchemy dialect name: ``postgresql`` or ``sqlite``."""
        return self.url.get_backend_name()

    def open(self, *, pooled: bool = True) -> Database:
        """A new ``Database`` on it, configured like the project's; dispose it after use.

        Args:
            pooled: Keep connections in a pool. A pool's connections belong to the event loop
                that opened them; without a pool (``NullPool``) each connection is closed when
                it is given back, so one ``Database`` serves any number of event loops.
        """
        from sqlalchemy.pool import NullPool

        from batteries_models import Database

        configured = self.settings.database(self.name)
        if pooled:
            return Database.from_settings(configured, name=self.name)
        return Database(
            self.url,
            name=self.name,
            echo=configured.echo,
            sqlite_busy_timeout=configured.sqlite_busy_timeout,
            sqlite_transaction_mode=configured.sqlite_transaction_mode,
            engine_options={"poolclass": NullPool},
        )
