"""The registry of fixture formats: the built-in ones, then those of entry points.

A format is chosen by name (``--format``) or by a file's suffix (after any compression suffix);
the stager and the dump only ever see a :class:`~batteries_fixtures.formats.FixtureFormat`.
Built-in names and suffixes win over a plugin's. Entry points are read once per process, and a
plugin's module is imported only when its format is asked for (or when a suffix no built-in
format has must be looked up).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping, Sequence
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING

from batteries_fixtures._formats.csv import CsvFormat
from batteries_fixtures._formats.django import DjangoFormat
from batteries_fixtures._formats.json import Format, JsonFormat, JsonlFormat, RecordWriter
from batteries_fixtures._formats.yaml import YamlFormat
from batteries_fixtures._readers import MISSING, RawRecord, read_records
from batteries_fixtures.exceptions import FixtureFormatError, FixtureSchemaError
from batteries_fixtures.formats import ENTRY_POINT_GROUP, FixtureFormat, FormatContext, ValueType

if TYPE_CHECKING:
    from batteries_fixtures._codecs import Codec
    from batteries_fixtures._schema import Schema
    from batteries_fixtures._sources import Source

__all__ = [
    "MISSING",
    "Format",
    "JsonFormat",
    "RawRecord",
    "RecordWriter",
    "add_natural_keys",
    "context_for",
    "format_for_file",
    "format_named",
    "format_names",
    "formats_of_sources",
    "read_records",
    "resolve_format",
    "suffixes_of",
]

_BUILT_IN: dict[str, type[FixtureFormat]] = {
    cls.name: cls for cls in (JsonFormat, JsonlFormat, YamlFormat, CsvFormat, DjangoFormat)
}


@functools.cache
def _entry_points() -> dict[str, EntryPoint]:
    """The plugins' entry points by format name (a built-in name is never a plugin's)."""
    found = entry_points(group=ENTRY_POINT_GROUP)
    return {ep.name: ep for ep in sorted(found, key=lambda ep: ep.name) if ep.name not in _BUILT_IN}


def format_names() -> list[str]:
    """Every format's name, built-in and plugins', sorted."""
    return sorted({*_BUILT_IN, *_entry_points()})


def _plugin_class(entry: EntryPoint) -> type[FixtureFormat]:
    where = f"entry point {entry.name} = {entry.value}"
    if entry.dist is not None:
        where += f" of {entry.dist.name} {entry.dist.version}"
    try:
        loaded = entry.load()
    except Exception as exc:
        msg = (
            f"The fixture format {entry.name!r} ({where}) cannot be imported: "
            f"{type(exc).__name__}: {exc}; reinstall or uninstall that package"
        )
        raise FixtureFormatError(msg) from exc
    if not (isinstance(loaded, type) and issubclass(loaded, FixtureFormat)):
        msg = (
            f"The fixture format {entry.name!r} ({where}) is {loaded!r}, not a subclass of "
            "batteries_fixtures.formats.FixtureFormat; fix or uninstall that package"
        )
        raise FixtureFormatError(msg)
    return loaded


def _class_named(name: str) -> type[FixtureFormat]:
    found = _BUILT_IN.get(name)
    if found is not None:
        return found
    entry = _entry_points().get(name)
    if entry is None:
        msg = (
            f"Unknown fixture format {name!r}: the formats installed are "
            f"{', '.join(format_names())} (a package adds one with an entry point in the "
            f"group {ENTRY_POINT_GROUP})"
        )
        raise FixtureFormatError(msg)
    return _plugin_class(entry)


def format_named(name: str, options: Mapping[str, str]) -> FixtureFormat:
    """The format called ``name``, made from ``options``."""
    return _class_named(name.lower()).from_options(options)


def _classes() -> list[type[FixtureFormat]]:
    """Every format's class, built-in ones first (plugins are imported here)."""
    return [*_BUILT_IN.values(), *(_plugin_class(e) for e in _entry_points().values())]


def format_for_file(name: str) -> FixtureFormat | None:
    """The format a file name's suffix selects (compression suffix stripped), if any."""
    from batteries_fixtures._compression import strip_codec

    lowered = strip_codec(name).lower()
    for group in (_BUILT_IN.values(), None):
        classes = group if group is not None else _classes()
        for cls in classes:
            if lowered.endswith(cls.suffixes):
                return cls.from_options({})
    return None


def suffixes_of(chosen: FixtureFormat | None) -> tuple[str, ...]:
    """The suffixes of ``chosen``, or of every format: the files a folder stands for."""
    if chosen is not None:
        return type(chosen).suffixes
    return tuple(dict.fromkeys(s for cls in _classes() for s in cls.suffixes))


def formats_of_sources(
    sources: Sequence[Source], chosen: FixtureFormat | None
) -> list[FixtureFormat]:
    """The format of each source: ``chosen``, else the file's suffix's, else JSON (sniffed)."""
    if chosen is not None:
        return [chosen] * len(sources)
    found: list[FixtureFormat] = []
    for source in sources:
        fmt = None
        if isinstance(source, str | os.PathLike) and os.fspath(source) != "-":
            fmt = format_for_file(os.fspath(source))
        found.append(fmt if fmt is not None else JsonFormat())
    return found


def resolve_format(chosen: str | FixtureFormat | None) -> FixtureFormat | None:
    """``chosen`` as a format: a name is looked up, ``None`` stays (choose by file name)."""
    if chosen is None or isinstance(chosen, FixtureFormat):
        return chosen
    return format_named(chosen, {})


# ---------------------------------------------------------------- what a format sees


def _value_type(codec: Codec) -> ValueType:
    kind = codec.kind
    if kind == "int":
        return "integer"
    if kind == "float":
        return "number"
    if kind == "bool":
        return "boolean"
    if kind in ("json", "hstore") or kind.startswith("array["):
        return "document"
    return "text" if codec.raw else "string"


def context_for(
    schema: Schema,
    *,
    table: str | None = None,
    order: Sequence[str] = (),
    indent: int | None = None,
) -> FormatContext:
    """The :class:`FormatContext` of ``schema``'s tables."""
    return FormatContext(
        tables={name: info.table for name, info in schema.tables.items()},
        natural_keys={
            name: info.natural_key
            for name, info in schema.tables.items()
            if info.natural_key is not None
        },
        value_types={
            name: {
                c.key: _value_type(info.codecs[c.key]) for c in info.columns if c.key in info.codecs
            }
            for name, info in schema.tables.items()
        },
        dialect=schema.dialect,
        table=table,
        order=tuple(order),
        indent=indent,
    )


def add_natural_keys(schema: Schema, formats: Sequence[FixtureFormat]) -> None:
    """Give tables that declare no natural key the ones ``formats`` give them.

    A natural key declared by a model (``__natural_key__``, ``info["natural_key"]``) stays.

    Raises:
        FixtureSchemaError: A format names a column the table does not have.
    """
    context = context_for(schema)
    for fmt in dict.fromkeys(formats):
        for name, keys in fmt.natural_keys(context).items():
            info = schema.tables.get(name)
            if info is None or info.natural_key is not None:
                continue
            for key in keys:
                if key not in info.table.c:
                    msg = (
                        f"The {fmt.name} format gives table {name!r} the natural key "
                        f"{', '.join(keys)}, but the table has no column {key!r}"
                    )
                    raise FixtureSchemaError(msg, table=name, field=key)
            info.natural_key = tuple(keys)
