"""The caller's row data and primary keys, checked against the model before any SQL is sent."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel as PydanticModel

from batteries_crud._filters import check_value
from batteries_crud._model_info import ModelInfo
from batteries_crud.exceptions import InvalidFilterError

__all__ = ["field_values", "primary_key"]


def field_values(info: ModelInfo, data: Any, *, partial: bool) -> dict[str, Any]:
    """Field values from a schema (only the set fields when ``partial``) or a dict."""
    if type(data) is not dict and isinstance(data, PydanticModel):  # dicts: fast path
        dumped = data.model_dump(exclude_unset=partial)
        # A schema may carry fields that are not columns (a password to hash in a hook).
        return {k: v for k, v in dumped.items() if k in info.columns}
    if type(data) is not dict and not isinstance(data, Mapping):
        msg = (
            f"Expected a schema or a dict of field values for table {info.name!r}, "
            f"got {type(data).__name__}"
        )
        raise InvalidFilterError(msg, table=info.name, field="data")
    if not info.columns.keys() >= data.keys():
        unknown = next(key for key in data if key not in info.columns)
        valid = sorted(info.columns)
        msg = (
            f"Unknown field {unknown!r} for table {info.name!r}: "
            f"valid fields are {', '.join(valid)}"
        )
        raise InvalidFilterError(msg, table=info.name, field=unknown, valid=valid)
    if partial:
        return {key: check_value(info, key, value) for key, value in data.items()}
    return data if type(data) is dict else dict(data)  # callers never mutate it


def primary_key(info: ModelInfo, pk: Any) -> Any:
    """The identity ``session.get`` takes for ``pk``: a checked value, tuple or dict."""
    keys = info.pk_keys
    if len(keys) == 1 and not isinstance(pk, tuple | Mapping):  # the common case, first
        return check_value(info, keys[0], pk, key="pk")
    if isinstance(pk, Mapping):
        if set(pk) != set(keys):
            msg = f"The key of table {info.name!r} is {', '.join(keys)}, got {sorted(pk)}"
            raise InvalidFilterError(msg, table=info.name, field="pk", valid=keys)
        return {k: check_value(info, k, pk[k], key="pk") for k in keys}
    values = pk if isinstance(pk, tuple) else (pk,)
    if len(values) != len(keys):
        msg = (
            f"The key of table {info.name!r} has {len(keys)} column(s) "
            f"({', '.join(keys)}), got {pk!r}: pass a tuple in that order"
        )
        raise InvalidFilterError(msg, table=info.name, field="pk", valid=keys)
    checked = tuple(check_value(info, k, v, key="pk") for k, v in zip(keys, values, strict=True))
    return checked if len(checked) > 1 else checked[0]
