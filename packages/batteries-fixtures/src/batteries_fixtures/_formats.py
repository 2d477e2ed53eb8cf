"""Fixture files: their formats and the streaming writer (the reader is ``_readers``)."""

from __future__ import annotations

import json
from typing import IO, Any, Literal

# The reader lives in its own module; its names stay importable from here.
from batteries_fixtures._readers import MISSING, RawRecord, read_records

__all__ = ["MISSING", "Format", "RawRecord", "RecordWriter", "format_from_name", "read_records"]

Format = Literal["json", "jsonl"]

_JSONL_SUFFIXES = (".jsonl", ".ndjson")


def format_from_name(name: str | None) -> Format:
    """``jsonl`` for ``.jsonl``/``.ndjson`` names, ``json`` for everything else (and stdout)."""
    if name and name.lower().endswith(_JSONL_SUFFIXES):
        return "jsonl"
    return "json"


class RecordWriter:
    """Write records one at a time, so a dump never holds a table in memory.

    JSON output is a list with one record per line (or one indented record per block);
    JSONL output is one record per line.
    """

    def __init__(self, stream: IO[str], fmt: Format, indent: int | None = None) -> None:
        self._stream = stream
        self._format = fmt
        self._indent = indent
        self._count = 0

    def write(self, record: dict[str, Any]) -> None:
        """Write one record."""
        if self._format == "jsonl":
            self._stream.write(json.dumps(record, ensure_ascii=False) + "\n")
        else:
            text = json.dumps(record, ensure_ascii=False, indent=self._indent)
            self._stream.write(("[\n" if self._count == 0 else ",\n") + text)
        self._count += 1

    def close(self) -> None:
        """Finish the document (the closing bracket of a JSON list)."""
        if self._format == "json":
            self._stream.write("[]\n" if self._count == 0 else "\n]\n")
        self._stream.flush()
