"""The caller's row data and primary keys, checked against the model before any SQL is sent."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from operator import itemgetter
from typing import Any

from pydantic import BaseModel as PydanticModel
from pydantic import ValidationError

from batteries_crud._filters import coerce_value, shown
from batteries_crud._model_info import ModelInfo
from batteries_crud._storable import first_problem
from batteries_crud.exceptions import InvalidFilterError, InvalidValueError

__all__ = ["NO_ROW", "check_row", "check_rows", "field_values", "primary_key", "validated"]

NO_ROW: Any = object()
"""What :func:`primary_key` returns for a key no row can have (beyond the column's range)."""


def _invalid(info: ModelInfo, field: str, value: Any, reason: str) -> InvalidValueError:
    msg = f"Invalid value {shown(value)} for {field!r} of table {info.name!r}: {reason}"
    return InvalidValueError(msg, table=info.name, field=field, reason=reason)


def check_row(info: ModelInfo, row: Mapping[str, Any]) -> None:
    """Refuse a row holding a value its column cannot store (range, length, characters)."""
    for key, check in info.checks.items():
        value = row.get(key)
        if value is not None and (problem := check(value, True)) is not None:
            raise _invalid(info, key, value, problem)


def check_rows(info: ModelInfo, rows: Sequence[Mapping[str, Any]]) -> None:
    """:func:`check_row` for many rows, a column at a time (``create_many``, ``upsert_many``)."""
    for key, check in info.checks.items():
        try:
            values = list(map(itemgetter(key), rows))  # at C speed: create_many's hot path
        except KeyError:
            values = [row.get(key) for row in rows]
        found = first_problem(check, values)
        if found is not None:
            raise _invalid(info, key, *found)


def validation_error(
    info: ModelInfo, exc: ValidationError, *, field: str | None = None
) -> InvalidValueError:
    """The :class:`InvalidValueError` for pydantic's ``exc``, its field errors kept.

    ``field`` prefixes each error's location when ``exc`` is about one field's value.
    """
    prefix = [field] if field is not None else []
    errors = [
        {"loc": [*prefix, *error["loc"]], "msg": error["msg"], "type": error["type"]}
        for error in exc.errors(include_url=False, include_context=False, include_input=False)
    ]
    first = errors[0] if errors else {"loc": prefix, "msg": str(exc)}
    name = ".".join(str(part) for part in first["loc"])
    msg = f"Invalid value for {name!r} of table {info.name!r}: {first['msg']}"
    if len(errors) > 1:
        msg += f" (and {len(errors) - 1} more)"
    return InvalidValueError(
        msg, table=info.name, field=name, reason=str(first["msg"]), errors=errors
    )


def validated(info: ModelInfo, data: Mapping[str, Any]) -> Any:
    """A new model instance from ``data``, validated by pydantic and checked for the database."""
    try:
        obj = info.model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(info, exc) from exc
    check_row(info, obj.__dict__)
    return obj


def _write_value(info: ModelInfo, key: str, value: Any) -> Any:
    try:
        checked = info.adapter(key).validate_python(value)
    except ValidationError as exc:
        raise validation_error(info, exc, field=key) from exc
    check = info.checks.get(key)
    if check is not None and (problem := check(checked, True)) is not None:
        raise _invalid(info, key, value, problem)
    return checked


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
        return {key: _write_value(info, key, value) for key, value in data.items()}
    return data if type(data) is dict else dict(data)  # callers never mutate it


def _key_value(info: ModelInfo, key: str, value: Any) -> Any:
    checked = coerce_value(info, key, value, key="pk")
    check = info.checks.get(key)
    if check is not None and check(checked, True) is not None:
        return NO_ROW  # a key beyond the column's range is a key no row has
    return checked


def primary_key(info: ModelInfo, pk: Any) -> Any:
    """The identity ``session.get`` takes for ``pk``: a checked value, tuple or dict.

    :data:`NO_ROW` when the column cannot hold the key (``10**30`` in an INTEGER column): no
    row can have it, so the caller answers "not found" without asking the database.
    """
    keys = info.pk_keys
    if len(keys) == 1 and not isinstance(pk, tuple | Mapping):  # the common case, first
        return _key_value(info, keys[0], pk)
    if isinstance(pk, Mapping):
        if set(pk) != set(keys):
            msg = f"The key of table {info.name!r} is {', '.join(keys)}, got {sorted(pk)}"
            raise InvalidFilterError(msg, table=info.name, field="pk", valid=keys)
        by_key = {k: _key_value(info, k, pk[k]) for k in keys}
        return NO_ROW if NO_ROW in by_key.values() else by_key
    values = pk if isinstance(pk, tuple) else (pk,)
    if len(values) != len(keys):
        msg = (
            f"The key of table {info.name!r} has {len(keys)} column(s) "
            f"({', '.join(keys)}), got {pk!r}: pass a tuple in that order"
        )
        raise InvalidFilterError(msg, table=info.name, field="pk", valid=keys)
    checked = tuple(_key_value(info, k, v) for k, v in zip(keys, values, strict=True))
    if NO_ROW in checked:
        return NO_ROW
    return checked if len(checked) > 1 else checked[0]
