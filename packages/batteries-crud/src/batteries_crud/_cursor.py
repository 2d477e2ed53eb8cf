"""Opaque cursors of keyset pagination: the ordering and the sort values of the last row."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Any

from pydantic import TypeAdapter

from batteries_crud._filters import check_value
from batteries_crud._model_info import ModelInfo
from batteries_crud.exceptions import InvalidFilterError

__all__ = ["decode_cursor", "encode_cursor"]

_VALUES: TypeAdapter[list[Any]] = TypeAdapter(list[Any])


def encode_cursor(keys: Sequence[str], values: Sequence[Any]) -> str:
    """Encode the ordering ``keys`` (``"-created_at"``) and the last row's values."""
    payload = json.dumps({"k": list(keys), "v": _VALUES.dump_python(list(values), mode="json")})
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_cursor(info: ModelInfo, keys: Sequence[str], cursor: str) -> list[Any]:
    """Return the sort values of ``cursor``, checked against the ordering ``keys``."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()))
        cursor_keys, raw = payload["k"], payload["v"]
    except (ValueError, TypeError, KeyError, binascii.Error):
        msg = f"Invalid cursor for table {info.name!r}: pass the next_cursor of a previous page"
        raise InvalidFilterError(msg, table=info.name, field="after") from None
    if cursor_keys != list(keys) or len(raw) != len(keys):
        msg = (
            f"The cursor was made for the ordering {cursor_keys} of table {info.name!r}, "
            f"not {list(keys)}: start again without a cursor"
        )
        raise InvalidFilterError(msg, table=info.name, field="after")
    return [
        check_value(info, key.removeprefix("-"), value, key="after")
        for key, value in zip(keys, raw, strict=True)
    ]
