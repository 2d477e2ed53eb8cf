"""Import a module of the user's project, the way ``python -m`` would find it, or say why not."""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from types import ModuleType

from batteries_models.exceptions import AppDiscoveryError, ModelDiscoveryError

__all__ = ["import_error", "import_project_module", "project_on_path"]

DiscoveryError = ModelDiscoveryError | AppDiscoveryError


def project_on_path(folder: str | None = None) -> None:
    """Put ``folder`` (default: the working folder) first on ``sys.path`` unless it is there.

    Console scripts do not put the working folder on ``sys.path`` as ``python -m`` does; a
    project's modules must import the same from ``fastapi-batteries ...`` as from ``python -m``.
    """
    path = folder if folder is not None else os.getcwd()
    if path not in sys.path and (folder is not None or "" not in sys.path):
        sys.path.insert(0, path)


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
    """The one-line error for a project module that failed to import, with what to do."""
    cause = traceback.format_exception_only(type(exc), exc)[-1].strip()
    if isinstance(exc, ModuleNotFoundError) and exc.name and path.startswith(exc.name):
        hint = "run the command from the project folder, or check the dotted path"
    else:
        hint = "fix the error in that module"
    msg = f"Cannot import {what} {path!r}: {cause}; {hint}"
    return error(msg, path=path)
