"""``json`` columns kept to their exact text (PostgreSQL's ``json``, SQLite's JSON).

A document is written as-is when serialising it again (as the load will) gives its stored text
back, which is the case for what SQLAlchemy stored; any other text (``2.50``, another key order
or spacing, a duplicate key) is written as ``{"$raw": text}`` and stored back as that text.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import JSON
from sqlalchemy import types as sqltypes
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ColumnElement

from batteries_fixtures._codecs import Codec, _decode_json, _encode_json
from batteries_fixtures._raw import RawText, raw_of, wrap_raw

__all__ = ["json_text_codec"]


def json_text_codec(
    type_: sqltypes.JSON,
    dialect: Dialect,
    *,
    read: Callable[[ColumnElement[Any]], ColumnElement[Any]],
    cast_on_load: bool,
) -> Codec:
    """The codec of a JSON column whose stored text ``read`` selects.

    Args:
        type_: The column's JSON type.
        dialect: The database's dialect.
        read: Selects the stored text (or, on SQLite, the stored number).
        cast_on_load: The database parses raw text itself (PostgreSQL); else it is checked
            here to be JSON (SQLite stores any text).
    """
    # What SQLAlchemy's JSON type serialises with: the engine's json_serializer, else json.dumps.
    serialize: Callable[[Any], str] = getattr(dialect, "_json_serializer", None) or json.dumps

    def encode(stored: Any) -> Any:
        if type(stored) is not str:  # SQLite's NUMERIC affinity stored the number itself
            return _encode_json(stored)
        try:
            document = json.loads(stored)
        except ValueError:
            return wrap_raw(stored)
        if document is not None and serialize(document) == stored:
            return _encode_json(document)
        if document is None and stored == "null":
            return _encode_json(None)
        return wrap_raw(stored)

    def decode(value: Any) -> Any:
        inner = raw_of(value)
        if inner is None:
            return _decode_json(value)
        if type(inner) is not str:
            msg = f'"$raw" holds a JSON document\'s text, got {inner!r}'
            raise TypeError(msg)
        if not cast_on_load:
            json.loads(inner)  # ValueError names what is wrong
        if "\x00" in inner and cast_on_load:
            msg = "PostgreSQL cannot store the NUL character (\\u0000) in text"
            raise ValueError(msg)
        return RawText(inner)

    def decode_text(value: Any) -> str:
        decoded = decode(value)
        if type(decoded) is RawText:
            return decoded
        return "null" if decoded is JSON.NULL else str(serialize(decoded))

    return Codec(
        "json",
        encode,
        decode,
        is_json=True,
        read=read,
        encode_text=encode,
        decode_text=decode_text,
        raw=True,
    )
