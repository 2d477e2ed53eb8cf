"""Where a database stands against its migrations, for ``dev`` and ``config check``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from batteries_models import BatteriesSettings

__all__ = ["MigrationState", "migration_state"]


@dataclass(frozen=True)
class MigrationState:
    """The revisions a database is at and the heads of its migrations folder.

    Attributes:
        directory: The database's migrations folder.
        initialised: The folder has an ``env.py``; when not, ``at`` and ``heads`` are empty.
        at: The revisions the database is at (empty before the first upgrade).
        heads: The head revisions of the folder (more than one until they are merged).
    """

    directory: Path
    initialised: bool
    at: tuple[str, ...] = ()
    heads: tuple[str, ...] = ()

    @property
    def at_head(self) -> bool:
        """The database is at the one head of its migrations."""
        return len(self.heads) <= 1 and sorted(self.at) == sorted(self.heads)

    def behind(self) -> str:
        """``at X, head Y``, for a message about a database that is not at head."""
        return f"at {', '.join(self.at) or 'no revision'}, head {', '.join(self.heads) or 'none'}"


def migration_state(name: str, settings: BatteriesSettings) -> MigrationState:
    """Read the state of database ``name``: its folder's heads, then its version table.

    Raises:
        BatteriesError: The database cannot be reached, or a revision file is broken.
    """
    import batteries_migrate

    directory = batteries_migrate.resolve_target(name, settings=settings).directory
    if not (directory / "env.py").is_file():
        return MigrationState(directory, initialised=False)
    heads = tuple(
        revision.id for revision in batteries_migrate.heads(database=name, settings=settings)
    )
    at = batteries_migrate.current(database=name, settings=settings)
    return MigrationState(directory, True, at, heads)
