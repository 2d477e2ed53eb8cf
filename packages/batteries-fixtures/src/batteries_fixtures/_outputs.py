"""Where a dump writes: stdout, a stream, a file (maybe compressed), or one file per table.

Files are written under a temporary name and renamed only when the whole dump succeeded, so a
failed dump leaves no partial file (and, for a folder, no mix of old and new files). A new file
gets the mode the umask gives (``0644`` under ``022``), as any program's output does; a file
replaced keeps its mode, and a symbolic link stays a link (the file it points at is replaced).
A target that exists and is not a regular file (``/dev/null``, a FIFO, a terminal) is written
directly: renaming over it would replace the device with a file.
"""

from __future__ import annotations

import io
import os
import secrets
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO
from urllib.parse import quote

from batteries_fixtures._compression import codec_for, compressed_writer
from batteries_fixtures.exceptions import FixtureFileError

__all__ = ["Output", "Parts", "SplitOutput", "open_output", "output_name", "table_file_name"]

Output = str | os.PathLike[str] | IO[str] | None
"""Where a dump goes: a path, ``"-"`` or ``None`` for stdout, or a text stream."""


def output_name(output: Output) -> str:
    """The name of ``output`` as reports and errors show it (``"-"`` for stdout)."""
    if output is None or output == "-":
        return "-"
    if isinstance(output, str | os.PathLike):
        return os.fspath(output)
    return str(getattr(output, "name", "-"))


class _AtomicFile:
    """A text stream into a temporary file next to ``target``, compressed by its extension.

    ``target`` when it is not a regular file: it is written directly (see the module).
    """

    def __init__(self, target: Path) -> None:
        self.target = target
        try:
            mode = os.stat(target).st_mode
        except FileNotFoundError:
            mode = None
        except OSError as exc:
            msg = f"Cannot write {target}: {exc.strerror}"
            raise FixtureFileError(msg, path=str(target)) from exc
        self.direct = mode is not None and not stat.S_ISREG(mode)
        if target.is_symlink() and not self.direct:
            target = Path(os.path.realpath(target))  # replace the file, keep the link
        self._final = target
        try:
            if self.direct:
                handle = os.open(target, os.O_WRONLY | os.O_TRUNC)
                temp = str(target)
            else:
                handle, temp = _create_temp(target)
                if mode is not None:
                    os.chmod(temp, stat.S_IMODE(mode))
        except OSError as exc:
            msg = f"Cannot write {target}: {exc.strerror}; check that the folder is writable"
            raise FixtureFileError(msg, path=str(target)) from exc
        self.temp = Path(temp)
        raw: IO[bytes] = os.fdopen(handle, "wb")
        self._raw = raw
        codec = codec_for(target.name)
        try:
            binary = raw if codec is None else compressed_writer(raw, codec, str(target))
        except BaseException:
            raw.close()
            if not self.direct:
                self.temp.unlink(missing_ok=True)
            raise
        self._binary = binary
        self.stream: IO[str] = io.TextIOWrapper(binary, encoding="utf-8", newline="\n")

    def close(self) -> None:
        """Flush and close the stream (ending the compressed stream), keeping the temp file."""
        if not self.stream.closed:
            self.stream.flush()
            self.stream.close()  # closes the compressor, which ends its stream
        if not self._raw.closed:
            self._raw.close()

    def commit(self) -> None:
        """Put the finished file in place."""
        self.close()
        if not self.direct:
            self.temp.replace(self._final)

    def discard(self) -> None:
        """Remove the temporary file; the target is left as it was (unless written directly)."""
        try:
            self.close()
        finally:
            if not self.direct:
                self.temp.unlink(missing_ok=True)


def _create_temp(target: Path) -> tuple[int, str]:
    """Create a new file next to ``target``, with the mode the umask gives.

    ``tempfile.mkstemp`` creates files ``0600``, which a rename would hand on to the dump.
    """
    for _ in range(100):
        temp = target.parent / f".{target.name}.{secrets.token_hex(6)}.tmp"
        try:
            return os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), str(temp)
        except FileExistsError:
            continue
    msg = f"Cannot create a temporary file next to {target}"
    raise FileExistsError(msg)


@contextmanager
def open_output(output: Output) -> Iterator[IO[str]]:
    """A text stream for ``output``: stdout, the caller's stream, or an atomically renamed file.

    A file name ending in ``.gz``, ``.bz2``, ``.xz`` or ``.zst`` is compressed while written.
    """
    if output is None or output == "-":
        yield sys.stdout
        return
    if not isinstance(output, str | os.PathLike):
        yield output
        return
    file = _AtomicFile(Path(output))
    try:
        yield file.stream
    except BaseException:
        file.discard()
        raise
    file.commit()


def table_file_name(table: str, suffix: str) -> str:
    """The file of ``table`` in a split dump: safe on every file system, the same every time.

    Letters, digits, ``_``, ``-`` and ``.`` stay (``audit.events`` -> ``audit.events.json``);
    anything else is %-escaped, so two tables never share a file and the name reads back.
    ``suffix`` is the format's (``.json``).
    """
    return f"{quote(table, safe='')}{suffix}"


class SplitOutput:
    """One file per table in ``folder``, all put in place together when the dump succeeded."""

    def __init__(self, folder: Path, suffix: str) -> None:
        self._folder = folder
        self._suffix = suffix
        self._files: list[_AtomicFile] = []

    def __enter__(self) -> SplitOutput:
        if self._folder.exists() and not self._folder.is_dir():
            msg = f"--split writes one file per table: {self._folder} is a file, not a folder"
            raise FixtureFileError(msg, path=str(self._folder))
        try:
            self._folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            msg = f"Cannot create the folder {self._folder}: {exc.strerror}"
            raise FixtureFileError(msg, path=str(self._folder)) from exc
        return self

    def open(self, table: str) -> IO[str]:
        """A text stream for ``table``'s file."""
        file = _AtomicFile(self._folder / table_file_name(table, self._suffix))
        self._files.append(file)
        return file.stream

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            with ExitStack() as stack:
                for file in self._files:
                    stack.callback(file.discard)
            return
        for file in self._files:
            file.close()
        for file in self._files:
            file.commit()


class Parts:
    """Temporary files holding tables dumped in parallel, joined in table order afterwards."""

    def __init__(self) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="batteries-dump-")
        self._paths: dict[str, Path] = {}

    def open(self, table: str) -> IO[str]:
        """A text stream for ``table``'s part (the caller closes it)."""
        path = Path(self._folder.name) / f"{len(self._paths)}.part"
        self._paths[table] = path
        return path.open("w", encoding="utf-8", newline="\n")

    def copy(self, table: str, stream: IO[str], skip: int = 0) -> None:
        """Append ``table``'s part to ``stream``, leaving out its first ``skip`` characters."""
        with self._paths[table].open(encoding="utf-8", newline="") as part:
            if skip:
                part.read(skip)
            shutil.copyfileobj(part, stream, 1 << 20)

    def close(self) -> None:
        """Remove every part."""
        self._folder.cleanup()
