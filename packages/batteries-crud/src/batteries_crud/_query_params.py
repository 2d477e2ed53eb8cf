"""Query parameters of a list endpoint as BaseCRUD filters, ordering and a page: an allow-list.

The parameters are declared as a FastAPI query parameter model (a pydantic model read with
``Query()``), built once per endpoint from its allow-list: FastAPI validates them, answers a
422 naming the parameter at fault (an unknown one too: the model forbids extra fields), and
documents every allowed filter in the OpenAPI schema with its type.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field, create_model
from sqlmodel import SQLModel

from batteries_crud._crud import BaseCRUD
from batteries_crud._filters import LOOKUPS
from batteries_crud._model_info import model_info
from batteries_crud._pages import CursorPage, Page
from batteries_crud.exceptions import CRUDDefinitionError

__all__ = ["ListQuery", "list_query"]

ModelT = TypeVar("ModelT", bound=SQLModel)

_TEXT_LOOKUPS = frozenset(
    {"iexact", "contains", "icontains", "startswith", "istartswith", "endswith", "iendswith"}
)
_WORDS: dict[str, str] = {
    "exact": "equals",
    "ne": "differs from",
    "gt": "greater than",
    "gte": "at least",
    "lt": "less than",
    "lte": "at most",
    "in": "one of (repeat the parameter)",
    "not_in": "none of (repeat the parameter)",
    "isnull": "is null (true) or not (false)",
    "iexact": "equals, ignoring case",
    "contains": "contains",
    "icontains": "contains, ignoring case",
    "startswith": "starts with",
    "istartswith": "starts with, ignoring case",
    "endswith": "ends with",
    "iendswith": "ends with, ignoring case",
}
# Names the page and ordering parameters take; a filter cannot use them.
_RESERVED = frozenset({"order_by", "page", "page_size", "after"})


@dataclass(frozen=True)
class ListQuery:
    """What the query parameters of one request asked for, checked against the allow-list.

    Pass it to :meth:`paginate` (offset pages) or :meth:`paginate_keyset` (cursor pages), or
    use its fields with any BaseCRUD method.

    Attributes:
        filters: Django-style lookups, only those given: ``{"name__icontains": "man"}``.
        order_by: The ordering asked for, or the endpoint's default: ``("-created_at",)``.
        limit: The page size (``page_size``).
        offset: Rows before the page: ``(page - 1) * page_size``; 0 for cursor pages.
        after: The cursor of a cursor page (``after``); ``None`` for the first one.
    """

    filters: dict[str, Any] = field(default_factory=dict)
    order_by: tuple[str, ...] = ()
    limit: int = 20
    offset: int = 0
    after: str | None = None

    async def paginate(self, crud: BaseCRUD[ModelT, Any, Any]) -> Page[ModelT]:
        """``crud.paginate(...)`` with these filters, ordering and page."""
        return await crud.paginate(
            limit=self.limit, offset=self.offset, order_by=self.order_by, **self.filters
        )

    async def paginate_keyset(self, crud: BaseCRUD[ModelT, Any, Any]) -> CursorPage[ModelT]:
        """``crud.paginate_keyset(...)`` with these filters, ordering and cursor."""
        return await crud.paginate_keyset(
            limit=self.limit, after=self.after, order_by=self.order_by, **self.filters
        )


def list_query(
    crud: type[BaseCRUD[Any, Any, Any]],
    *,
    filters: Mapping[str, Sequence[str]] | None = None,
    order_by: Sequence[str] = (),
    default_order: Sequence[str] | str = (),
    page_size: int = 20,
    max_page_size: int = 100,
    keyset: bool = False,
) -> Callable[..., ListQuery]:
    """A FastAPI dependency reading filters, ordering and a page from the query string.

    Only what the endpoint allows is accepted::

        HeroQuery = Annotated[
            ListQuery,
            Depends(
                list_query(
                    HeroCRUD,
                    filters={"name": ["exact", "icontains"], "age": ["gte", "lte"]},
                    order_by=["name", "created_at"],
                    default_order="name",
                )
            ),
        ]

        @app.get("/heroes")
        async def list_heroes(heroes: Heroes, query: HeroQuery) -> Page[Hero]:
            return await query.paginate(heroes)

    ``GET /heroes?name__icontains=man&age__gte=30&order_by=-created_at&page=2`` then lists the
    second page. The exact lookup is the bare field name (``?name=Deadpond``); ``in`` and
    ``not_in`` take the parameter repeated (``?id__in=1&id__in=2``). An unknown parameter, a
    value of the wrong type, an ordering not allowed or a page below 1 is a 422 whose ``loc``
    names the parameter; the OpenAPI schema lists every allowed one with its type.

    Args:
        crud: The BaseCRUD class of the endpoint, whose model gives the fields' types.
        filters: The filters allowed: field name to lookups (``LOOKUPS``; ``"exact"`` is the
            bare field name).
        order_by: The fields the client may order by; each also descending (``-name``).
        default_order: The ordering when the client gives none (the primary key otherwise).
        page_size: The page size when the client gives none.
        max_page_size: The largest ``page_size`` a client may ask for.
        keyset: Cursor pages (``after``) instead of numbered pages (``page``).

    Raises:
        CRUDDefinitionError: A field, lookup or ordering of the allow-list does not exist, so
            the mistake fails when the app is built, not at the first request.
    """
    info = model_info(crud.model)
    parameters: dict[str, Any] = {}
    for name, lookups in (filters or {}).items():
        for lookup in lookups:
            key, annotation = _filter_parameter(crud, info.annotations, info.columns, name, lookup)
            description = f"Filter: {name} {_WORDS[lookup]}."
            parameters[key] = (annotation, Field(default=None, description=description))
    for name in order_by:
        _check_field(crud, info.columns, name, "order_by")
    defaults = (default_order,) if isinstance(default_order, str) else tuple(default_order)
    for name in defaults:
        _check_field(crud, info.columns, name.removeprefix("-"), "default_order")
    if order_by:
        choices = tuple(sorted({*order_by, *(f"-{name}" for name in order_by)}))
        ordering: Any = list[Literal[choices]] | None  # type: ignore[valid-type]
        allowed = ", ".join(choices)
        parameters["order_by"] = (
            ordering,
            Field(default=None, description=f"Order by (repeatable): {allowed}."),
        )
    size = Field(default=page_size, ge=1, le=max_page_size, description="Rows per page.")
    parameters["page_size"] = (int, size)
    if keyset:
        cursor = Field(default=None, description="The next_cursor of the previous page.")
        parameters["after"] = (str | None, cursor)
    else:
        parameters["page"] = (int, Field(default=1, ge=1, description="Page number, from 1."))
    model = create_model(
        f"{crud.model.__name__}ListQuery",
        __config__=ConfigDict(extra="forbid"),
        **parameters,
    )
    return _dependency(model, defaults)


def _dependency(model: type[BaseModel], default_order: tuple[str, ...]) -> Callable[..., ListQuery]:
    def dependency(**values: Any) -> ListQuery:
        params = values["params"]
        given = params.model_dump(exclude_none=True)
        size = given.pop("page_size")
        page = given.pop("page", 1)
        after = given.pop("after", None)
        order = tuple(given.pop("order_by", ())) or default_order
        return ListQuery(
            filters=given, order_by=order, limit=size, offset=(page - 1) * size, after=after
        )

    # FastAPI reads the parameter from the signature: one query parameter model, so that each
    # field is a query parameter of its own in the OpenAPI schema.
    parameter = inspect.Parameter(
        "params", inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[model, Query()]
    )
    dependency.__signature__ = inspect.Signature([parameter])  # type: ignore[attr-defined]
    return dependency


def _filter_parameter(
    crud: type[BaseCRUD[Any, Any, Any]],
    annotations: Mapping[str, Any],
    columns: Mapping[str, Any],
    name: str,
    lookup: str,
) -> tuple[str, Any]:
    _check_field(crud, columns, name, "filters")
    if lookup not in LOOKUPS:
        msg = (
            f"{crud.__name__}: unknown lookup {lookup!r} for filter {name!r}: "
            f"use one of {', '.join(LOOKUPS)}"
        )
        raise CRUDDefinitionError(msg, crud=crud.__name__, table=crud.model.__tablename__)
    key = name if lookup == "exact" else f"{name}__{lookup}"
    if key in _RESERVED:
        msg = f"{crud.__name__}: filter {key!r} would clash with the page and ordering parameters"
        raise CRUDDefinitionError(msg, crud=crud.__name__, table=crud.model.__tablename__)
    value = _without_none(annotations.get(name, Any))
    if lookup == "isnull":
        value = bool
    elif lookup in _TEXT_LOOKUPS:
        value = str
    elif lookup in ("in", "not_in"):
        value = list[value]  # type: ignore[valid-type]
    return key, value | None


def _check_field(
    crud: type[BaseCRUD[Any, Any, Any]], columns: Mapping[str, Any], name: str, where: str
) -> None:
    if name in columns:
        return
    msg = (
        f"{crud.__name__}: {where} names {name!r}, which is not a field of table "
        f"{crud.model.__tablename__!r}: valid fields are {', '.join(sorted(columns))}"
    )
    raise CRUDDefinitionError(msg, crud=crud.__name__, table=crud.model.__tablename__)


def _without_none(annotation: Any) -> Any:
    """``int | None`` -> ``int``: ``None`` means "not given" in a query string."""
    if get_origin(annotation) in (Union, type(int | None)):
        args = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation
