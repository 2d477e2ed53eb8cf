"""batteries-models: the model base, mixins, settings and async databases of FastAPI Batteries.

Example::

    from batteries_models import BaseModel, Database, TimestampMixin, UUIDMixin

    class Hero(BaseModel, UUIDMixin, TimestampMixin, table=True):
        name: str

    db = Database("sqlite+aiosqlite:///app.db")
    await db.create_all()
    async with db.session() as session:
        session.add(Hero(name="Deadpond"))
"""

from importlib.metadata import version as _version

from batteries_models._apps import APP_FILES, DiscoveredApp, discover_app
from batteries_models._base import NAMING_CONVENTION, BaseModel
from batteries_models._database import Database
from batteries_models._discovery import DiscoveredModels, discover_models
from batteries_models._environment import refuse_in_production
from batteries_models._extras import extra_requirement
from batteries_models._registry import DatabaseRegistry
from batteries_models._sqlite_files import require_database_file
from batteries_models._urls import mask_url, normalise_url
from batteries_models._uuid import uuid7
from batteries_models._warning_lines import warnings_as_lines
from batteries_models.exceptions import (
    AppDiscoveryError,
    BatteriesError,
    BatteriesWarning,
    ConfigurationError,
    DatabaseBusyError,
    DatabaseNotFoundError,
    DatabaseUnreachableError,
    MissingDriverError,
    MissingPackageError,
    ModelDiscoveryError,
    RefusedInProductionError,
    UnknownSettingWarning,
)
from batteries_models.mixins import IntIDMixin, SoftDeleteMixin, TimestampMixin, UUIDMixin, utcnow
from batteries_models.settings import (
    DEFAULT_DATABASE,
    BatteriesSettings,
    DatabaseSettings,
    SettingSource,
    SettingsReport,
)

__version__ = _version("batteries-models")

__all__ = [
    "APP_FILES",
    "DEFAULT_DATABASE",
    "NAMING_CONVENTION",
    "AppDiscoveryError",
    "BaseModel",
    "BatteriesError",
    "BatteriesSettings",
    "BatteriesWarning",
    "ConfigurationError",
    "Database",
    "DatabaseBusyError",
    "DatabaseNotFoundError",
    "DatabaseRegistry",
    "DatabaseSettings",
    "DatabaseUnreachableError",
    "DiscoveredApp",
    "DiscoveredModels",
    "IntIDMixin",
    "MissingDriverError",
    "MissingPackageError",
    "ModelDiscoveryError",
    "RefusedInProductionError",
    "SettingSource",
    "SettingsReport",
    "SoftDeleteMixin",
    "TimestampMixin",
    "UUIDMixin",
    "UnknownSettingWarning",
    "__version__",
    "discover_app",
    "discover_models",
    "extra_requirement",
    "mask_url",
    "normalise_url",
    "refuse_in_production",
    "require_database_file",
    "utcnow",
    "uuid7",
    "warnings_as_lines",
]
