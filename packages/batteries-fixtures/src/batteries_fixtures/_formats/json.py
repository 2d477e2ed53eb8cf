"""JSON and JSONL fixtures: the formats, and their streaming writer (the reader is ``_readers``).

Either format's reader reads both: a file starting with ``[`` is a JSON list, any other JSONL.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import IO, Any, ClassVar, Literal

from batteries_fixtures._readers import RawRecord, read_records
from batteries_fixtures.formats import FixtureFormat, FormatContext

__all__ = ["Format", "JsonFormat", "JsonlFormat", "RecordWriter"]

Format = Literal["json", "jsonl"]


class JsonFormat(FixtureFormat):
    """A JSON list of records, one record per line (or one indented record per block)."""

    name = "json"
    suffixes: ClassVar[tuple[str, ...]] = (".json",)
    description = "a JSON list of records, one per line (JSONL is read too)"
    _layout: Format = "json"

    def read(self, stream: IO[bytes], path: str, context: FormatContext) -> Iterator[RawRecord]:
        """The records of a JSON list or of JSONL (sniffed), streamed."""
        return read_records(stream, path)

    def writer(self, stream: IO[str], context: FormatContext) -> RecordWriter:
        """A writer of the whole file."""
        return RecordWriter(stream, self._layout, context.indent)

    def fragment_writer(self, stream: IO[str], context: FormatContext) -> RecordWriter:
        """A writer of some of the file's records, joined later (``RecordWriter.append``)."""
        return RecordWriter(stream, self._layout, context.indent, fragment=True)


class JsonlFormat(JsonFormat):
    """One JSON record per line (JSON Lines, newline-delimited JSON)."""

    name = "jsonl"
    suffixes = (".jsonl", ".ndjson")
    description = "one JSON record per line"
    _layout: Format = "jsonl"


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

    @property
    def flat(self) -> bool:
        """Whether each record is written on one line (so :meth:`write_lines` can be used)."""
        return self._format == "jsonl" or self._indent is None

    def write_lines(self, text: str, count: int) -> None:
        """Write ``count`` records already encoded, one per line, each ending with a newline.

        The output is the same as :meth:`write` of each record (for a :attr:`flat` writer).
        """
        if count == 0:
            return
        if self._format == "jsonl":
            self._stream.write(text)
        else:
            self._stream.write("[\n" if self._count == 0 else ",\n")
            self._stream.write(text[:-1].replace("\n", ",\n"))
        self._count += count

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
