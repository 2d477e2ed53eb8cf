"""batteries-fixtures: dump a database to JSON/JSONL fixtures and load them back exactly.

Example::

    from batteries_fixtures import dump, load

    await dump("sqlite+aiosqlite:///app.db", "fixtures.json")
    report = await load("postgresql+asyncpg://app@db/app", "fixtures.json")
    print(report.summary())

The ``batteries-fixtures`` command (:mod:`batteries_fixtures.cli`) does the same from a shell.
"""

from importlib.metadata import version as _version

from batteries_fixtures._dump import dump
from batteries_fixtures._load import load
from batteries_fixtures._reports import DumpReport, LoadReport, TableCounts
from batteries_fixtures._sync import dump_sync, load_sync
from batteries_fixtures.exceptions import (
    DuplicateRecordError,
    FixtureError,
    FixtureFileError,
    FixtureFormatError,
    FixtureIntegrityError,
    FixtureSchemaError,
    FixtureValueError,
    ForeignKeyCycleError,
    UnresolvedReferenceError,
)

__version__ = _version("batteries-fixtures")

__all__ = [
    "DumpReport",
    "DuplicateRecordError",
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
