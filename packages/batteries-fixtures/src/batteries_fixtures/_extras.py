"""Modules that an extra of batteries-fixtures installs, imported when a file needs one."""

from __future__ import annotations

import importlib
from typing import Any

from batteries_fixtures.exceptions import FixtureFileError

__all__ = ["import_extra"]


def import_extra(module: str, extra: str, path: str, what: str) -> Any:
    """``module``, or a :class:`FixtureFileError` naming the file and the extra to install.

    Args:
        module: The module to import (``"yaml"``).
        extra: The extra of batteries-fixtures that installs it (``"yaml"``).
        path: The fixture that needs it, for the message.
        what: What needs it, for the message (``"YAML fixtures need PyYAML"``).
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        from batteries_models import extra_requirement

        msg = f"{path}: {what}: pip install '{extra_requirement('batteries-fixtures', extra)}'"
        raise FixtureFileError(msg, path=path) from exc
