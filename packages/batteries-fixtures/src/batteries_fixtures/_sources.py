"""Open what a load reads from: a path, ``"-"`` for stdin, or a binary stream."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from batteries_fixtures.exceptions import FixtureFileError

__all__ = ["Source", "open_source"]

Source = str | os.PathLike[str] | IO[bytes]
"""A fixture to load: a path, ``"-"`` for stdin, or a binary stream."""


@contextmanager
def open_source(source: Source) -> Iterator[tuple[IO[bytes], str]]:
    """Yield ``source`` as a binary stream and the name errors show; a file is closed after."""
    if isinstance(source, str | os.PathLike):
        name = os.fspath(source)
        if name == "-":
            yield _stdin(), "-"
            return
        path = Path(name)
        try:
            handle = path.open("rb")
        except FileNotFoundError as exc:
            msg = f"Fixture file {name} does not exist: check the path"
            raise FixtureFileError(msg, path=name) from exc
        except OSError as exc:
            msg = f"Cannot read fixture file {name}: {exc.strerror}"
            raise FixtureFileError(msg, path=name) from exc
        with handle:
            yield handle, name
        return
    yield source, str(getattr(source, "name", "<stream>"))


def _stdin() -> IO[bytes]:
    """Standard input as bytes; a closed one (``<&-``) is an error, not an AttributeError."""
    stream = sys.stdin
    if stream is None or stream.closed:
        msg = "Cannot read the fixture from stdin (-): stdin is closed; pipe a fixture into it"
        raise FixtureFileError(msg, path="-")
    return stream.buffer
