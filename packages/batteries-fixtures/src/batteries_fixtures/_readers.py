"""The streaming reader of fixture files: JSON lists and JSONL, each record parsed by orjson.

A record goes to orjson when its text is easy to delimit: a JSONL line, or a record of a JSON
list that ends its line or, indented, ends at a ``}`` in the first column (what dumps write).
Any other record, and every record orjson refuses or may have read differently (integers beyond
64 bits come back as floats, too-small numbers as 0.0, nesting deeper than our limit), goes to
the stdlib's decoder, so values, limits and error messages are the stdlib reader's.
"""

from __future__ import annotations

import codecs
import io
import json
import math
import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import IO, Any, Literal, NamedTuple

import orjson

from batteries_fixtures.exceptions import FixtureError, FixtureFileError, FixtureFormatError

__all__ = ["MAX_DEPTH", "MISSING", "RawRecord", "Utf8Chunks", "Utf8Text", "read_records"]

_CHUNK = 1 << 20
_TRIM_AT = 1 << 16
# How far a JSON list's record is searched for its end for orjson; longer records, and lists
# written on one line, go to the stdlib's incremental decoder.
_FAST_SPAN = 1 << 16
# orjson reads integers outside [-2**63, 2**64) as floats: a float this large may have been one.
_INT_EDGE = 2.0**63
# Values orjson reads as the stdlib does (MISSING: a record without "pk").
_SCALARS = frozenset({str, int, bool, type(None), object})
_RECORD_KEYS = frozenset({"table", "pk", "fields"})
# Django's records name their table "model" (``app.model``); the rest is the same shape.
_DJANGO_KEYS = frozenset({"model", "pk", "fields"})
_NO_FIELDS: dict[str, Any] = {}
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


class RawRecord(NamedTuple):
    """One record as read from a file, checked for shape but not against the schema.

    A named tuple rather than a frozen dataclass: one is made per record, and a tuple is made
    in a fraction of the time (``_record`` skips even the generated ``__new__``).

    Attributes:
        path: The file it came from (``"-"`` for stdin).
        index: Its 0-based position in that file.
        line: The 1-based line where it starts.
        table: The ``table`` key.
        pk: The ``pk`` key, or ``MISSING``.
        fields: The ``fields`` object (empty when absent).
    """

    path: str
    index: int  # type: ignore[assignment]  # hides tuple.index, which no caller wants
    line: int
    table: str
    pk: Any
    fields: dict[str, Any]


MISSING: Any = object()


def _record(path: str, index: int, line: int, table: str, pk: Any, fields: Any) -> RawRecord:
    """``RawRecord(...)`` without the Python-level ``__new__`` of named tuples (hot path)."""
    record: RawRecord = _new_tuple(RawRecord, (path, index, line, table, pk, fields))
    return record


_new_tuple: Any = tuple.__new__


def read_records(
    stream: IO[bytes], path: str, *, table_key: Literal["table", "model"] = "table"
) -> Iterator[RawRecord]:
    """Parse records from a binary stream incrementally: JSON list or JSONL, sniffed.

    UTF-8 with or without a BOM is read; UTF-16 is refused with a clear message. With
    ``table_key="model"``, records are Django's (``{"model": "app.model", ...}``): the model's
    label is then the record's ``table``.

    Raises:
        FixtureFileError: The file is not UTF-8.
        FixtureFormatError: The file is empty, invalid, truncated, or a record is malformed.
    """
    reader = _TextReader(stream, path)
    first = reader.first_significant()
    if first is None:
        msg = f"{path}: the file is empty; expected a JSON list of records or JSONL records"
        raise FixtureFormatError(msg, path=path)
    shape = _SHAPES[table_key]
    if first == "[":
        yield from _read_json_list(reader, path, shape)
    else:
        yield from _read_jsonl(reader, path, shape)


@dataclass(frozen=True)
class _Shape:
    """The keys of a record: ``table``, ``pk``, ``fields`` (or Django's ``model`` for ``table``)."""

    table: str
    keys: frozenset[str]


_SHAPES = {"table": _Shape("table", _RECORD_KEYS), "model": _Shape("model", _DJANGO_KEYS)}


class Utf8Chunks:
    r"""UTF-8 text of a binary stream, a chunk at a time; a BOM is dropped.

    UTF-16 (PowerShell's default), bytes that are not UTF-8 and a stream that cannot be read
    are :class:`FixtureFileError`\ s naming the file (and the byte offset).
    """

    def __init__(self, stream: IO[bytes], path: str, size: int | None = None) -> None:
        self._stream = stream
        self._path = path
        self._size = size or _CHUNK
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self._bytes_read = 0

    def next(self) -> tuple[str, bool]:
        """The next chunk's text (maybe empty), and whether the stream has ended."""
        try:
            data = self._stream.read(self._size)
        except FixtureError:  # a decompressor's own message already names the file
            raise
        except (OSError, ValueError) as exc:  # ValueError: the stream was closed
            msg = f"{self._path}: cannot read the fixture: {exc}"
            raise FixtureFileError(msg, path=self._path) from exc
        first = self._bytes_read == 0
        if first:
            self._check_encoding(data)
        final = not data
        try:
            text = self._decoder.decode(data, final=final)
        except UnicodeDecodeError as exc:
            offset = self._bytes_read + exc.start
            msg = f"{self._path}: not valid UTF-8 at byte {offset}; save the fixture as UTF-8"
            raise FixtureFileError(msg, path=self._path) from exc
        self._bytes_read += len(data)
        if first and text.startswith("\ufeff"):
            text = text[1:]
        return text, final

    def _check_encoding(self, head: bytes) -> None:
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in head[:4]:
            msg = (
                f"{self._path}: the file is UTF-16 encoded (PowerShell's default); "
                "save it as UTF-8, e.g. Out-File -Encoding utf8"
            )
            raise FixtureFileError(msg, path=self._path)


class Utf8Text(io.TextIOBase):
    """A binary stream as a readable UTF-8 text stream (for parsers that take one)."""

    def __init__(self, stream: IO[bytes], path: str) -> None:
        self._chunks = Utf8Chunks(stream, path, 1 << 16)
        self._pending = ""
        self._eof = False

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> str:
        whole = size is None or size < 0
        while not self._eof and (whole or len(self._pending) < size):  # type: ignore[operator]
            text, self._eof = self._chunks.next()
            self._pending += text
        if whole:
            text, self._pending = self._pending, ""
        else:
            text, self._pending = self._pending[:size], self._pending[size:]
        return text


class _TextReader:
    """UTF-8 text from a binary stream, chunk by chunk, with positions for messages."""

    def __init__(self, stream: IO[bytes], path: str) -> None:
        self._chunks = Utf8Chunks(stream, path)
        self.buffer = ""
        self.eof = False
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
        text, self.eof = self._chunks.next()
        self.buffer += text
        return bool(text) or not self.eof

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


def _read_json_list(reader: _TextReader, path: str, shape: _Shape) -> Iterator[RawRecord]:
    index = 0
    pos = _skip(reader, 0)
    pos += 1  # the opening bracket, checked by the caller
    expect_value = True
    first = True
    while True:
        gap = pos
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
        # orjson for records that start a line (what dumps write): their ends are easy to find.
        # Other records (indented, several on a line, cut by the end of the buffer, and those
        # orjson refuses) go through the stdlib's incremental decoder.
        newline = reader.buffer.rfind("\n", gap, pos)
        if newline >= 0:
            before = index
            after, index, expect_value = yield from _line_records(
                reader, path, newline + 1, index, line, shape
            )
            if index > before:
                pos, first = after, False
                continue
        value, end = _stdlib_record(reader, path, index, line, pos)
        yield _check_record(value, path, index, line, shape)
        index += 1
        first = False
        expect_value = False
        pos = end
        if pos > _TRIM_AT:
            reader.drop(pos)
            pos = 0


def _stdlib_record(
    reader: _TextReader, path: str, index: int, line: int, pos: int
) -> tuple[Any, int]:
    """The record at ``pos`` parsed by the stdlib, reading on until it is whole; and its end."""
    while True:
        try:
            value, end = _DECODER.raw_decode(reader.buffer, pos)
            break
        except json.JSONDecodeError as exc:
            if _read_on(reader, pos):
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
            if _read_on(reader, pos):  # a number cut at the end of the buffer: read on
                continue
            raise _unreadable(exc, path, index, line) from exc
    if reader.buffer.count("[", pos, end) + reader.buffer.count("{", pos, end) > MAX_DEPTH:
        _check_depth(value, path, index, line)
    if _SURROGATE_ESCAPE.search(reader.buffer, pos, end):
        _check_text(value, path, index, line)
    return value, end


def _read_on(reader: _TextReader, pos: int) -> bool:
    """Read as much again as the record from ``pos`` so far (a chunk at least); False at the end.

    Each attempt parses the record from its start: growing the text geometrically keeps a huge
    record's attempts linear in its size in all (a chunk per attempt made them quadratic).
    """
    want = len(reader.buffer) + max(len(reader.buffer) - pos, 1)
    read = False
    while len(reader.buffer) < want and reader.more():
        read = True
    return read


def _skip(reader: _TextReader, pos: int) -> int:
    while True:
        buffer = reader.buffer
        while pos < len(buffer) and buffer[pos] in _WHITESPACE:
            pos += 1
        if pos < len(buffer) or not reader.more():
            return pos


def _line_records(
    reader: _TextReader, path: str, pos: int, index: int, line: int, shape: _Shape
) -> Generator[RawRecord, None, tuple[int, int, bool]]:
    """Records of a JSON list one per line from ``pos``, a line start, while lines hold one.

    Returns where to go on, the next record's index, and whether a record is expected there
    (a line that is not one whole record with an optional comma is left to the caller).
    """
    first_end = reader.buffer.find("\n", pos, pos + _FAST_SPAN)
    if first_end >= 0 and not reader.buffer[pos:first_end].rstrip(_WHITESPACE).endswith(("}", ",")):
        return pos, index, True  # e.g. an indented record: not worth splitting lines
    window = 1 << 10  # lines are split a window at a time; it grows while they are records
    while True:
        buffer = reader.buffer
        last = buffer.rfind("\n", pos, pos + window)
        if last < 0:
            if len(buffer) - pos >= window or not reader.more():
                return pos, index, True
            continue
        for text in buffer[pos:last].split("\n"):
            body = text.strip(_WHITESPACE)
            follows = body.endswith(",")
            if follows:
                body = body[:-1].rstrip(_WHITESPACE)
            record = _fast_record(body, path, index, line, shape) if body.startswith("{") else None
            if record is None:
                return pos, index, True
            yield record
            index += 1
            line += 1
            if not follows:
                return pos + len(text), index, False
            pos += len(text) + 1
        window = min(window * 2, _FAST_SPAN)
        if pos > _TRIM_AT:
            reader.drop(pos)
            pos = 0


def _fast_record(text: str, path: str, index: int, line: int, shape: _Shape) -> RawRecord | None:
    """``text`` read by orjson when it is a record the stdlib reads the same, else None.

    None also for a malformed record: the stdlib path then says what is wrong with it.
    """
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    if type(value) is not dict or not value.keys() <= shape.keys:
        return None
    table = value.get(shape.table)
    fields = value.get("fields", _NO_FIELDS)
    pk = value.get("pk", MISSING)
    if type(table) is not str or not table or type(fields) is not dict:
        return None
    # More than MAX_DEPTH levels take twice as many brackets: short texts need no count.
    if len(text) > 2 * MAX_DEPTH and text.count("[") + text.count("{") > MAX_DEPTH:
        return None
    # Most records hold scalars only: one C-level pass over the fields then.
    scalars = type(pk) in _SCALARS and _SCALARS.issuperset(map(type, fields.values()))
    if not scalars and not _orjson_reads_as_stdlib([pk, fields]):
        return None
    return _record(path, index, line, table, pk, {} if fields is _NO_FIELDS else fields)


def _orjson_reads_as_stdlib(value: list[Any]) -> bool:
    """Whether orjson's numbers in ``value`` are surely those the stdlib reads."""
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        values = item.values() if type(item) is dict else item
        if _SCALARS.issuperset(map(type, values)):
            continue
        for inner in values:
            kind = type(inner)
            if kind is float:
                # 0.0 may be a number too small for a double (the stdlib path refuses it), and
                # a float this large may be an integer beyond orjson's 64 bits.
                if inner == 0.0 or not -_INT_EDGE < inner < _INT_EDGE:
                    return False
            elif kind is dict or kind is list:
                stack.append(inner)
    return True


def _read_jsonl(reader: _TextReader, path: str, shape: _Shape) -> Iterator[RawRecord]:
    line_number = 0
    index = 0
    pos = 0  # where the next line starts in the buffer
    scanned = 0  # the buffer from pos to here holds no newline
    while True:
        # The whole lines of a window of the buffer at a time: few lines are held at once.
        buffer = reader.buffer
        end = buffer.rfind("\n", scanned, pos + _FAST_SPAN)
        if end < 0 and len(buffer) > pos + _FAST_SPAN:  # a line longer than the window
            end = buffer.find("\n", max(scanned, pos + _FAST_SPAN))
        done = False
        if end >= 0:
            lines = buffer[pos:end].split("\n")
            pos = scanned = end + 1
        else:
            reader.buffer = buffer[pos:]
            pos, scanned = 0, len(reader.buffer)
            if reader.more():
                continue
            lines, reader.buffer, done = [reader.buffer], "", True  # the last, unterminated
        del buffer
        for text in lines:
            line_number += 1
            if not text.strip():
                continue
            record = _fast_record(text, path, index, line_number, shape)
            if record is None:
                value = _stdlib_line(text, path, index, line_number)
                record = _check_record(value, path, index, line_number, shape)
            yield record
            index += 1
        if done:
            return


def _stdlib_line(text: str, path: str, index: int, line_number: int) -> dict[str, Any]:
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
    return value


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


def _check_record(value: Any, path: str, index: int, line: int, shape: _Shape) -> RawRecord:
    # The common case first and without building messages: this runs once per record.
    if isinstance(value, dict) and value.keys() <= shape.keys:
        table = value.get(shape.table)
        fields = value.get("fields", _NO_FIELDS)
        if type(table) is str and table and type(fields) is dict:
            if fields is _NO_FIELDS:
                fields = {}
            return _record(path, index, line, table, value.get("pk", MISSING), fields)
    where = f"{path}: record {index} (line {line})"
    if not isinstance(value, dict):
        msg = f"{where} is not a JSON object"
        raise FixtureFormatError(msg, path=path, record=index, line=line)
    unknown = sorted(set(value) - shape.keys)
    if unknown:
        expected = ", ".join(f"'{key}'" for key in (shape.table, "pk", "fields"))
        msg = f"{where} has unknown key {unknown[0]!r}; a record has {expected}"
        if shape.table == "table" and "model" in value:
            msg += " (this looks like a Django fixture: load it with --format django)"
        raise FixtureFormatError(msg, path=path, record=index, line=line)
    table = value.get(shape.table)
    if not isinstance(table, str) or not table:
        what = (
            "'model' string (app_label.model_name)" if shape.table == "model" else "'table' string"
        )
        msg = f"{where} has no {what}"
        raise FixtureFormatError(msg, path=path, record=index, line=line)
    fields = value.get("fields", {})
    if not isinstance(fields, dict):
        msg = f"{where}: 'fields' of table {table!r} must be an object"
        raise FixtureFormatError(msg, path=path, record=index, line=line, table=table)
    return RawRecord(path, index, line, table, value.get("pk", MISSING), fields)
