"""``fastapi-batteries shell``: a Python shell where ``await`` works, with the project loaded.

The namespace holds ``settings``, ``db``, an open ``session``, ``select``, the app, and every
discovered model and CRUD class; the banner lists them, as Django's shell does. The shells
themselves are in :mod:`batteries_cli._repl`.
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from batteries_cli._errors import describe, errors, fail, warn
from batteries_cli._options import DatabaseName, DatabaseUrl, Models, resolve_settings

if TYPE_CHECKING:
    from batteries_models import BatteriesSettings

__all__ = ["Interface", "shell"]


class Interface(enum.StrEnum):
    """The interactive shells ``--interface`` can start."""

    ipython = "ipython"
    python = "python"


def shell(
    command: Annotated[
        str | None,
        typer.Option("--command", "-c", help="Run CODE (await works) and exit, as python -c."),
    ] = None,
    interface: Annotated[
        Interface | None,
        typer.Option(
            "--interface", "-i", help="ipython or python (default: ipython if installed)."
        ),
    ] = None,
    no_imports: Annotated[
        bool, typer.Option("--no-imports", help="Import nothing into the namespace.")
    ] = False,
    database: DatabaseName = None,
    database_url: DatabaseUrl = None,
    models: Models = None,
) -> None:
    """An async Python shell with the database, a session and the models imported."""
    name, settings = resolve_settings(database, database_url, models)
    installed = _ipython_installed()
    chosen = interface or (Interface.ipython if installed else Interface.python)
    if chosen is Interface.ipython and not installed:
        fail("IPython is not installed: pip install ipython, or use --interface python")
    import asyncio

    from batteries_cli import _repl

    # One loop for the shell's whole life: the session's connection belongs to it.
    with asyncio.Runner() as runner:
        namespace = Namespace() if no_imports else _namespace(name, settings)
        try:
            if command is not None:
                _repl.run_command(command, namespace.values, runner)
            elif chosen is Interface.ipython:
                _repl.start_ipython(namespace.values, _banner(namespace), runner)
            else:
                _repl.start_python(namespace.values, _banner(namespace), runner)
        finally:
            for close in reversed(namespace.closers):
                runner.run(close())


@dataclass
class Namespace:
    """What the shell starts with, where each name came from, and what to close at the end."""

    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, list[str]] = field(default_factory=dict)
    closers: list[Callable[[], Coroutine[Any, Any, None]]] = field(default_factory=list)

    def add(self, source: str, names: dict[str, Any]) -> None:
        """Import ``names`` from ``source``; a name already taken keeps its first value."""
        for name, value in names.items():
            if name not in self.values:
                self.values[name] = value
                self.sources.setdefault(source, []).append(name)


def _namespace(name: str, settings: BatteriesSettings) -> Namespace:
    from sqlmodel import select

    from batteries_models import Database, discover_models

    namespace = Namespace(values={"__name__": "__main__"})
    namespace.add("the settings", {"settings": settings})
    if name in settings.database_names():
        with errors():
            db = Database.from_settings(settings.database(name), name=name)
        session = db.sessionmaker()
        namespace.closers += [db.dispose, session.close]
        namespace.add(f"database {name!r} ({db.masked_url})", {"db": db, "session": session})
    else:
        warn("no database is configured (set DATABASE_URL): the shell has no db and no session")
    namespace.add("sqlmodel", {"select": select})
    if settings.models is not None:
        try:
            found = discover_models(settings.models)
        except Exception as exc:
            warn(f"models not imported: {describe(exc)}")
        else:
            namespace.add(
                settings.models, {model.__name__: model for model in found.models.values()}
            )
    _add_app_and_crud(namespace, settings)
    return namespace


def _add_app_and_crud(namespace: Namespace, settings: BatteriesSettings) -> None:
    import inspect

    from batteries_models import AppDiscoveryError, discover_app

    try:
        found = discover_app(settings=settings)
    except AppDiscoveryError as exc:
        if exc.path:  # an app was named or found, and it does not import: say so
            warn(f"app not imported: {describe(exc)}")
        return
    except Exception as exc:
        warn(f"app not imported: {describe(exc)}")
        return
    namespace.add(found.module, {"app": found.value})
    try:
        from batteries_crud import BaseCRUD
    except ImportError:
        return
    root = found.root.resolve()
    by_module: dict[str, dict[str, Any]] = {}
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if path is None or not _inside(Path(path), root):
            continue
        for value in vars(module).values():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseCRUD)
                and value is not BaseCRUD
                and value.__module__ == module.__name__
            ):
                by_module.setdefault(module.__name__, {})[value.__name__] = value
    for module_name in sorted(by_module):
        namespace.add(module_name, by_module[module_name])


def _inside(path: Path, root: Path) -> bool:
    """Whether ``path`` is a file of the project: under ``root``, and not an installed package."""
    resolved = path.resolve()
    return resolved.is_relative_to(root) and "site-packages" not in resolved.parts


def _banner(namespace: Namespace) -> str:
    lines = ["FastAPI Batteries shell: top-level await works (await session.exec(select(...)))."]
    if namespace.sources:
        lines.append("Imported:")
        lines += [
            f"  from {source}: {', '.join(names)}" for source, names in namespace.sources.items()
        ]
    if "session" in namespace.values:
        lines.append("session is open: await session.commit() saves, exiting rolls back.")
    return "\n".join(lines) + "\n"


def _ipython_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("IPython") is not None
