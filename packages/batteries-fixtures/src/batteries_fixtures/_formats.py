"""Fixture files: a streaming writer and a streaming reader for JSON lists and JSONL."""

from __future__ import annotations

import codecs
import json
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any, Literal

from batteries_fixtures.exceptions import FixtureError, FixtureFileError, FixtureFormatError

__all__ = ["Format", "RawRecord", "RecordWriter", "format_from_name", "read_records"]

Format = Literal["json", "jsonl"]

_CHUNK = 1 << 20
_TRIM_AT = 1 << 16
_RECORD_KEYS = frozenset({"table", "pk", "fields"})
_JSONL_SUFFIXES = (".jsonl", ".ndjson")
# A \\uD800-\\uDFFF escape: the only way a lone surrogate (text no database stores) gets in.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class _NotStorable(ValueError):
    """A JSON token Python accepts but whose value would change on the way into a database."""


def _parse_constant(word: str) -> Any:
    msg = f'{word} is not JSON (write the string "{word}" in a float column)'
    raise _NotStorable(msg)


def _parse_float(text: str) -> float:
    number = float(text)
    if math.isinf(number):
        msg = f"the number {_shorten(text)} is too large for a double (about 1.8e308 at most)"
        raise _NotStorable(msg)
    if number == 0 and any(c in "123456789" for c in text.partition("e")[0].partition("E")[0]):
        msg = f"the number {_shorten(text)} is too small for a double and would be stored as 0"
        raise _NotStorable(msg)
    return number


def _shorten(text: str) -> str:
    return text if len(text) <= 24 else f"{text[:10]}...{text[-10:]} ({len(text)} characters)"


# NaN, Infinity and out-of-range numbers are refused while parsing: Python's json accepts them,
# and a database would store something else (NULL, an infinity, the non-standard literal NaN).
# The hook costs ~0.5 us per float (200k JSONL records of three floats read ~5% slower); a
# regular expression looking for extreme numbers first cost more than the hook.
_DECODER = json.JSONDecoder(parse_constant=_parse_constant, parse_float=_parse_float)
# Deeper documents parse only when the recursion limit allows, and then cannot be dumped
# (json.dumps recurses too): one fixed limit, whatever the process's recursion limit is.
MAX_DEPTH = 500


def format_from_name(name: str | None) -> Format:
    """``jsonl`` for ``.jsonl``/``.ndjson`` names, ``json`` for everything else (and stdout)."""
    if name and name.lower().endswith(_JSONL_SUFFIXES):
        return "jsonl"
    return "json"


class RecordWriter:
    """Write records one at a time, so a dump never holds a table in memory.

    JSON output is a list with one record per line (or one indented record per block);
    JSONL output is one record per line. A *fragment* writer writes JSON records as if other
    records came before, and no brackets: tables dumped apart are joined by :meth:`append`.
    """

    def __init__(
        self, stream: IO[str], fmt: Format, indent: int | None = None, *, fragment: bool = False
    ) -> None:
        self._stream = stream
        self._format = fmt
        self._indent = indent
        self._fragment = fragment
        self._count = 1 if fragment else 0
        # One encoder for every record: json.dumps() with options builds a new one per call,
        # a fifth of a dump's time. Same class and options, so the same bytes as json.dumps
        # (records never hold cycles, so the circular check can go).
        generic = json.JSONEncoder(
            ensure_ascii=False, check_circular=False, indent=indent if fmt == "json" else None
        ).encode
        self._encode: Callable[[Any], str] = generic
        if fmt == "jsonl" or indent is None:
            self._encode = _FlatRecordEncoder(generic).encode

    def write(self, record: dict[str, Any]) -> None:
        """Write one record."""
        if self._format == "jsonl":
            self._stream.write(self._encode(record) + "\n")
        else:
            text = self._encode(record)
            self._stream.write(("[\n" if self._count == 0 else ",\n") + text)
        self._count += 1

    def append(self, copy: Callable[[IO[str], int], None], count: int) -> None:
        """Append ``count`` records a fragment writer wrote; ``copy(stream, skip)`` copies them.

        The output is the same as if this writer had written those records itself.
        """
        if count == 0:
            return
        if self._format == "json" and self._count == 0:
            self._stream.write("[\n")
            copy(self._stream, len(",\n"))
        else:
            copy(self._stream, 0)
        self._count += count

    def close(self) -> None:
        """Finish the document (the closing bracket of a JSON list)."""
        if self._format == "json" and not self._fragment:
            self._stream.write("[]\n" if self._count == 0 else "\n]\n")
        self._stream.flush()


class _FlatRecordEncoder:
    """``json.dumps(record, ensure_ascii=False)`` of one record, without indent, in less time.

    The stdlib encoder walks every record through generic code (13 microseconds a record, most
    of a dump); records are flat (``table``, ``pk``, ``fields`` of scalar values), so scalars
    are written here with the functions the stdlib encoder itself uses (``encode_basestring``,
    ``int.__repr__``, ``float.__repr__``) and anything else goes to ``fallback``: the same bytes.
    orjson was measured and rejected: no ``", "``/``": "`` separators, ``1e-7`` for Python's
    ``1e-07``, and no integers beyond 64 bits, so its output would change every fixture.
    """

    def __init__(self, fallback: Callable[[Any], str]) -> None:
        self._fallback = fallback
        self._keys: dict[str, str] = {}

    def encode(self, record: dict[str, Any]) -> str:
        if type(record) is not dict:
            return self._fallback(record)
        shape = list(record)
        if shape == ["table", "pk", "fields"]:
            pk = f', "pk": {self._value(record["pk"])}'
        elif shape == ["table", "fields"]:  # natural_primary leaves the surrogate key out
            pk = ""
        else:
            return self._fallback(record)
        fields = record["fields"]
        if type(fields) is not dict:
            return self._fallback(record)
        value = self._value
        keys = self._keys
        parts: list[str] = []
        for key, item in fields.items():
            encoded = keys.get(key)
            if encoded is None:
                if type(key) is not str:
                    return self._fallback(record)
                encoded = keys[key] = _encode_string(key) + ": "
            parts.append(encoded + value(item))
        table = record["table"]
        head = _encode_string(table) if type(table) is str else self._fallback(table)
        return f'{{"table": {head}{pk}, "fields": {{{", ".join(parts)}}}}}'

    def _value(self, item: Any) -> str:
        kind = type(item)
        if kind is str:
            return _encode_string(item)
        if item is None:
            return "null"
        if kind is int:
            return int.__repr__(item)
        if kind is bool:
            return "true" if item else "false"
        if kind is float and item == item and item not in _INFINITIES:
            return float.__repr__(item)
        return self._fallback(item)


_encode_string: Callable[[str], str] = json.encoder.encode_basestring
_INFINITIES = (float("inf"), float("-inf"))


@dataclass(frozen=True)
class RawRecord:
    """One record as read from a file, checked for shape but not against the schema.

    Attributes:
        path: The file it came from (``"-"`` for stdin).
        index: Its 0-based position in that file.
        line: The 1-based line where it starts.
        table: The ``table`` key.
        pk: The ``pk`` key, or ``MISSING``.
        fields: The ``fields`` object (empty when absent).
    """

    path: str
    index: int
    line: int
    table: str
    pk: Any
    fields: dict[str, Any]


MISSING: Any = object()


def read_records(stream: IO[bytes], path: str) -> Iterator[RawRecord]:
    """Parse records from a binary stream incrementally: JSON list or JSONL, sniffed.

    UTF-8 with or without a BOM is read; UTF-16 is refused with a clear message.

    Raises:
        FixtureFileError: The file is not UTF-8.
        FixtureFormatError: The file is empty, invalid, truncated, or a record is malformed.
    """
    reader = _TextReader(stream, path)
    first = reader.first_significant()
    if first is None:
        msg = f"{path}: the file is empty; expected a JSON list of records or JSONL records"
        raise FixtureFormatError(msg, path=path)
    if first == "[":
        yield from _read_json_list(reader, path)
    else:
        yield from _read_jsonl(reader, path)


class _TextReader:
    """UTF-8 text from a binary stream, chunk by chunk, with positions for messages."""

    def __init__(self, stream: IO[bytes], path: str) -> None:
        self._stream = stream
        self._path = path
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self._bytes_read = 0
        self.buffer = ""
        self.eof = False
        self._first = True
        # Lines and columns of the text already dropped from the buffer.
        self._lines_before = 0
        self._column_before = 0
        # Newlines counted so far in the buffer, up to _cursor: positions cost O(distance).
        self._cursor = 0
        self._cursor_lines = 0
        self._last_newline = -1

    def more(self) -> bool:
        """Append the next chunk to the buffer; False at end of file."""
        if self.eof:
            return False
        try:
            data = self._stream.read(_CHUNK)
        except FixtureError:  # a decompressor's own message already names the file
            raise
        except (OSError, ValueError) as exc:  # ValueError: the stream was closed
            msg = f"{self._path}: cannot read the fixture: {exc}"
            raise FixtureFileError(msg, path=self._path) from exc
        if self._first:
            self._first = False
            self._check_encoding(data)
        final = not data
        try:
            text = self._decoder.decode(data, final=final)
        except UnicodeDecodeError as exc:
            offset = self._bytes_read + exc.start
            msg = f"{self._path}: not valid UTF-8 at byte {offset}; save the fixture as UTF-8"
            raise FixtureFileError(msg, path=self._path) from exc
        self._bytes_read += len(data)
        if self._bytes_read == len(data) and text.startswith("\ufeff"):
            text = text[1:]
        self.buffer += text
        if final:
            self.eof = True
        return bool(text) or not final

    def _check_encoding(self, head: bytes) -> None:
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in head[:4]:
            msg = (
                f"{self._path}: the file is UTF-16 encoded (PowerShell's default); "
                "save it as UTF-8, e.g. Out-File -Encoding utf8"
            )
            raise FixtureFileError(msg, path=self._path)

    def first_significant(self) -> str | None:
        while True:
            stripped = self.buffer.lstrip()
            if stripped:
                return stripped[0]
            if not self.more():
                return None

    def position(self, index: int) -> tuple[int, int]:
        """The 1-based line and column of ``index`` in the buffer."""
        if index < self._cursor:
            self._cursor, self._cursor_lines, self._last_newline = 0, 0, -1
        newlines = self.buffer.count("\n", self._cursor, index)
        if newlines:
            self._cursor_lines += newlines
            self._last_newline = self.buffer.rfind("\n", self._cursor, index)
        self._cursor = index
        line = self._lines_before + self._cursor_lines + 1
        if self._last_newline >= 0:
            return line, index - self._last_newline
        return line, self._column_before + index + 1

    def drop(self, index: int) -> None:
        """Forget the buffer before ``index``."""
        line, column = self.position(index)
        self._lines_before = line - 1
        self._column_before = column - 1
        self.buffer = self.buffer[index:]
        self._cursor, self._cursor_lines, self._last_newline = 0, 0, -1


_WHITESPACE = " \t\n\r"


def _read_json_list(reader: _TextReader, path: str) -> Iterator[RawRecord]:
    index = 0
    pos = _skip(reader, 0)
    pos += 1  # the opening bracket, checked by the caller
    expect_value = True
    first = True
    while True:
        pos = _skip(reader, pos)
        if pos >= len(reader.buffer):
            line, column = reader.position(pos)
            msg = (
                f"{path}: the file ends after record {index - 1} without the closing ']' "
                f"(line {line}); it looks truncated"
            )
            raise FixtureFormatError(msg, path=path, record=index, line=line, column=column)
        char = reader.buffer[pos]
        if char == "]" and (first or not expect_value):
            end = _skip(reader, pos + 1)
            if end < len(reader.buffer):
                line, column = reader.position(end)
                msg = (
                    f"{path}: unexpected text after the closing ']' at line {line} column {column}"
                )
                raise FixtureFormatError(msg, path=path, line=line, column=column)
            return
        if not expect_value:
            if char != ",":
                line, column = reader.position(pos)
                msg = (
                    f"{path}: invalid JSON at line {line} column {column}: expected ',' or ']' "
                    f"after record {index - 1}"
                )
                raise FixtureFormatError(msg, path=path, record=index, line=line, column=column)
            pos += 1
            expect_value = True
            continue
        line, column = reader.position(pos)
        if char != "{":
            msg = f"{path}: record {index} at line {line} column {column} is not a JSON object"
            raise FixtureFormatError(msg, path=path, record=index, line=line, column=column)
        while True:
            try:
                value, end = _DECODER.raw_decode(reader.buffer, pos)
                break
            except json.JSONDecodeError as exc:
                if reader.more():
                    continue
                bad_line, bad_column = reader.position(exc.pos)
                if exc.pos >= len(reader.buffer.rstrip()) or exc.msg.startswith("Unterminated"):
                    msg = (
                        f"{path}: the file ends inside record {index} (started at line {line}); "
                        "it looks truncated"
                    )
                else:
                    msg = (
                        f"{path}: invalid JSON at line {bad_line} column {bad_column}: "
                        f"{exc.msg} (in record {index})"
                    )
                raise FixtureFormatError(
                    msg, path=path, record=index, line=bad_line, column=bad_column
                ) from exc
            except (ValueError, RecursionError) as exc:
                if reader.more():  # a number cut at the end of the buffer: read on
                    continue
                raise _unreadable(exc, path, index, line) from exc
        if reader.buffer.count("[", pos, end) + reader.buffer.count("{", pos, end) > MAX_DEPTH:
            _check_depth(value, path, index, line)
        if _SURROGATE_ESCAPE.search(reader.buffer, pos, end):
            _check_text(value, path, index, line)
        yield _check_record(value, path, index, line)
        index += 1
        first = False
        expect_value = False
        pos = end
        if pos > _TRIM_AT:
            reader.drop(pos)
            pos = 0


def _skip(reader: _TextReader, pos: int) -> int:
    while True:
        buffer = reader.buffer
        while pos < len(buffer) and buffer[pos] in _WHITESPACE:
            pos += 1
        if pos < len(buffer) or not reader.more():
            return pos


def _read_jsonl(reader: _TextReader, path: str) -> Iterator[RawRecord]:
    line_number = 0
    index = 0
    start = 0
    while True:
        newline = reader.buffer.find("\n", start)
        if newline < 0:
            if start > _TRIM_AT or start == len(reader.buffer):
                reader.buffer = reader.buffer[start:]
                start = 0
            if reader.more():
                continue
            if start >= len(reader.buffer):
                return
            newline = len(reader.buffer)
        text = reader.buffer[start:newline]
        start = newline + 1
        line_number += 1
        if not text.strip():
            continue
        try:
            value = _DECODER.decode(text)
        except json.JSONDecodeError as exc:
            msg = (
                f"{path}: invalid JSON at line {line_number} column {exc.colno}: {exc.msg} "
                f"(record {index}; JSONL needs one complete record per line)"
            )
            raise FixtureFormatError(
                msg, path=path, record=index, line=line_number, column=exc.colno
            ) from exc
        except (ValueError, RecursionError) as exc:
            raise _unreadable(exc, path, index, line_number) from exc
        if text.count("[") + text.count("{") > MAX_DEPTH:
            _check_depth(value, path, index, line_number)
        if _SURROGATE_ESCAPE.search(text):
            _check_text(value, path, index, line_number)
        if not isinstance(value, dict):
            msg = f"{path}: line {line_number} (record {index}) is not a JSON object"
            raise FixtureFormatError(msg, path=path, record=index, line=line_number, column=1)
        yield _check_record(value, path, index, line_number)
        index += 1


def _unreadable(
    exc: ValueError | RecursionError, path: str, index: int, line: int
) -> FixtureFormatError:
    """A record Python's json refused past its syntax: huge integers, deep nesting, NaN..."""
    if isinstance(exc, RecursionError):
        reason = f"it is nested more than {MAX_DEPTH} levels deep"
    elif isinstance(exc, _NotStorable):
        reason = str(exc)
    else:  # the int-str conversion limit (CVE-2020-10735), the only other ValueError
        reason = "an integer has more digits than Python converts (4300); write it as a string"
    msg = f"{path}: record {index} (line {line}) cannot be read: {reason}"
    return FixtureFormatError(msg, path=path, record=index, line=line)


def _check_depth(value: Any, path: str, index: int, line: int) -> None:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise _unreadable(RecursionError(), path, index, line)
        if isinstance(item, dict):
            stack.extend((inner, depth + 1) for inner in item.values())
        elif isinstance(item, list):
            stack.extend((inner, depth + 1) for inner in item)


def _check_text(value: Any, path: str, index: int, line: int) -> None:
    r"""Refuse lone surrogates (``"\ud800"``): valid JSON, but text no database stores."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, dict):
            for key, inner in item.items():
                if _SURROGATE.search(key):
                    stack.append((where, key))
                label = f"field {key!r}" if where == "fields" else where or key
                stack.append((label, inner))
        elif isinstance(item, list):
            stack.extend((where, inner) for inner in item)
        elif isinstance(item, str) and _SURROGATE.search(item):
            found = _SURROGATE.search(item)
            assert found is not None
            code = f"\\u{ord(found.group()):04x}"
            table = value.get("table") if isinstance(value, dict) else None
            place = f" table {table!r}" if isinstance(table, str) else ""
            msg = (
                f"{path}: record {index} (line {line}){place} {where or 'value'}: the text holds "
                f"a lone surrogate {code}, which is not valid Unicode; fix the escape"
            )
            raise FixtureFormatError(msg, path=path, record=index, line=line)


def _check_record(value: Any, path: str, index: int, line: int) -> RawRecord:
    where = f"{path}: record {index} (line {line})"
    if not isinstance(value, dict):
        msg = f"{where} is not a JSON object"
        raise FixtureFormatError(msg, path=path, record=index, line=line)
    unknown = sorted(set(value) - _RECORD_KEYS)
    if unknown:
        msg = f"{where} has unknown key {unknown[0]!r}; a record has 'table', 'pk' and 'fields'"
        raise FixtureFormatError(msg, path=path, record=index, line=line)
    table = value.get("table")
    if not isinstance(table, str) or not table:
        msg = f"{where} has no 'table' string"
        raise FixtureFormatError(msg, path=path, record=index, line=line)
    fields = value.get("fields", {})
    if not isinstance(fields, dict):
        msg = f"{where}: 'fields' of table {table!r} must be an object"
        raise FixtureFormatError(msg, path=path, record=index, line=line, table=table)
    return RawRecord(path, index, line, table, value.get("pk", MISSING), fields)
