"""Import a module of the user's project as ``python -m`` would find it, or say why not."""

from __future__ import annotations

import importlib
import os
import sys
import sysconfig
import traceback
from types import ModuleType

from batteries_models._settings_sources import find_pyproject
from batteries_models.exceptions import AppDiscoveryError, ModelDiscoveryError

__all__ = ["DiscoveryError", "import_error", "import_project_module", "project_on_path"]

DiscoveryError = ModelDiscoveryError | AppDiscoveryError


def project_on_path() -> None:
    """Put the working folder, then the project root (``pyproject.toml``'s), on ``sys.path``.

    Console scripts do not put the working folder on ``sys.path`` as ``python -m`` does; a
    project's modules must import the same from ``fastapi-batteries ...`` as from ``python -m``,
    from the project folder or one of its subfolders.
    """
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)
    pyproject = find_pyproject()
    if pyproject is not None and str(pyproject.parent) not in sys.path:
        sys.path.insert(1, str(pyproject.parent))


def import_project_module(
    path: str, *, what: str, error: type[DiscoveryError] = ModelDiscoveryError
) -> ModuleType:
    """Import the dotted ``path`` from the project; raise one line naming ``what`` it is.

    Raises:
        ModelDiscoveryError: The module cannot be imported (or ``error``, when given).
    """
    project_on_path()
    try:
        return importlib.import_module(path)
    except Exception as exc:
        raise import_error(path, exc, what=what, error=error) from exc


def import_error(
    path: str,
    exc: BaseException,
    *,
    what: str,
    error: type[DiscoveryError] = ModelDiscoveryError,
) -> DiscoveryError:
    """The one-line error for a project module that failed: the file and line, what to do."""
    cause = traceback.format_exception_only(type(exc), exc)[-1].strip()
    if isinstance(exc, ModuleNotFoundError) and exc.name and path.startswith(exc.name):
        hint = "run the command from the project folder, or check the dotted path"
        file, line = None, None
    else:
        hint = "fix the error in that module"
        file, line = _where_raised(exc)
    at = f" ({_shown(file)}, line {line})" if file is not None else ""
    msg = f"Cannot import {what} {path!r}: {cause}{at}; {hint}"
    return error(msg, path=path, file=file, line=line)


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
