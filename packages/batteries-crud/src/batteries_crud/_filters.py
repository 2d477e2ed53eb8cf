"""Django-style lookups (``price__gte=10``) and orderings (``"-created_at"``) as SQL clauses.

Everything is checked against the model before a statement is built, so a typo fails with
:class:`~batteries_crud.exceptions.InvalidFilterError` and no SQL is sent. Values always become
bound parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Boolean, Column, ColumnElement, LargeBinary, String, TypeDecorator, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.functions import FunctionElement

from batteries_crud._model_info import ModelInfo
from batteries_crud._storable import text_problem
from batteries_crud._value_lists import in_values
from batteries_crud.exceptions import InvalidFilterError

__all__ = [
    "LOOKUPS",
    "OrderBy",
    "build_filters",
    "build_order",
    "check_value",
    "coerce_value",
    "parse_key",
    "shown",
]

OrderBy = str | ColumnElement[Any] | UnaryExpression[Any]
"""One ordering: a field name, ``"-field"`` for descending, or a SQLAlchemy expression."""

_Clause = Callable[[Column[Any], Any], ColumnElement[bool]]

_COMPARISONS: dict[str, _Clause] = {
    "exact": lambda c, v: c == v,
    "ne": lambda c, v: c != v,
    "gt": lambda c, v: c > v,
    "gte": lambda c, v: c >= v,
    "lt": lambda c, v: c < v,
    "lte": lambda c, v: c <= v,
}


class _CaseSensitiveMatch(FunctionElement[bool]):
    """``column LIKE pattern``, or ``column GLOB pattern`` on SQLite, whose LIKE ignores case.

    Arguments: the column, the LIKE pattern (escaped with ``/``), the GLOB pattern.
    """

    type = Boolean()
    name = "batteries_case_sensitive_match"
    inherit_cache = True


@compiles(_CaseSensitiveMatch)
def _compile_like(element: _CaseSensitiveMatch, compiler: Any, **kw: Any) -> str:
    column, like, _glob = element.clauses
    return f"{compiler.process(column, **kw)} LIKE {compiler.process(like, **kw)} ESCAPE '/'"


@compiles(_CaseSensitiveMatch, "sqlite")
def _compile_glob(element: _CaseSensitiveMatch, compiler: Any, **kw: Any) -> str:
    column, _like, glob = element.clauses
    return f"{compiler.process(column, **kw)} GLOB {compiler.process(glob, **kw)}"


def _case_sensitive(template: str) -> _Clause:
    """A case-sensitive match of ``template`` (``"*{}*"``), the value matched literally."""

    def clause(column: Column[Any], value: str) -> ColumnElement[bool]:
        like = value.replace("/", "//").replace("%", "/%").replace("_", "/_")
        glob = value.replace("[", "[[]").replace("*", "[*]").replace("?", "[?]")
        return _CaseSensitiveMatch(
            column, template.replace("*", "%").format(like), template.format(glob)
        )

    return clause


# autoescape=True: a "%" or "_" in the value is matched literally, as the user typed it.
_TEXT: dict[str, _Clause] = {
    "iexact": lambda c, v: func.lower(c) == func.lower(v),
    "contains": _case_sensitive("*{}*"),
    "icontains": lambda c, v: c.icontains(v, autoescape=True),
    "startswith": _case_sensitive("{}*"),
    "istartswith": lambda c, v: c.istartswith(v, autoescape=True),
    "endswith": _case_sensitive("*{}"),
    "iendswith": lambda c, v: c.iendswith(v, autoescape=True),
}
LOOKUPS: tuple[str, ...] = tuple(sorted([*_COMPARISONS, *_TEXT, "in", "not_in", "isnull"]))
"""Every lookup suffix that filters accept."""


def parse_key(info: ModelInfo, key: str) -> tuple[str, str]:
    """Split ``"price__gte"`` into a known field and lookup, or raise ``InvalidFilterError``."""
    field, sep, lookup = key.partition("__")
    if field not in info.columns:
        valid = sorted(info.columns)
        msg = (
            f"Unknown field {field!r} in filter {key!r} for table {info.name!r}: "
            f"valid fields are {', '.join(valid)}"
        )
        raise InvalidFilterError(msg, table=info.name, field=key, valid=valid)
    if not sep:
        return field, "exact"
    if lookup not in LOOKUPS:
        msg = (
            f"Unknown lookup {lookup!r} in filter {key!r} for table {info.name!r}: "
            f"valid lookups are {', '.join(LOOKUPS)}"
        )
        raise InvalidFilterError(msg, table=info.name, field=key, valid=LOOKUPS)
    return field, lookup


def shown(value: Any) -> str:
    """``repr(value)``, cut short: a message stays one readable line whatever the input."""
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


def coerce_value(info: ModelInfo, field: str, value: Any, *, key: str | None = None) -> Any:
    """Return ``value`` checked and coerced (pydantic lax mode) for the column ``field``."""
    try:
        return info.adapter(field).validate_python(value)
    except ValidationError as exc:
        error = exc.errors()[0]["msg"]
        name = key or field
        msg = f"Invalid value {shown(value)} for {name!r} of table {info.name!r}: {error}"
        raise InvalidFilterError(msg, table=info.name, field=name) from None


def check_value(info: ModelInfo, field: str, value: Any, *, key: str | None = None) -> Any:
    """Like :func:`coerce_value`, and refuse a value the column cannot hold or compare.

    A filter value out of the column's range (or with a NUL) could only ever match nothing
    or everything; refusing it says so instead of failing in the driver.
    """
    checked = coerce_value(info, field, value, key=key)
    check = info.checks.get(field)
    if check is not None and (problem := check(checked, False)) is not None:
        name = key or field
        msg = f"Invalid value {shown(value)} for {name!r} of table {info.name!r}: {problem}"
        raise InvalidFilterError(msg, table=info.name, field=name)
    return checked


def _clause(info: ModelInfo, key: str, value: Any) -> ColumnElement[bool]:
    field, lookup = parse_key(info, key)
    column = info.columns[field]
    if lookup == "isnull":
        if not isinstance(value, bool):
            msg = f"Filter {key!r} of table {info.name!r} needs True or False, got {value!r}"
            raise InvalidFilterError(msg, table=info.name, field=key)
        return column.is_(None) if value else column.is_not(None)
    if lookup in ("in", "not_in"):
        if isinstance(value, str | bytes) or not isinstance(value, Iterable):
            msg = f"Filter {key!r} of table {info.name!r} needs a list of values, got {value!r}"
            raise InvalidFilterError(msg, table=info.name, field=key)
        values = [check_value(info, field, v, key=key) for v in value]
        if _is_binary(column):  # bytes have no JSON form; binary IN lists stay short
            return column.in_(values) if lookup == "in" else column.not_in(values)
        return in_values(column, values, negate=lookup == "not_in")
    if value is None and lookup in ("exact", "ne"):
        return column.is_(None) if lookup == "exact" else column.is_not(None)
    if lookup in _TEXT:
        if not _is_text(column):
            msg = (
                f"Lookup {lookup!r} in filter {key!r} needs a text column, but "
                f"{info.name}.{field} is {column.type}: use exact, ne, gt, gte, lt, lte or in"
            )
            raise InvalidFilterError(msg, table=info.name, field=key, valid=sorted(_COMPARISONS))
        if not isinstance(value, str):
            msg = f"Filter {key!r} of table {info.name!r} needs a string, got {shown(value)}"
            raise InvalidFilterError(msg, table=info.name, field=key)
        if (problem := text_problem(value)) is not None:
            msg = f"Invalid value {shown(value)} for {key!r} of table {info.name!r}: {problem}"
            raise InvalidFilterError(msg, table=info.name, field=key)
        return _TEXT[lookup](column, value)
    return _COMPARISONS[lookup](column, check_value(info, field, value, key=key))


def _base_type(column: Column[Any]) -> Any:
    type_ = column.type
    while isinstance(type_, TypeDecorator):  # SQLModel's AutoString wraps a String
        type_ = type_.impl_instance
    return type_


def _is_text(column: Column[Any]) -> bool:
    return isinstance(_base_type(column), String)


def _is_binary(column: Column[Any]) -> bool:
    return isinstance(_base_type(column), LargeBinary)


def build_filters(
    info: ModelInfo,
    where: Sequence[ColumnElement[bool]],
    lookup: Mapping[str, Any],
    *,
    with_deleted: bool,
) -> list[ColumnElement[bool]]:
    """Turn expressions and lookups into WHERE clauses, hiding soft-deleted rows by default."""
    clauses = list(where)
    clauses.extend(_clause(info, key, value) for key, value in lookup.items())
    if info.soft_delete and not with_deleted:
        clauses.append(info.columns["deleted_at"].is_(None))
    return clauses


def build_order(info: ModelInfo, order_by: Sequence[OrderBy] | str) -> list[Any]:
    """Turn ``("-created_at", "name")`` into ORDER BY clauses."""
    if isinstance(order_by, str):
        order_by = (order_by,)
    clauses: list[Any] = []
    for item in order_by:
        if not isinstance(item, str):
            clauses.append(item)
            continue
        descending = item.startswith("-")
        name = item.removeprefix("-").removeprefix("+")
        column = info.columns.get(name)
        if column is None:
            valid = sorted(info.columns)
            msg = (
                f"Cannot order table {info.name!r} by {item!r}: not a column; "
                f"valid fields are {', '.join(valid)} (prefix '-' for descending)"
            )
            raise InvalidFilterError(msg, table=info.name, field=item, valid=valid)
        clauses.append(column.desc() if descending else column.asc())
    return clauses
