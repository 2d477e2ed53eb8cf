import uuid
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field

from batteries_crud import LOOKUPS, InvalidFilterError
from batteries_crud._cursor import decode_cursor, encode_cursor
from batteries_crud._filters import build_filters, build_order
from batteries_crud._model_info import model_info
from batteries_models import BaseModel, SoftDeleteMixin, UUIDMixin


class Item(BaseModel, UUIDMixin, SoftDeleteMixin, table=True):
    __tablename__ = "unit_item"
    name: str
    price: int = 0
    note: str | None = Field(default=None)


INFO = model_info(Item)


def sql(
    lookup: dict[str, Any], dialect: Any = None, *, with_deleted: bool = True
) -> tuple[str, dict[str, Any]]:
    clauses = build_filters(INFO, (), lookup, with_deleted=with_deleted)
    compiled = select(Item).where(*clauses).compile(dialect=dialect or postgresql.dialect())  # type: ignore[no-untyped-call]
    return str(compiled), compiled.params


def test_values_are_bound_parameters_never_sql_text() -> None:
    evil = "x' OR '1'='1"
    for lookup in ("name", "name__icontains", "name__startswith", "name__iexact", "name__in"):
        value = [evil] if lookup.endswith("__in") else evil
        text, params = sql({lookup: value})
        assert "OR '1'='1" not in text
        assert any(evil in str(v) for v in params.values()), lookup


def test_like_patterns_escape_wildcards() -> None:
    _, params = sql({"name__contains": "50%_off"})
    assert "%50/%/_off%" in params.values()
    text, params = sql({"name__contains": "a*b?[c"}, sqlite.dialect())
    assert " GLOB " in text
    assert "*a[*]b[?][[]c*" in params.values()


def test_soft_deleted_rows_are_hidden_unless_asked() -> None:
    assert "deleted_at IS NULL" in sql({}, with_deleted=False)[0]
    assert "WHERE" not in sql({}, with_deleted=True)[0]


def test_values_are_coerced_to_the_column_type() -> None:
    key = uuid.uuid4()
    _, params = sql({"id": str(key), "price__gte": "10"})
    assert key in params.values()
    assert 10 in params.values()


@pytest.mark.parametrize(
    ("lookup", "message"),
    [
        ({"nope": 1}, "Unknown field 'nope'.*valid fields are deleted_at, id, name, note, price"),
        ({"name__nope": 1}, "Unknown lookup 'nope'.*valid lookups are " + ", ".join(LOOKUPS)),
        ({"price": "cheap"}, "Invalid value 'cheap' for 'price'"),
        ({"price__in": "12"}, "needs a list"),
        ({"price__icontains": "1"}, "needs a text column"),
        ({"name__contains": 3}, "needs a string"),
        ({"note__isnull": 1}, "True or False"),
    ],
)
def test_bad_lookups_name_what_is_valid(lookup: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidFilterError, match=message) as caught:
        sql(lookup)
    assert caught.value.table == "unit_item"
    assert caught.value.field == next(iter(lookup))


def test_order_by_names_and_expressions() -> None:
    clauses = build_order(INFO, ("-price", "name", Item.note))  # type: ignore[arg-type]
    compiled = select(Item).order_by(*clauses).compile(dialect=postgresql.dialect())  # type: ignore[no-untyped-call]
    text = str(compiled)
    assert "ORDER BY unit_item.price DESC, unit_item.name ASC, unit_item.note" in text
    with pytest.raises(InvalidFilterError, match="valid fields are") as caught:
        build_order(INFO, "-secret")
    assert "name" in caught.value.valid


def test_cursor_round_trip_and_refusals() -> None:
    key = uuid.uuid4()
    cursor = encode_cursor(["-price", "id"], [5, key])
    assert decode_cursor(INFO, ["-price", "id"], cursor) == [5, key]
    with pytest.raises(InvalidFilterError, match="ordering"):
        decode_cursor(INFO, ["price", "id"], cursor)
    with pytest.raises(InvalidFilterError, match="Invalid cursor"):
        decode_cursor(INFO, ["price", "id"], "%%%")
