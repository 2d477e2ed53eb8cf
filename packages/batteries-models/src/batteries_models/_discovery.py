"""Find every table a project defines by importing its models module or package."""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
import sysconfig
import traceback
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from sqlalchemy import MetaData, Table, inspect

from batteries_models._cycles import break_cycles
from batteries_models._settings_sources import find_pyproject
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
    # Console scripts do not put the working folder on sys.path as `python -m` does; a project's
    # models must import the same from `fastapi-batteries ...` as from `python -m ...`.
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)
    pyproject = find_pyproject()
    if pyproject is not None and str(pyproject.parent) not in sys.path:
        sys.path.insert(1, str(pyproject.parent))
    try:
        root = importlib.import_module(path)
    except Exception as exc:
        raise _import_error(path, exc) from exc
    modules = [root]
    if hasattr(root, "__path__"):
        for info in pkgutil.walk_packages(root.__path__, prefix=f"{path}."):
            try:
                modules.append(importlib.import_module(info.name))
            except Exception as exc:
                raise _import_error(info.name, exc) from exc
    return modules


def _import_error(path: str, exc: BaseException) -> ModelDiscoveryError:
    cause = traceback.format_exception_only(type(exc), exc)[-1].strip()
    if isinstance(exc, ModuleNotFoundError) and exc.name and path.startswith(exc.name):
        hint = "run the command from the project folder, or check the dotted path"
        file, line = None, None
    else:
        hint = "fix the error in that module"
        file, line = _where_raised(exc)
    at = f" ({_shown(file)}, line {line})" if file is not None else ""
    msg = f"Cannot import models module {path!r}: {cause}{at}; {hint}"
    return ModelDiscoveryError(msg, path=path, file=file, line=line)


def _where_raised(exc: BaseException) -> tuple[str | None, int | None]:
    """The file and line of the project's code that failed: not importlib's, nor a library's."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return exc.filename, exc.lineno
    installed = tuple(
        {sysconfig.get_path(name) for name in ("stdlib", "platstdlib", "purelib", "platlib")}
    )
    frames = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if not frame.filename.startswith(("<", *installed)) and frame.filename != __file__
    ]
    return (frames[-1].filename, frames[-1].lineno) if frames else (None, None)


def _shown(file: str) -> str:
    """``file`` relative to the working folder when it is inside it, as editors print it."""
    try:
        return os.path.relpath(file) if not os.path.relpath(file).startswith("..") else file
    except ValueError:  # another drive, on Windows
        return file
