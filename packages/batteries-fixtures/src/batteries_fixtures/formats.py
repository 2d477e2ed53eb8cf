"""Fixture formats: the interface a format implements, and the formats installed.

A format only turns a file into records and records into a file. Everything between the records
and the database (the codec of each column, natural keys, the staging tables and their checks,
the one transaction) is the same whatever the format, so a format written in a few dozen lines
loads and dumps exactly like JSON does.

A record is a JSON fixture's record: the table's name, its primary key (absent for a row given
by natural key or a table without one), and its other columns by column key, with values in
the JSON form each column's codec gives and takes (ISO 8601 text for a date, a string for a
``Decimal``, the document for a JSON column...: see the Fixtures page).

Built in: ``json``, ``jsonl``, ``yaml`` (needs ``batteries-fixtures[yaml]``), ``csv`` (one file
per table) and ``django`` (the files of Django's ``dumpdata`` and ``loaddata``). A distribution
adds a format with an entry point in the group ``batteries_fixtures.formats``::

    [project.entry-points."batteries_fixtures.formats"]
    toml = "my_package.fixtures:TomlFormat"

Once it is installed, ``--format toml`` (``format="toml"``) finds it, and so do files named
with one of its ``suffixes``. A format class can also be passed as it is:
``dump(db, "out.toml", format=TomlFormat())``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, ClassVar, Literal, Protocol

from batteries_fixtures._readers import MISSING, RawRecord
from batteries_fixtures.exceptions import FixtureError

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.engine import Dialect

    from batteries_fixtures._formats.django import DjangoFormat

__all__ = [
    "ENTRY_POINT_GROUP",
    "MISSING",
    "DjangoFormat",
    "FixtureFormat",
    "FormatContext",
    "Record",
    "RecordWriter",
    "ValueType",
    "get_format",
    "installed_formats",
]

ENTRY_POINT_GROUP = "batteries_fixtures.formats"
"""The entry-point group third-party formats register in (name: the format's name)."""

Record = RawRecord
"""One record read from a file: ``Record(path, index, line, table, pk, fields)``.

``path`` is the file's name as errors show it, ``index`` the record's 0-based position in the
file and ``line`` the 1-based line it starts on (both name the record in error messages);
``pk`` is :data:`MISSING` when the record gives none.
"""

ValueType = Literal["string", "text", "integer", "number", "boolean", "document"]
"""The JSON value a column's codec takes.

``"string"``: a string (text, dates on SQLite, UUIDs, decimals, enums, base64 bytes...);
``"text"``: a string, or the ``{"$raw": ...}`` object of a value kept in the database's own
form (most PostgreSQL types, SQLite dates stored in another form); ``"integer"``;
``"number"`` (a float column: also the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``);
``"boolean"``; ``"document"``: any JSON value (JSON columns, arrays, hstore). On SQLite, a
value stored against its column's type is written as the text it is (a string in an integer
column).
"""


@dataclass(frozen=True)
class FormatContext:
    """What a format may know of the database while it reads or writes one file.

    Attributes:
        tables: Every table of the load or dump, by fixture name (``schema.name`` for a table
            the search path does not show).
        natural_keys: The column keys of each table's natural key, for tables that have one.
        value_types: The :data:`ValueType` of each column a fixture holds, by table and
            column key (generated columns are not there: fixtures leave them out).
        dialect: The database's SQLAlchemy dialect.
        table: The one table of the file being written, for a format with one table per
            file; ``None`` otherwise (and on load, where the format finds it from the path).
        order: The tables a dump writes, in the order it writes them; empty on load.
        indent: What the dump's ``indent`` asked for (``None``: the format's compact form).
    """

    tables: Mapping[str, Table]
    natural_keys: Mapping[str, tuple[str, ...]]
    value_types: Mapping[str, Mapping[str, ValueType]]
    dialect: Dialect
    table: str | None = None
    order: Sequence[str] = field(default_factory=tuple)
    indent: int | None = None

    def columns(self, table: str) -> list[str]:
        """The column keys a record of ``table`` holds, in table order (primary key included)."""
        return list(self.value_types[table])


class RecordWriter(Protocol):
    """Writes the records of one file, one at a time (a dump never holds a table in memory).

    Each record is a ``dict`` with ``"table"``, then ``"pk"`` unless the dump leaves it out
    (natural primary keys, tables without a primary key), then ``"fields"``: a ``dict`` of
    every other column by key, in table order, with JSON values. Records come table after
    table in :attr:`FormatContext.order`, rows by primary key.
    """

    def write(self, record: dict[str, Any]) -> None:
        """Write one record."""

    def close(self) -> None:
        """Finish the file (closing brackets, buffered records); the dump closes the stream."""


class FixtureFormat(ABC):
    """A fixture format: reads a file into records, writes records into a file.

    Subclasses set :attr:`name` and :attr:`suffixes` and implement :meth:`read` and
    :meth:`writer`; both stream. Errors in a file are :class:`~batteries_fixtures.FixtureError`
    subclasses (usually :class:`~batteries_fixtures.FixtureFormatError`) whose one-line message
    names the file and the line or record, and what to do.

    Attributes:
        name: What ``--format`` takes (lower case).
        suffixes: File name suffixes that select the format (``".yaml"``, ``".yml"``), after
            any compression suffix; a split dump names its files with the first one.
        description: One line for listings.
        one_table_per_file: Each file holds the rows of one table (CSV): dumps need
            ``split``, and the format finds a file's table from its name.
        single_file: Every table goes into one file (Django's many-to-many lists are in the
            records of their table): ``split`` is refused.
    """

    name: ClassVar[str]
    suffixes: ClassVar[tuple[str, ...]] = ()
    description: ClassVar[str] = ""
    one_table_per_file: ClassVar[bool] = False
    single_file: ClassVar[bool] = False

    @classmethod
    def from_options(cls, options: Mapping[str, str]) -> FixtureFormat:
        """The format configured by ``--format-option KEY=VALUE`` pairs.

        The default takes no option; a format with options overrides this.

        Raises:
            FixtureError: An option the format does not know.
        """
        if options:
            msg = (
                f"The {cls.name} format takes no options, got {', '.join(sorted(options))}: "
                "leave out --format-option"
            )
            raise FixtureError(msg)
        return cls()

    @abstractmethod
    def read(self, stream: IO[bytes], path: str, context: FormatContext) -> Iterable[Record]:
        """The records of one file, read as they are needed (a generator, typically).

        Args:
            stream: The file's bytes, already decompressed. The caller closes it: a text
                wrapper around it (``io.TextIOWrapper``) must be ``detach()``-ed, not closed.
            path: Its name for messages (``"-"`` for stdin).
            context: The tables being loaded into.
        """

    @abstractmethod
    def writer(self, stream: IO[str], context: FormatContext) -> RecordWriter:
        """A writer of one file's records into ``stream`` (UTF-8 text; write newlines as LF)."""

    def natural_keys(self, context: FormatContext) -> Mapping[str, Sequence[str]]:
        """Natural keys the format gives tables that declare none (by table: column keys).

        Django's many-to-many tables, say, are found by their two foreign keys. The default
        gives none.
        """
        return {}


def installed_formats() -> list[str]:
    """The names of the formats installed: the built-in ones and the entry points', sorted."""
    from batteries_fixtures._formats import format_names

    return format_names()


def get_format(name: str, options: Mapping[str, str] | None = None) -> FixtureFormat:
    """The format called ``name``, configured with ``options`` (``--format-option`` pairs).

    Raises:
        FixtureError: No format has that name (the message lists those installed), a
            plugin's entry point cannot be imported, or an option is wrong.
    """
    from batteries_fixtures._formats import format_named

    return format_named(name, options or {})


def __getattr__(name: str) -> Any:
    # The built-in formats import this module: DjangoFormat comes on first use.
    if name == "DjangoFormat":
        from batteries_fixtures._formats.django import DjangoFormat

        return DjangoFormat
    msg = f"module 'batteries_fixtures.formats' has no attribute {name!r}"
    raise AttributeError(msg)
