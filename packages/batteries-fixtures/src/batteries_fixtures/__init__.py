"""batteries-fixtures: dump a database to fixtures (JSON, YAML, CSV, Django...) and load them back.

Example::

    from batteries_fixtures import dump, load

    await dump("sqlite+aiosqlite:///app.db", "fixtures.json")
    report = await load("postgresql+asyncpg://app@db/app", "fixtures.json")
    print(report.summary())

The ``batteries-fixtures`` command (:mod:`batteries_fixtures.cli`) does the same from a shell.

The names below are imported on first use: ``batteries-fixtures --help`` (and
``fastapi-batteries --help``, which mounts it) must not pay for importing SQLAlchemy (nor
``importlib.metadata``, for ``__version__``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    __version__: str
    from batteries_fixtures._dump import dump
    from batteries_fixtures._load import load
    from batteries_fixtures._reports import DumpReport, LoadReport, TableCounts
    from batteries_fixtures._sync import dump_sync, load_sync
    from batteries_fixtures.exceptions import (
        DuplicateRecordError,
        FixtureConnectionError,
        FixtureError,
        FixtureFileError,
        FixtureFormatError,
        FixtureIntegrityError,
        FixtureSchemaError,
        FixtureValueError,
        ForeignKeyCycleError,
        UnresolvedReferenceError,
    )

__all__ = [
    "DumpReport",
    "DuplicateRecordError",
    "FixtureConnectionError",
    "FixtureError",
    "FixtureFileError",
    "FixtureFormatError",
    "FixtureIntegrityError",
    "FixtureSchemaError",
    "FixtureValueError",
    "ForeignKeyCycleError",
    "LoadReport",
    "TableCounts",
    "UnresolvedReferenceError",
    "__version__",
    "dump",
    "dump_sync",
    "load",
    "load_sync",
]

_HOMES = {
    "dump": "batteries_fixtures._dump",
    "load": "batteries_fixtures._load",
    "DumpReport": "batteries_fixtures._reports",
    "LoadReport": "batteries_fixtures._reports",
    "TableCounts": "batteries_fixtures._reports",
    "dump_sync": "batteries_fixtures._sync",
    "load_sync": "batteries_fixtures._sync",
}


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import version

        globals()[name] = version("batteries-fixtures")
        return globals()[name]
    if name in __all__:
        home = _HOMES.get(name, "batteries_fixtures.exceptions")
        value = getattr(importlib.import_module(home), name)
        globals()[name] = value
        return value
    msg = f"module 'batteries_fixtures' has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
