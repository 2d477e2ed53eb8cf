"""Find every table a project defines by importing its models module or package."""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from sqlalchemy import MetaData, Table, inspect

from batteries_models._cycles import break_cycles
from batteries_models._imports import import_error, import_project_module
from batteries_models.exceptions import ModelDiscoveryError

__all__ = ["DiscoveredModels", "discover_models"]


@dataclass(frozen=True)
class DiscoveredModels:
    """What :func:`discover_models` found.

    Attributes:
        metadatas: Every ``MetaData`` that holds at least one found table, in discovery order.
        tables: Every table by name (``schema.name`` for tables in a schema).
        models: The mapped class of each table that has one, by table name. Bare ``Table``
            objects (association tables) appear in ``tables`` only.
    """

    metadatas: tuple[MetaData, ...]
    tables: dict[str, Table] = field(default_factory=dict)
    models: dict[str, type[Any]] = field(default_factory=dict)

    @property
    def metadata(self) -> MetaData:
        """The one ``MetaData`` of the project.

        Raises:
            ModelDiscoveryError: The tables are spread over several ``MetaData`` objects; use
                ``metadatas`` (Alembic accepts a list as ``target_metadata``).
        """
        if len(self.metadatas) == 1:
            return self.metadatas[0]
        msg = (
            f"Found {len(self.metadatas)} MetaData objects, expected one: use "
            "DiscoveredModels.metadatas, or put every model on BaseModel.metadata"
        )
        raise ModelDiscoveryError(msg, path="")


def discover_models(path: str) -> DiscoveredModels:
    """Import ``path`` (recursively when it is a package) and collect its tables and models.

    SQLModel table models, plain SQLAlchemy declarative models and bare ``Table`` objects are all
    found, with every other table on the same ``MetaData``. One foreign key of each cycle between
    tables is marked ``use_alter=True``, as SQLAlchemy recommends, so that the tables sort
    without a "Cannot correctly sort tables" warning (autogenerate, ``drop_all``).

    The working folder is put on ``sys.path`` first (as ``python -m`` does), and the project
    root (the folder of ``pyproject.toml``) after it, so a command run from the project folder
    or one of its subfolders finds the project's modules.

    Args:
        path: A dotted module path, such as ``"app.models"``.

    Raises:
        ModelDiscoveryError: The module cannot be imported; the message names the path and the
            import error.
    """
    modules = _import_recursively(path)
    metadatas: list[MetaData] = []
    models: dict[str, type[Any]] = {}

    def remember(metadata: MetaData) -> None:
        if not any(metadata is known for known in metadatas):
            metadatas.append(metadata)

    for module in modules:
        for value in list(vars(module).values()):
            table = getattr(value, "__table__", None) if isinstance(value, type) else None
            if isinstance(table, Table):
                remember(table.metadata)
                models.setdefault(table.fullname, value)
            elif isinstance(value, Table):
                remember(value.metadata)
            elif isinstance(value, MetaData) and value.tables:
                remember(value)
    tables: dict[str, Table] = {}
    for metadata in metadatas:
        break_cycles(metadata)
        tables.update(metadata.tables)
    # Classes mapped in a registry we saw, though defined outside the imported modules.
    for model in list(models.values()):
        for mapper in inspect(model).registry.mappers:
            local = mapper.local_table
            if isinstance(local, Table) and local.fullname in tables:
                models.setdefault(local.fullname, mapper.class_)
    return DiscoveredModels(metadatas=tuple(metadatas), tables=tables, models=models)


def _import_recursively(path: str) -> list[ModuleType]:
    root = import_project_module(path, what="models module")
    modules = [root]
    if hasattr(root, "__path__"):
        for info in pkgutil.walk_packages(root.__path__, prefix=f"{path}."):
            try:
                modules.append(importlib.import_module(info.name))
            except Exception as exc:
                raise import_error(info.name, exc, what="models module") from exc
    return modules
