"""Find the project's FastAPI app: as ``fastapi dev`` does, plus ``[tool.batteries] app``."""

from __future__ import annotations

import inspect
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from batteries_models._imports import import_project_module
from batteries_models.exceptions import AppDiscoveryError, MissingDriverError

if TYPE_CHECKING:
    from batteries_models.settings import BatteriesSettings

__all__ = ["APP_FILES", "DiscoveredApp", "discover_app"]

APP_FILES = ("main.py", "app.py", "api.py", "app/main.py", "app/app.py", "app/api.py")
"""The files looked in, in order, when neither an app nor ``[tool.batteries] app`` is given."""

_ATTRIBUTES = ("app", "api")


@dataclass(frozen=True)
class DiscoveredApp:
    """The app :func:`discover_app` found: what uvicorn needs to import it, and the app itself.

    Attributes:
        module: The dotted module that holds it (``app.main``).
        attribute: Its name in that module (``app``), or the factory's name.
        root: The folder that must be on ``sys.path`` for ``module`` to import.
        source: Where it was found: ``"argument"``, ``"settings"`` (``BATTERIES_APP`` or
            ``[tool.batteries] app``) or the file it was found in (``"app/main.py"``).
        factory: ``attribute`` is a function that builds the app.
        value: The imported attribute: the app, or the factory.
    """

    module: str
    attribute: str
    root: Path
    source: str
    factory: bool = False
    value: Any = field(default=None, repr=False, compare=False)

    @property
    def import_string(self) -> str:
        """``module:attribute``, as uvicorn and ``fastapi run`` take it."""
        return f"{self.module}:{self.attribute}"

    def load(self) -> Any:
        """Return the app: the attribute itself, or what the factory returns.

        Raises:
            AppDiscoveryError: The factory raised, or returned something that is not an app.
        """
        if not self.factory:
            return self.value
        try:
            app = self.value()
        except Exception as exc:
            msg = (
                f"The app factory {self.import_string} raised "
                f"{type(exc).__name__}: {_first_line(exc)}; fix the factory"
            )
            raise AppDiscoveryError(msg, path=self.import_string) from exc
        if not _is_fastapi(app):
            msg = (
                f"The app factory {self.import_string} returned {type(app).__name__}, "
                "not a FastAPI app: return the app from it"
            )
            raise AppDiscoveryError(msg, path=self.import_string)
        return app


def discover_app(
    app: str | None = None,
    *,
    factory: bool = False,
    settings: BatteriesSettings | None = None,
) -> DiscoveredApp:
    """Find the project's FastAPI app and import it.

    Looks, in order, at ``app``; else the ``app`` setting (``[tool.batteries] app`` or
    ``BATTERIES_APP``); else the files of :data:`APP_FILES` in the working folder, taking the
    first that holds a FastAPI app (an attribute called ``app`` or ``api``, else any
    ``FastAPI`` instance). A file inside packages (folders with ``__init__.py``) is imported as
    part of them (``app/main.py`` as ``app.main``), as ``fastapi dev`` does.

    Args:
        app: ``"module:attribute"``, ``"module"`` (its app is looked for) or a file path
            (``"app/main.py"``, ``"app/main.py:api"``).
        factory: The attribute is a function that builds the app (``create_app``).
        settings: The settings to read; ``BatteriesSettings()`` when not given.

    Raises:
        AppDiscoveryError: Nothing was found (the message lists where it looked), or the module
            cannot be imported, or the attribute is missing or is not an app.
        MissingDriverError: FastAPI is not installed.
    """
    if app is not None:
        return _from_spec(app, factory=factory, source="argument")
    if settings is None:
        from batteries_models.settings import BatteriesSettings

        settings = BatteriesSettings()
    if settings.app is not None:
        return _from_spec(settings.app, factory=factory, source="settings")
    looked: list[str] = ["the app setting ([tool.batteries] app, BATTERIES_APP): not set"]
    cwd = Path.cwd()
    for name in APP_FILES:
        path = cwd / name
        if not path.is_file():
            looked.append(f"{name}: no such file")
            continue
        module, root = _module_of(path)
        found = _find_app(_import(module, root))
        if found is not None:
            return DiscoveredApp(module, found[0], root, name, False, found[1])
        looked.append(f"{name}: no FastAPI app in it")
    msg = (
        f"No FastAPI app found in {cwd}: looked at {'; '.join(looked)}; pass --app "
        'module:attribute, or set [tool.batteries] app = "module:attribute" in pyproject.toml'
    )
    raise AppDiscoveryError(msg, path="", looked=tuple(looked))


def _from_spec(spec: str, *, factory: bool, source: str) -> DiscoveredApp:
    module, _, attribute = spec.partition(":")
    folder: Path | None = None
    if module.endswith(".py") or "/" in module:
        path = Path(module).resolve()
        if not path.is_file():
            msg = f"App file {module} does not exist (app {spec!r}, from {source})"
            raise AppDiscoveryError(msg, path=spec)
        module, folder = _module_of(path)
    loaded = _import(module, folder)
    root = _root_of(loaded, module)
    if not attribute:
        found = _find_app(loaded)
        if found is None:
            msg = f"No FastAPI app in module {module!r}: name it, as {module}:app"
            raise AppDiscoveryError(msg, path=spec)
        return DiscoveredApp(module, found[0], root, source, False, found[1])
    value = getattr(loaded, attribute, None)
    where = f"{module}:{attribute}"
    if value is None:
        msg = f"Module {module!r} has no attribute {attribute!r} (app {where}, from {source})"
        raise AppDiscoveryError(msg, path=where)
    if factory and not callable(value):
        msg = f"{where} is a {type(value).__name__}, not a function that builds the app"
        raise AppDiscoveryError(msg, path=where)
    if not factory and inspect.isfunction(value):
        msg = f"{where} is a function, not an app: if it builds the app, pass --factory"
        raise AppDiscoveryError(msg, path=where)
    return DiscoveredApp(module, attribute, root, source, factory, value)


def _module_of(path: Path) -> tuple[str, Path]:
    """The dotted module of ``path`` and the folder to import it from (above its packages)."""
    parts = [path.stem]
    folder = path.parent
    while (folder / "__init__.py").is_file():
        parts.insert(0, folder.name)
        folder = folder.parent
    return ".".join(parts), folder


def _import(module: str, folder: Path | None) -> Any:
    """Import ``module``, from ``folder`` when given, else as the project's modules import."""
    if folder is not None and str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    return import_project_module(module, what="app module", error=AppDiscoveryError)


def _root_of(loaded: Any, module: str) -> Path:
    """The folder ``module`` was imported from: above its top package (uvicorn's app_dir)."""
    file = getattr(loaded, "__file__", None)
    if file is None:  # a namespace package: the working folder is the best guess
        return Path.cwd()
    levels = module.count(".") + (1 if Path(file).name == "__init__.py" else 0)
    return Path(file).resolve().parents[levels]


def _find_app(module: Any) -> tuple[str, Any] | None:
    values = vars(module)
    for attribute in _ATTRIBUTES:
        if _is_fastapi(values.get(attribute)):
            return attribute, values[attribute]
    for attribute, value in values.items():
        if _is_fastapi(value):
            return attribute, value
    return None


def _is_fastapi(value: Any) -> bool:
    try:
        from fastapi import FastAPI
    except ImportError as exc:
        msg = "Finding the app needs FastAPI: pip install 'fastapi-batteries[fastapi]'"
        raise MissingDriverError(msg, driver="fastapi", extra="fastapi-batteries[fastapi]") from exc
    return isinstance(value, FastAPI)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else "(no message)"
