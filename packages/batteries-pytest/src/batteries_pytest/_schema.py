"""The tables of the test database, and the fingerprint that tells whether a kept one still fits.

``upgrade head`` when the project has batteries-migrate migrations, else ``create_all`` of its
models.
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

from sqlalchemy import MetaData
from sqlalchemy.engine import Dialect
from sqlalchemy.schema import CreateIndex, CreateTable
from sqlmodel import SQLModel

from batteries_models import BaseModel, BatteriesSettings, ConfigurationError, discover_models
from batteries_pytest._database import SchemaSource

__all__ = ["fingerprint", "model_metadatas", "schema_source", "upgrade_to_head"]


def schema_source(settings: BatteriesSettings, database: str) -> SchemaSource:
    """``migrations`` when batteries-migrate is installed and ``database`` has an ``env.py``."""
    if importlib.util.find_spec("batteries_migrate") is None:
        return "create_all"
    from batteries_migrate import resolve_target

    directory = resolve_target(database, settings=settings).directory
    return "migrations" if (Path(directory) / "env.py").is_file() else "create_all"


def upgrade_to_head(settings: BatteriesSettings, database: str) -> None:
    """Run the project's migrations on the test database (``settings`` point there).

    Raises:
        MigrationError: A migration failed, or the database is at a revision the folder lacks.
    """
    from batteries_migrate import upgrade

    upgrade(database=database, settings=settings)


def model_metadatas(settings: BatteriesSettings, database: str = "default") -> list[MetaData]:
    """The ``MetaData`` of the models of ``database``, for ``create_all``.

    From its ``[tool.batteries.databases.<name>] models``, else ``[tool.batteries] models``,
    when set; else whatever the test modules imported onto ``BaseModel.metadata`` and
    ``SQLModel.metadata``.

    Raises:
        ConfigurationError: No table is defined anywhere.
        ModelDiscoveryError: The models module cannot be imported.
    """
    models = settings.models_for(database)
    if models:
        found = list(discover_models(models).metadatas)
    else:
        found = [m for m in (BaseModel.metadata, SQLModel.metadata) if m.tables]
    if not found:
        msg = (
            'No table to create in the test database: set models = "app.models" under '
            "[tool.batteries] in pyproject.toml (or BATTERIES_MODELS), or add migrations"
        )
        raise ConfigurationError(msg)
    return found


def fingerprint(metadatas: list[MetaData], dialect: Dialect) -> str:
    """A digest of the DDL ``create_all`` would run: equal digests, same tables."""
    digest = hashlib.sha256()
    for metadata in metadatas:
        for table in sorted(metadata.tables.values(), key=lambda t: t.fullname):
            digest.update(str(CreateTable(table).compile(dialect=dialect)).encode())
            for index in sorted(table.indexes, key=lambda i: str(i.name)):
                digest.update(str(CreateIndex(index).compile(dialect=dialect)).encode())
    return digest.hexdigest()
