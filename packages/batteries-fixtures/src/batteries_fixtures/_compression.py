"""Compressed fixtures, chosen by extension: ``.gz``, ``.bz2``, ``.xz`` and ``.zst``, streaming.

Reading goes through one decompressor loop for every codec, so each one reports a truncated
file the same way (the stdlib ``gzip`` raises ``EOFError``, ``zstandard``'s reader says nothing
at all): a file whose last stream has no end marker is a :class:`FixtureFormatError`.
Writing is deterministic (gzip without a name or time stamp), so the same data always gives the
same compressed bytes.
"""

from __future__ import annotations

import bz2
import io
import lzma
import zlib
from dataclasses import dataclass
from typing import IO, Any, Protocol, cast

from batteries_fixtures._extras import import_extra
from batteries_fixtures.exceptions import FixtureFormatError

__all__ = ["Codec", "codec_for", "compressed_writer", "decompressed_reader", "strip_codec"]

_READ = 1 << 16
"""Compressed bytes fed to the decompressor at a time."""


class _Decompressor(Protocol):
    eof: bool
    unused_data: bytes

    def decompress(self, data: bytes) -> bytes: ...


@dataclass(frozen=True)
class Codec:
    """A compression format: its name, file suffix and the extra that provides it, if any."""

    name: str
    suffix: str
    extra: str | None = None

    def decompressor(self, path: str) -> _Decompressor:
        """A fresh decompressor for one stream (a file may hold several, e.g. ``cat a.gz b.gz``)."""
        if self.name == "gzip":
            return cast(_Decompressor, zlib.decompressobj(wbits=31))
        if self.name == "bzip2":
            return cast(_Decompressor, bz2.BZ2Decompressor())
        if self.name == "xz":
            return cast(_Decompressor, lzma.LZMADecompressor())
        return cast(_Decompressor, _zstandard(path).ZstdDecompressor().decompressobj())

    def writer(self, raw: IO[bytes], path: str) -> IO[bytes]:
        """A binary stream compressing into ``raw``; closing it ends the stream, not ``raw``."""
        if self.name == "gzip":
            import gzip

            # No file name and mtime 0: the same rows give the same bytes, as without compression.
            return cast(IO[bytes], gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0))
        if self.name == "bzip2":
            return cast(IO[bytes], bz2.BZ2File(raw, "wb"))
        if self.name == "xz":
            return cast(IO[bytes], lzma.LZMAFile(raw, "wb"))
        compressor = _zstandard(path).ZstdCompressor()
        return cast(IO[bytes], compressor.stream_writer(raw, closefd=False))


_CODECS = (
    Codec("gzip", ".gz"),
    Codec("bzip2", ".bz2"),
    Codec("xz", ".xz"),
    Codec("zstd", ".zst", extra="zstd"),
)


def codec_for(name: str | None) -> Codec | None:
    """The codec of a file name's last suffix, or ``None`` for an uncompressed name."""
    if not name:
        return None
    lowered = name.lower()
    for codec in _CODECS:
        if lowered.endswith(codec.suffix):
            return codec
    return None


def strip_codec(name: str) -> str:
    """``name`` without its compression suffix: ``rows.jsonl.gz`` -> ``rows.jsonl``."""
    codec = codec_for(name)
    return name[: -len(codec.suffix)] if codec is not None else name


def _zstandard(path: str) -> Any:
    return import_extra("zstandard", "zstd", path, ".zst fixtures need the zstandard package")


class _DecompressingReader(io.RawIOBase):
    """Decompressed bytes of ``raw``; a missing end of stream or corrupt data is a format error."""

    def __init__(self, raw: IO[bytes], codec: Codec, path: str) -> None:
        self._raw = raw
        self._codec = codec
        self._path = path
        self._decompressor = codec.decompressor(path)
        self._pending = b""
        self._started = False  # bytes of the current stream were fed
        self._done = False
        self._errors: tuple[type[BaseException], ...] = (OSError, EOFError, ValueError, zlib.error)
        if codec.extra is not None:
            self._errors += (_zstandard(path).ZstdError,)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while not self._pending and not self._done:
            self._pending = self._next()
        size = min(len(view), len(self._pending))
        view[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

    def _next(self) -> bytes:
        data = self._raw.read(_READ)
        if not data:
            self._done = True
            if self._started and not self._decompressor.eof:
                msg = (
                    f"{self._path}: the {self._codec.name} data ends before its end marker; "
                    "the file looks truncated"
                )
                raise FixtureFormatError(msg, path=self._path)
            return b""
        out = b""
        try:
            while data:
                if self._decompressor.eof:
                    # Another stream follows (concatenated files): start it afresh.
                    self._decompressor = self._codec.decompressor(self._path)
                self._started = True
                out += self._decompressor.decompress(data)
                data = self._decompressor.unused_data if self._decompressor.eof else b""
        except self._errors as exc:
            detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            msg = f"{self._path}: not valid {self._codec.name} data ({detail}); the file is corrupt"
            raise FixtureFormatError(msg, path=self._path) from exc
        return out


def decompressed_reader(raw: IO[bytes], codec: Codec, path: str) -> IO[bytes]:
    """``raw`` decompressed as ``codec``, streamed chunk by chunk."""
    return cast(IO[bytes], io.BufferedReader(_DecompressingReader(raw, codec, path), _READ))


def compressed_writer(raw: IO[bytes], codec: Codec, path: str) -> IO[bytes]:
    """A binary stream that compresses into ``raw`` as ``codec``."""
    return codec.writer(raw, path)
