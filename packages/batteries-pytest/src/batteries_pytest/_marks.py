"""The plugin's markers: ``fixtures(*files, scope=...)`` and ``batteries_db(transaction=...)``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from batteries_models import ConfigurationError

__all__ = [
    "DatabaseMark",
    "database_mark",
    "fixture_files",
    "has_module_fixtures",
    "module_fixture_files",
]

_SCOPES = ("function", "module")


@dataclass(frozen=True)
class DatabaseMark:
    """What ``@pytest.mark.batteries_db(...)`` asks for."""

    transaction: bool = False
    reset_sequences: bool = False


def has_module_fixtures(module: pytest.Module) -> bool:
    """Whether the module's pytestmark holds ``fixtures(..., scope="module")``."""
    return any(
        m.name == "fixtures" and m.kwargs.get("scope") == "module" for m in module.own_markers
    )


def database_mark(item: pytest.Item) -> DatabaseMark:
    """The closest ``batteries_db`` marker of ``item``, or the defaults.

    Raises:
        ConfigurationError: The marker has positional or unknown arguments.
    """
    mark = item.get_closest_marker("batteries_db")
    if mark is None:
        return DatabaseMark()
    unknown = sorted(set(mark.kwargs) - {"transaction", "reset_sequences"})
    if mark.args or unknown:
        what = ", ".join(unknown) if unknown else "positional arguments"
        msg = (
            f"{item.nodeid}: batteries_db takes only transaction= and reset_sequences=, not {what}"
        )
        raise ConfigurationError(msg)
    return DatabaseMark(
        transaction=bool(mark.kwargs.get("transaction", False)),
        reset_sequences=bool(mark.kwargs.get("reset_sequences", False)),
    )


def fixture_files(item: pytest.Item, directories: Sequence[Path]) -> list[Path]:
    """The files of every per-test ``fixtures`` marker of ``item``, outermost marker first.

    Raises:
        ConfigurationError: A marker is malformed, a ``scope="module"`` marker is not the
            module's, or a file cannot be found (or is found twice).
    """
    module = item.getparent(pytest.Module)
    module_marks = list(module.own_markers) if module is not None else []
    names: list[str] = []
    for mark in reversed(list(item.iter_markers("fixtures"))):
        scope = _scope(item.nodeid, mark)
        if scope == "module":
            if not any(mark is own for own in module_marks):
                msg = (
                    f"{item.nodeid}: fixtures(..., scope='module') loads once per module: put it "
                    "in the module's pytestmark, not on a test or class"
                )
                raise ConfigurationError(msg)
            continue
        names.extend(_names(item.nodeid, mark))
    return _resolve_all(names, item.path.parent, directories, item.nodeid)


def module_fixture_files(module: pytest.Module, directories: Sequence[Path]) -> list[Path]:
    """The files of the module's ``fixtures(..., scope="module")`` markers."""
    names = [
        name
        for mark in module.own_markers
        if mark.name == "fixtures" and _scope(module.nodeid, mark) == "module"
        for name in _names(module.nodeid, mark)
    ]
    return _resolve_all(names, module.path.parent, directories, module.nodeid)


def _scope(nodeid: str, mark: pytest.Mark) -> str:
    unknown = sorted(set(mark.kwargs) - {"scope"})
    scope = mark.kwargs.get("scope", "function")
    if unknown or scope not in _SCOPES:
        what = f"unknown argument {unknown[0]!r}" if unknown else f"scope={scope!r}"
        msg = f"{nodeid}: fixtures(...) takes files and scope='function' or 'module', not {what}"
        raise ConfigurationError(msg)
    return str(scope)


def _names(nodeid: str, mark: pytest.Mark) -> list[str]:
    if not mark.args or not all(isinstance(a, str | Path) for a in mark.args):
        msg = f"{nodeid}: fixtures(...) needs file names, e.g. fixtures('heroes.json')"
        raise ConfigurationError(msg)
    return [str(a) for a in mark.args]


def _resolve_all(
    names: Iterable[str], here: Path, directories: Sequence[Path], nodeid: str
) -> list[Path]:
    return [_resolve(name, here, directories, nodeid) for name in names]


def _resolve(name: str, here: Path, directories: Sequence[Path], nodeid: str) -> Path:
    """The one file ``name`` stands for: absolute, or beside the test, or in a fixture folder.

    A name found in two folders is refused: loading the wrong one of two files would go unseen.
    """
    path = Path(name)
    if path.is_absolute():
        candidates = [path]
    else:
        candidates = [folder / path for folder in (here, *directories)]
    found = list(dict.fromkeys(c.resolve() for c in candidates if c.exists()))
    if len(found) == 1:
        return found[0]
    if not found:
        places = ", ".join(str(c.parent) for c in candidates)
        msg = (
            f"{nodeid}: fixture file {name!r} not found (looked in {places}); add the folder to "
            "batteries_fixture_dirs in the pytest ini options, or give the path"
        )
    else:
        msg = (
            f"{nodeid}: fixture file {name!r} is in several folders ({', '.join(map(str, found))}):"
            " give its path, so the test loads the one you mean"
        )
    raise ConfigurationError(msg)
