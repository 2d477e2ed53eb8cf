"""CSV fixtures: one file per table (``dump --split --format csv``), a header row of column keys.

A file's table is its name (``hero.csv``, ``audit.events.csv``, ``odd%2Fname.csv``: the names
a split dump writes). The header names the columns by key; each row is one record. A cell holds
the value the column's codec gives a JSON fixture, as text:

- ``NULL`` is an empty cell that is not quoted (``1,,x``); the empty string is ``""``
  (``1,"",x``): PostgreSQL's ``COPY ... CSV`` convention;
- strings as they are (quoted when they hold a comma, a quote, or a line break, with the quote
  doubled); in a column of PostgreSQL's own text (``"text"`` value type) a cell that is a
  JSON object ``{"$raw": ...}`` is that object, and a string that would read as one is
  written as one;
- numbers and booleans as JSON writes them (``12``, ``1.5``, ``true``); a cell of such a
  column that is not a JSON number or boolean is text (``NaN`` in a float column, or what
  SQLite stored against the column's type);
- JSON documents, arrays and hstore values as their JSON text (``"{""a"": 1}"``), and so is
  a foreign key written as a natural key (``"[""ann""]"``).

The parser is strict RFC 4180 (a quote inside an unquoted value is an error naming the line and
column) and streams: it holds one row and the chunk being read. Python's ``csv`` module cannot
tell a quoted empty cell from an unquoted one before Python 3.12 (``QUOTE_NOTNULL``), which
NULL and the empty string need, hence a parser of its own.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import PurePath
from typing import IO, Any
from urllib.parse import unquote

from batteries_fixtures._compression import strip_codec
from batteries_fixtures._raw import RAW_KEY, raw_of
from batteries_fixtures._readers import (
    _DECODER,  # the JSON reader's strict decoder: NaN and overflows refused
    _TRIM_AT,
    MISSING,
    RawRecord,
    _TextReader,  # the JSON reader's UTF-8 buffer, with positions
)
from batteries_fixtures.exceptions import FixtureFileError, FixtureFormatError
from batteries_fixtures.formats import FixtureFormat, FormatContext, ValueType

__all__ = ["CsvFormat", "CsvWriter"]

# A closing quote is one that no other quote follows (a doubled one is a quote in the value).
_QUOTED = re.compile(r'"((?:[^"]|"")*)"(?!")')
_PLAIN = re.compile(r'[^,"\r\n]*')
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_NEEDS_QUOTES = re.compile(r'[,"\r\n]')
_SCALAR_TYPES = ("integer", "number", "boolean")


class CsvFormat(FixtureFormat):
    """CSV, one table per file named after it, with a header row of column keys."""

    name = "csv"
    suffixes = (".csv",)
    description = "one CSV file per table (dump --split), header row of column keys"
    one_table_per_file = True

    def read(self, stream: IO[bytes], path: str, context: FormatContext) -> Iterator[RawRecord]:
        """The rows of one table's file as records."""
        table = table_of_file(path)
        table_obj = context.tables.get(table)
        pk_keys = [c.key for c in table_obj.primary_key.columns] if table_obj is not None else []
        types = context.value_types.get(table, {})
        refs = _natural_references(context, table)
        reader = _TextReader(stream, path)
        rows = _rows(reader, path)
        header_row = next(rows, None)
        if header_row is None:
            msg = f"{path}: the file is empty; a CSV fixture starts with a header row of columns"
            raise FixtureFormatError(msg, path=path, table=table)
        header = _header(header_row, path, table)
        decoders = [_decoder(types.get(key, "string"), key in refs) for key in header]
        pk_given = bool(pk_keys) and set(pk_keys) <= set(header)
        single = pk_keys[0] if pk_given and len(pk_keys) == 1 else None
        for index, (line, cells) in enumerate(rows):
            if len(cells) != len(header):
                msg = (
                    f"{path}: line {line} (record {index}) has {len(cells)} values for the "
                    f"{len(header)} columns of the header"
                )
                raise FixtureFormatError(msg, path=path, record=index, line=line, table=table)
            fields: dict[str, Any] = {}
            for key, decode, cell in zip(header, decoders, cells, strict=True):
                try:
                    fields[key] = decode(cell)
                except ValueError as exc:
                    msg = f"{path}: line {line} (record {index}) column {key!r}: {exc}"
                    raise FixtureFormatError(
                        msg, path=path, record=index, line=line, table=table, field=key
                    ) from exc
            pk: Any = MISSING
            if single is not None:
                pk = fields.pop(single)
            elif pk_given:
                pk = {key: fields.pop(key) for key in pk_keys}
            yield RawRecord(path, index, line, table, pk, fields)

    def writer(self, stream: IO[str], context: FormatContext) -> CsvWriter:
        """A writer of one table's file."""
        if context.table is None:
            msg = "CSV holds one table per file: dump with --split -o FOLDER --format csv"
            raise FixtureFileError(msg)
        return CsvWriter(stream, context)


def table_of_file(path: str) -> str:
    """The table a CSV file holds: its name without ``.csv`` (and compression), unescaped.

    Raises:
        FixtureFileError: The fixture is read from stdin, which has no name.
    """
    if path in ("-", "<stream>"):
        msg = (
            "A CSV fixture is named after its table (TABLE.csv): read from stdin it has no "
            "name; load the file itself"
        )
        raise FixtureFileError(msg, path=path)
    name = PurePath(strip_codec(os.fspath(path))).name
    if name.lower().endswith(".csv"):
        name = name[: -len(".csv")]
    return unquote(name)


def _natural_references(context: FormatContext, table: str) -> frozenset[str]:
    """Columns of ``table`` that may hold a natural key: foreign keys to natural-key tables."""
    found = context.tables.get(table)
    if found is None:
        return frozenset()
    return frozenset(
        next(iter(fk.columns)).key
        for fk in found.foreign_key_constraints
        if len(fk.columns) == 1 and fk.referred_table.fullname in context.natural_keys
    )


def _header(cells: tuple[int, list[str | None]], path: str, table: str) -> list[str]:
    line, names = cells
    seen: set[str] = set()
    header: list[str] = []
    for name in names:
        if not name:
            msg = f"{path}: line {line}: the header has an empty column name; name every column"
            raise FixtureFormatError(msg, path=path, line=line, table=table)
        if name in seen:
            msg = f"{path}: line {line}: the header names column {name!r} twice"
            raise FixtureFormatError(msg, path=path, line=line, table=table, field=name)
        seen.add(name)
        header.append(name)
    return header


# ---------------------------------------------------------------- cells


def _decoder(kind: ValueType, reference: bool = False) -> Any:
    """The cell reader of a column; a ``reference`` may hold a natural key's JSON list."""
    if kind == "document":
        return _document
    plain = _scalar if kind in _SCALAR_TYPES else _text if kind == "text" else _string
    if not reference:
        return plain

    def natural_or_plain(cell: str | None) -> Any:
        if cell is not None and cell.startswith("["):
            return _document(cell)
        return plain(cell)

    return natural_or_plain


def _string(cell: str | None) -> str | None:
    return cell


def _text(cell: str | None) -> Any:
    if cell is not None and cell.startswith("{") and RAW_KEY in cell:
        try:
            value = json.loads(cell)
        except ValueError:
            return cell
        if raw_of(value) is not None:
            return value
    return cell


def _scalar(cell: str | None) -> Any:
    if cell is None:
        return None
    if cell in ("true", "false"):
        return cell == "true"
    if _NUMBER.fullmatch(cell):
        return _DECODER.decode(cell)  # ValueError: too large or too small for a double
    return cell


def _document(cell: str | None) -> Any:
    if cell is None:
        return None
    try:
        return _DECODER.decode(cell)
    except ValueError as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        msg = f"not a JSON document ({reason}); write the document's JSON text"
        raise ValueError(msg) from None


def _encode(value: Any, kind: ValueType, reference: bool = False) -> str | None:
    """The cell of ``value`` in a column of ``kind`` (``None``: NULL); ``ValueError`` if none.

    A ``reference`` (a foreign key to a natural-key table) may hold a natural key: a list.
    """
    if value is None:
        return None
    if kind == "document" or (reference and type(value) is list):
        return json.dumps(value, ensure_ascii=False)
    if type(value) is str:
        if reference and value.startswith("["):
            msg = f"the key {value!r} would read back as a natural key"
            raise ValueError(msg)
        if kind in _SCALAR_TYPES and _scalar(value) is not value:
            msg = f"the text {value!r} would read back as a {kind}"
            raise ValueError(msg)
        if kind == "text" and _text(value) is not value:
            return json.dumps({RAW_KEY: value}, ensure_ascii=False)  # the same text, as raw
        return value
    if kind in _SCALAR_TYPES and type(value) in (int, float, bool):
        return json.dumps(value)
    if kind == "text" and raw_of(value) is not None:
        return json.dumps(value, ensure_ascii=False)
    msg = f"{value!r} has no CSV form in a column of {kind} values"
    raise ValueError(msg)


def _quote(cell: str | None) -> str:
    if cell is None:
        return ""
    if not cell or _NEEDS_QUOTES.search(cell):
        return '"' + cell.replace('"', '""') + '"'
    return cell


class CsvWriter:
    """The rows of one table: a header row of column keys, then one row per record."""

    def __init__(self, stream: IO[str], context: FormatContext) -> None:
        assert context.table is not None
        self._stream = stream
        self._table = context.table
        self._types = context.value_types.get(context.table, {})
        self._columns = context.columns(context.table)
        table = context.tables[context.table]
        self._pk_keys = [c.key for c in table.primary_key.columns]
        self._refs = _natural_references(context, context.table)
        self._header: list[str] | None = None

    def write(self, record: dict[str, Any]) -> None:
        """Write one record as a row (the first one also writes the header)."""
        pk = record.get("pk", MISSING)
        values: dict[str, Any] = {}
        if pk is not MISSING:
            values.update(pk if isinstance(pk, dict) else {self._pk_keys[0]: pk})
        values.update(record["fields"])
        if self._header is None:
            self._header = list(values)
            self._stream.write(",".join(_quote(key) for key in self._header) + "\n")
        elif list(values) != self._header:
            msg = (
                f"table {self._table!r}: a record with columns {', '.join(values)} in a CSV "
                f"file whose header is {', '.join(self._header)}; every row needs the same columns"
            )
            raise FixtureFormatError(msg, table=self._table)
        cells: list[str] = []
        for key, value in values.items():
            try:
                kind = self._types.get(key, "string")
                cells.append(_quote(_encode(value, kind, key in self._refs)))
            except ValueError as exc:
                msg = f"table {self._table!r} column {key!r}: {exc}"
                raise FixtureFormatError(msg, table=self._table, field=key) from exc
        if cells == [""]:
            msg = (
                f"table {self._table!r}: a row whose one value is NULL is a blank line in CSV, "
                "which readers skip; dump this table in another format"
            )
            raise FixtureFormatError(msg, table=self._table)
        self._stream.write(",".join(cells) + "\n")

    def close(self) -> None:
        """End the file: a table without rows still gets its header."""
        if self._header is None:
            self._stream.write(",".join(_quote(key) for key in self._columns) + "\n")
        self._stream.flush()


# ---------------------------------------------------------------- rows


class _Malformed(Exception):
    def __init__(self, at: int, reason: str) -> None:
        super().__init__(reason)
        self.at = at
        self.reason = reason


def _rows(reader: _TextReader, path: str) -> Iterator[tuple[int, list[str | None]]]:
    """The line and cells of each row (blank lines skipped); unquoted empty cells are None."""
    pos = 0
    while True:
        buffer = reader.buffer
        if pos >= len(buffer):
            if reader.eof or not reader.more():
                return
            continue
        try:
            parsed = _row(buffer, pos, final=reader.eof)
        except _Malformed as exc:
            line, column = reader.position(exc.at)
            msg = f"{path}: invalid CSV at line {line} column {column}: {exc.reason}"
            raise FixtureFormatError(msg, path=path, line=line, column=column) from None
        if parsed is None:  # the row goes on past the text read so far
            reader.more()
            continue
        cells, end = parsed
        if cells != [None]:  # a blank line
            yield reader.position(pos)[0], cells
        pos = end
        if pos > _TRIM_AT:
            reader.drop(pos)
            pos = 0


def _row(buffer: str, pos: int, *, final: bool) -> tuple[list[str | None], int] | None:
    """The cells of the row at ``pos`` and where the next starts; ``None`` if it is cut off."""
    cells: list[str | None] = []
    size = len(buffer)
    while True:
        if pos < size and buffer[pos] == '"':
            match = _QUOTED.match(buffer, pos)
            if match is None and not final:  # the value goes on past the text read so far
                return None
            if match is None:
                raise _Malformed(pos, "a quoted value is never closed (a missing quote?)")
            cells.append(match.group(1).replace('""', '"'))
        else:
            match = _PLAIN.match(buffer, pos)
            assert match is not None  # it matches the empty string
            cells.append(match.group() or None)
        pos = match.end()
        if pos >= size:
            return (cells, pos) if final else None
        char = buffer[pos]
        if char == ",":
            pos += 1
        elif char == "\n":
            return cells, pos + 1
        elif char == "\r":
            if pos + 1 >= size and not final:
                return None
            if pos + 1 >= size or buffer[pos + 1] == "\n":
                return cells, pos + 2
            raise _Malformed(pos, "a carriage return outside quotes; quote the value")
        elif char == '"':
            raise _Malformed(
                pos, "a quote inside an unquoted value; quote the whole value and double its quotes"
            )
        else:
            raise _Malformed(
                pos, f"{char!r} after a quoted value; a comma or the end of the line must follow"
            )
