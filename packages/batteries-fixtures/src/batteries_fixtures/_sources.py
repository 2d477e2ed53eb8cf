"""Open what a load reads from: a path (maybe compressed, maybe a folder), stdin, or a stream."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from batteries_fixtures._compression import codec_for, decompressed_reader, strip_codec
from batteries_fixtures.exceptions import FixtureFileError

__all__ = ["Source", "expand_sources", "open_source"]

Source = str | os.PathLike[str] | IO[bytes]
"""A fixture to load: a path, ``"-"`` for stdin, or a binary stream."""


@contextmanager
def open_source(source: Source) -> Iterator[tuple[IO[bytes], str]]:
    """Yield ``source`` as a binary stream and the name errors show; a file is closed after.

    A path ending in ``.gz``, ``.bz2``, ``.xz`` or ``.zst`` is decompressed as it is read.
    """
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
            codec = codec_for(name)
            yield (handle if codec is None else decompressed_reader(handle, codec, name)), name
        return
    yield source, str(getattr(source, "name", "<stream>"))


def _stdin() -> IO[bytes]:
    """Standard input as bytes; a closed one (``<&-``) is an error, not an AttributeError."""
    stream = sys.stdin
    if stream is None or stream.closed:
        msg = "Cannot read the fixture from stdin (-): stdin is closed; pipe a fixture into it"
        raise FixtureFileError(msg, path="-")
    return stream.buffer


def expand_sources(
    sources: list[Source], suffixes_of: Callable[[], tuple[str, ...]]
) -> list[Source]:
    """``sources`` with each folder replaced by its fixture files, sorted by name.

    A folder (e.g. one written by ``dump --split``) contributes every file whose name ends in
    one of the fixture formats' suffixes, compressed or not; hidden files are left out.
    ``suffixes_of`` gives them, called only for a folder (it may import plugins).

    Raises:
        FixtureFileError: A folder holds no fixture file.
    """
    expanded: list[Source] = []
    for source in sources:
        if not isinstance(source, str | os.PathLike) or not Path(source).is_dir():
            expanded.append(source)
            continue
        folder = Path(source)
        suffixes = suffixes_of()
        files = sorted(
            (
                path
                for path in folder.iterdir()
                if path.is_file()
                and not path.name.startswith(".")
                and strip_codec(path.name).lower().endswith(suffixes)
            ),
            key=lambda path: path.name,
        )
        if not files:
            names = ", ".join(suffixes[:-1]) + (" or " if len(suffixes) > 1 else "") + suffixes[-1]
            msg = (
                f"Fixture folder {os.fspath(source)} holds no {names} file "
                "(compressed or not): check the path"
            )
            raise FixtureFileError(msg, path=os.fspath(source))
        expanded.extend(os.fspath(path) for path in files)
    return expanded
