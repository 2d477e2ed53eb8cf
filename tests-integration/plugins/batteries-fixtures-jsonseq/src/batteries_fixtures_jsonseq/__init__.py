"""A fixture format from outside batteries-fixtures: JSON text sequences (RFC 7464).

Each record is an ASCII record separator (``\\x1e``), the record's JSON text, and a line feed.
The package registers it under the ``batteries_fixtures.formats`` entry point ``jsonseq``
(its pyproject.toml), which is all a third-party format needs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any

from batteries_fixtures import FixtureFormatError
from batteries_fixtures.formats import MISSING, FixtureFormat, FormatContext, Record

__all__ = ["JsonSeqFormat"]

SEPARATOR = "\x1e"


class JsonSeqFormat(FixtureFormat):
    """RFC 7464 JSON text sequences: ``\\x1e{"table": ...}\\n`` per record."""

    name = "jsonseq"
    suffixes = (".json-seq",)
    description = "RFC 7464 JSON text sequences (a plugin)"

    def read(self, stream: IO[bytes], path: str, context: FormatContext) -> Iterator[Record]:
        """One record per line, as the writer writes them, streamed."""
        index = 0
        for line, raw in enumerate(stream, start=1):
            text = raw.decode("utf-8")
            if not text.strip():
                continue
            try:
                if not text.startswith(SEPARATOR):
                    raise ValueError("no record separator (\\x1e) at the start of the line")
                value = json.loads(text[1:])
            except ValueError as exc:
                msg = f"{path}: line {line} (record {index}) is not a JSON text sequence: {exc}"
                raise FixtureFormatError(msg, path=path, record=index, line=line) from exc
            yield Record(
                path, index, line, value["table"], value.get("pk", MISSING), value["fields"]
            )
            index += 1

    def writer(self, stream: IO[str], context: FormatContext) -> _Writer:
        return _Writer(stream)


class _Writer:
    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def write(self, record: dict[str, Any]) -> None:
        self._stream.write(SEPARATOR + json.dumps(record, ensure_ascii=False) + "\n")

    def close(self) -> None:
        self._stream.flush()
