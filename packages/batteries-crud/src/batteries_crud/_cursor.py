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

MAX_CURSOR_LENGTH = 4096
"""Longer cursors are refused unread: a real one holds a few sort values."""


def encode_cursor(keys: Sequence[str], values: Sequence[Any]) -> str:
    """Encode the ordering ``keys`` (``"-created_at"``) and the last row's values."""
    payload = json.dumps({"k": list(keys), "v": _VALUES.dump_python(list(values), mode="json")})
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def _invalid(info: ModelInfo) -> InvalidFilterError:
    msg = f"Invalid cursor for table {info.name!r}: pass the next_cursor of a previous page"
    return InvalidFilterError(msg, table=info.name, field="after")


def _payload(info: ModelInfo, cursor: Any) -> tuple[list[Any], list[Any]]:
    """The ordering and values of ``cursor``, whose every byte came from the client."""
    if not isinstance(cursor, str) or len(cursor) > MAX_CURSOR_LENGTH:
        raise _invalid(info)
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = json.loads(base64.b64decode(padded.encode(), altchars=b"-_", validate=True))
    # RecursionError: deeply nested JSON; ValueError: also too many digits for an int.
    except (ValueError, TypeError, binascii.Error, RecursionError):
        raise _invalid(info) from None
    if not isinstance(payload, dict) or set(payload) != {"k", "v"}:
        raise _invalid(info)
    keys, values = payload["k"], payload["v"]
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise _invalid(info)
    if not isinstance(values, list):
        raise _invalid(info)
    return keys, values


def decode_cursor(info: ModelInfo, keys: Sequence[str], cursor: str) -> list[Any]:
    """Return the sort values of ``cursor``, checked against the ordering ``keys``.

    A cursor is client input like any other: a forged one (not base64, not JSON, the wrong
    shape, values of the wrong type or beyond the column's range) is an
    :class:`InvalidFilterError`, never a driver error.
    """
    cursor_keys, raw = _payload(info, cursor)
    if cursor_keys != list(keys) or len(raw) != len(keys):
        msg = (
            f"The cursor was made for another ordering of table {info.name!r} "
            f"than {list(keys)}: start again without a cursor"
        )
        raise InvalidFilterError(msg, table=info.name, field="after")
    return [
        check_value(info, key.removeprefix("-"), value, key="after")
        for key, value in zip(keys, raw, strict=True)
    ]
