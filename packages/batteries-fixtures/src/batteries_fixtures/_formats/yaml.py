"""YAML fixtures (``batteries-fixtures[yaml]``): the JSON records written in YAML, safely.

Reading takes the JSON data model only: mappings with string keys, sequences, strings,
integers, floats, booleans and null, resolved by the YAML 1.2 core schema (``yes``, ``no``,
``on``, ``off`` and ``1:20`` are strings, ``012`` is twelve, a date stays text for its column's
codec). A tag that would build anything else (``!!python/object``, ``!!binary``,
``!!timestamp``, ``!!set``, a local ``!tag``) is an error naming the file, line and column.
Aliases and merge keys (``<<: *defaults``) are fine, but a record whose aliases expand to more
than ``MAX_EXPANSION`` values beyond its own (a "billion laughs" document) is refused before any
value is built, and so is an alias inside itself.

A document that is a list of records is read one record at a time: PyYAML's composer is
driven item by item (``compose_node``) instead of composing the whole document, so memory
holds one record and the anchors seen so far. A stream of documents (``---``), each a record or
a list of records, is read the same way. libyaml's parser is used when PyYAML has it.

Writing gives a list of block mappings, one per record, with PyYAML's pure-Python emitter
(the same bytes whether or not libyaml is installed). A string that a YAML 1.1 or 1.2 reader
would take for something else (``yes``, ``1e3``, ``2024-01-01``, ``null``) is quoted.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import IO, Any

from batteries_fixtures._extras import import_extra
from batteries_fixtures._readers import (
    _SHAPES,
    MAX_DEPTH,
    RawRecord,
    Utf8Text,
    _check_record,  # the JSON reader's shape check, messages and all
    _NotStorable,
    _parse_float,
)
from batteries_fixtures.exceptions import FixtureFormatError
from batteries_fixtures.formats import FixtureFormat, FormatContext

__all__ = ["MAX_EXPANSION", "YamlFormat"]

MAX_EXPANSION = 100_000
"""Values that aliases may add to one record, beyond those written out."""

_TAG = "tag:yaml.org,2002:"
_STR = _TAG + "str"
_BREAKS = re.compile("[\x85\u2028\u2029]")


class YamlFormat(FixtureFormat):
    """YAML: a list of records, each a mapping of ``table``, ``pk`` and ``fields``."""

    name = "yaml"
    suffixes = (".yaml", ".yml")
    description = "YAML records (safe loading, streamed); needs batteries-fixtures[yaml]"

    def read(self, stream: IO[bytes], path: str, context: FormatContext) -> Iterator[RawRecord]:
        """The records of the file's documents, one at a time."""
        yaml = _pyyaml(path)
        loader = _loader_class()(Utf8Text(stream, path))
        try:
            yield from _records(loader, path)
        except RecursionError as exc:
            msg = f"{path}: the YAML is nested too deeply to be read (at most {MAX_DEPTH} levels)"
            raise FixtureFormatError(msg, path=path) from exc
        except yaml.MarkedYAMLError as exc:
            raise _marked_error(exc, path) from exc
        except yaml.YAMLError as exc:  # the reader's: a character YAML does not allow
            msg = f"{path}: not valid YAML: {str(exc).splitlines()[0]}"
            raise FixtureFormatError(msg, path=path) from exc
        finally:
            loader.dispose()

    def writer(self, stream: IO[str], context: FormatContext) -> YamlWriter:
        """A writer of a YAML list of records."""
        return YamlWriter(stream, context.indent)


class YamlWriter:
    """Records as items of one YAML list, each written as soon as it is given."""

    def __init__(self, stream: IO[str], indent: int | None) -> None:
        self._yaml = _pyyaml(str(getattr(stream, "name", "-")))
        self._stream = stream
        self._indent = indent or 2
        self._dumper = _dumper_class()
        self._count = 0

    def write(self, record: dict[str, Any]) -> None:
        """Write one record as an item of the list."""
        self._stream.write(
            self._yaml.dump(
                [record],
                Dumper=self._dumper,
                allow_unicode=True,
                sort_keys=False,
                default_flow_style=False,
                indent=self._indent,
                width=1 << 30,  # never fold a long string over several lines
            )
        )
        self._count += 1

    def close(self) -> None:
        """End the file: an empty dump is an empty list."""
        if self._count == 0:
            self._stream.write("[]\n")
        self._stream.flush()


def _pyyaml(path: str) -> Any:
    return import_extra("yaml", "yaml", path, "YAML fixtures need PyYAML")


def _records(loader: Any, path: str) -> Iterator[RawRecord]:
    from yaml.events import (
        DocumentStartEvent,
        SequenceEndEvent,
        SequenceStartEvent,
        StreamEndEvent,
    )

    shape = _SHAPES["table"]
    index = 0
    documents = 0
    loader.get_event()  # the stream's start
    while not loader.check_event(StreamEndEvent):
        start = loader.get_event()
        assert isinstance(start, DocumentStartEvent)
        documents += 1
        if loader.check_event(SequenceStartEvent):
            loader.get_event()
            while not loader.check_event(SequenceEndEvent):
                yield _record(loader, loader.compose_node(None, None), path, index, shape)
                index += 1
            loader.get_event()
        else:
            yield _record(loader, loader.compose_node(None, None), path, index, shape)
            index += 1
        loader.get_event()  # the document's end
        loader.anchors = {}
    if documents == 0:
        msg = f"{path}: the file is empty; expected a YAML list of records"
        raise FixtureFormatError(msg, path=path)


def _record(loader: Any, node: Any, path: str, index: int, shape: Any) -> RawRecord:
    line = node.start_mark.line + 1
    _check_expansion(node, path, index, line)
    value = loader.construct_document(node)
    if not isinstance(value, dict):
        msg = (
            f"{path}: record {index} (line {line}) is not a mapping of table, pk and fields; "
            "a YAML fixture is a list of such mappings"
        )
        raise FixtureFormatError(msg, path=path, record=index, line=line)
    return _check_record(value, path, index, line, shape)


def _children(node: Any) -> list[Any]:
    from yaml.nodes import MappingNode, SequenceNode

    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [item for pair in node.value for item in pair]
    return []


def _check_expansion(root: Any, path: str, index: int, line: int) -> None:
    """Refuse a record whose aliases expand into too many values, or into themselves.

    Aliases are shared nodes, so the composed record is small; building values from it would
    copy each use (a merge key copies a mapping's pairs). Sizes are counted once per node.
    """
    where = f"{path}: record {index} (line {line})"
    sizes: dict[int, int] = {}
    ancestors: set[int] = set()
    distinct = 0
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            ancestors.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in _children(node))
            continue
        if key in sizes:
            continue
        if key in ancestors:
            mark = node.start_mark
            msg = (
                f"{where}: an alias at line {mark.line + 1} column {mark.column + 1} is inside "
                "the value it names, which would never end; write the value out"
            )
            raise FixtureFormatError(msg, path=path, record=index, line=line)
        if len(ancestors) >= MAX_DEPTH:
            msg = f"{where} cannot be read: it is nested more than {MAX_DEPTH} levels deep"
            raise FixtureFormatError(msg, path=path, record=index, line=line)
        ancestors.add(key)
        distinct += 1
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)
    if sizes[id(root)] - distinct > MAX_EXPANSION:
        msg = (
            f"{where}: its aliases expand to {sizes[id(root)]:,} values from {distinct:,} "
            f'written (more than {MAX_EXPANSION:,} added: a "billion laughs" document); '
            "write the values out"
        )
        raise FixtureFormatError(msg, path=path, record=index, line=line)


def _marked_error(exc: Any, path: str) -> FixtureFormatError:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "invalid YAML"
    if mark is None:
        msg = f"{path}: not valid YAML: {problem}"
        return FixtureFormatError(msg, path=path)
    line, column = mark.line + 1, mark.column + 1
    msg = f"{path}: invalid YAML at line {line} column {column}: {problem}"
    return FixtureFormatError(msg, path=path, line=line, column=column)


def _short_tag(tag: str) -> str:
    return "!!" + tag.removeprefix(_TAG) if tag.startswith(_TAG) else tag


# ---------------------------------------------------------------- the loader and the dumper

# The YAML 1.2 core schema's plain scalars (https://yaml.org/spec/1.2.2/#1032-tag-resolution).
_CORE_SCHEMA = (
    ("bool", r"true|True|TRUE|false|False|FALSE", "tTfF"),
    ("int", r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+", "-+0123456789"),
    (
        "float",
        r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)",
        "-+0123456789.",
    ),
    ("null", r"~|null|Null|NULL|", ["~", "n", "N", ""]),
)
_JSON_TAGS = frozenset(
    _TAG + kind for kind in ("null", "bool", "int", "float", "str", "seq", "map")
)


@functools.cache
def _loader_class() -> type[Any]:
    import yaml
    from yaml.composer import Composer
    from yaml.constructor import ConstructorError, SafeConstructor
    from yaml.resolver import BaseResolver

    class CoreResolver(BaseResolver):
        """Plain scalars resolved as YAML 1.2's core schema (JSON's values), merge keys too."""

    for kind, pattern, first in _CORE_SCHEMA:
        CoreResolver.add_implicit_resolver(_TAG + kind, re.compile(f"^(?:{pattern})$"), list(first))
    CoreResolver.add_implicit_resolver(_TAG + "merge", re.compile(r"^(?:<<)$"), ["<"])

    class JsonConstructor(SafeConstructor):
        """The JSON data model and nothing else: no tag builds another kind of value."""

        yaml_constructors = {  # noqa: RUF012  # PyYAML's registry
            tag: build
            for tag, build in SafeConstructor.yaml_constructors.items()
            if tag in _JSON_TAGS
        }

        def construct_undefined(self, node: Any) -> Any:
            msg = (
                f"the tag {_short_tag(node.tag)} is not allowed: YAML fixtures hold data only "
                "(strings, numbers, true/false, null, lists, mappings); remove the tag"
            )
            raise ConstructorError(None, None, msg, node.start_mark)

        def construct_yaml_int(self, node: Any) -> int:
            # YAML 1.2: 012 is twelve (1.1 read it as octal), 0o12 is octal, 0x12 hexadecimal.
            text = str(self.construct_scalar(node))
            digits = text.lstrip("+-")
            sign = -1 if text.startswith("-") else 1
            base = {"0x": 16, "0o": 8}.get(digits[:2], 10)
            try:
                return sign * int(digits[2:] if base != 10 else digits, base)
            except ValueError:
                msg = f"{text!r} is not an integer (decimal, 0o octal or 0x hexadecimal)"
                raise ConstructorError(None, None, msg, node.start_mark) from None

        def construct_yaml_float(self, node: Any) -> float:
            text = str(self.construct_scalar(node))
            if text.lstrip("+-").lower() in (".inf", ".nan"):
                msg = (
                    f"{text} is not a number a database stores as it is; write the string "
                    '"NaN", "Infinity" or "-Infinity" in a float column'
                )
                raise ConstructorError(None, None, msg, node.start_mark)
            try:
                return _parse_float(text)
            except _NotStorable as exc:
                raise ConstructorError(None, None, str(exc), node.start_mark) from None
            except ValueError:
                msg = f"{text!r} is not a number"
                raise ConstructorError(None, None, msg, node.start_mark) from None

        def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
            mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
            for key_node, _ in node.value:  # merge keys are flattened away by now
                if key_node.tag != _STR:
                    msg = "a mapping key must be a string, as in JSON; quote it"
                    raise ConstructorError(None, None, msg, key_node.start_mark)
            return mapping

    JsonConstructor.yaml_constructors[_TAG + "int"] = JsonConstructor.construct_yaml_int
    JsonConstructor.yaml_constructors[_TAG + "float"] = JsonConstructor.construct_yaml_float
    # Every other tag: refused. Without this entry PyYAML would build a plain value.
    JsonConstructor.yaml_constructors[None] = JsonConstructor.construct_undefined
    c_parser = getattr(yaml, "CParser", None)  # None: PyYAML built without libyaml
    if c_parser is not None:
        parser: tuple[type[Any], ...] = (c_parser,)

        def start(loader: Any, stream: Any) -> None:
            c_parser.__init__(loader, stream)

    else:
        from yaml.parser import Parser
        from yaml.reader import Reader
        from yaml.scanner import Scanner

        parser = (Reader, Scanner, Parser)

        def start(loader: Any, stream: Any) -> None:
            Reader.__init__(loader, stream)
            Scanner.__init__(loader)
            Parser.__init__(loader)

    class Loader(*parser, Composer, JsonConstructor, CoreResolver):  # type: ignore[misc]
        """The parser's events, composed item by item by :func:`_records`."""

        def __init__(self, stream: Any) -> None:
            start(self, stream)
            Composer.__init__(self)
            JsonConstructor.__init__(self)
            CoreResolver.__init__(self)

    return Loader


@functools.cache
def _dumper_class() -> type[Any]:
    import yaml

    class Dumper(yaml.SafeDumper):
        """PyYAML's safe dumper, quoting what YAML 1.1 or the 1.2 core schema would misread."""

    for kind, pattern, first in _CORE_SCHEMA:
        Dumper.add_implicit_resolver(_TAG + kind, re.compile(f"^(?:{pattern})$"), list(first))

    def represent_str(dumper: Any, data: str) -> Any:
        style = None
        if _BREAKS.search(data):
            # PyYAML's emitter leaves NEL and the Unicode line and paragraph separators in a
            # plain or block scalar, where every reader takes them for line breaks: escaped.
            style = '"'
        elif "\n" in data:
            style = "|"  # a literal block when the emitter allows one (it falls back if not)
        return dumper.represent_scalar(_STR, str(data), style=style)

    # Names and values may be subclasses (SQLAlchemy's quoted_name is a str): as their base.
    Dumper.add_representer(str, represent_str)
    Dumper.add_multi_representer(str, represent_str)
    return Dumper
