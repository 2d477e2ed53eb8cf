"""FastAPI integration: map batteries-crud errors to HTTP responses.

Needs the ``fastapi`` extra (``pip install 'batteries-crud[fastapi]'``)::

    from fastapi import Depends, FastAPI
    from batteries_crud.fastapi import crud_dependency, install_exception_handlers

    app = FastAPI(lifespan=batteries_lifespan())
    install_exception_handlers(app)
    Heroes = Annotated[HeroCRUD, Depends(crud_dependency(HeroCRUD))]

    @app.get("/heroes/{hero_id}")
    async def get_hero(hero_id: int, heroes: Heroes) -> Hero:
        return await heroes.get_or_raise(hero_id)

    HeroQuery = Annotated[ListQuery, Depends(list_query(HeroCRUD, filters={"name": ["icontains"]}))]

    @app.get("/heroes")  # ?name__icontains=man&page=2: filters from an allow-list
    async def list_heroes(heroes: Heroes, query: HeroQuery) -> Page[Hero]:
        return await query.paginate(heroes)

=======================  ======  =====================================================
error                    status  body
=======================  ======  =====================================================
``NotFoundError``        404     ``{"detail": ..., "table": ...}``
``ConflictError``        409     ``{"detail": ..., "table", "kind", "constraint", "columns"}``
``InvalidFilterError``   422     ``{"detail": ..., "table": ..., "field": ...}``
``InvalidValueError``    422     ``{"detail": ..., "table", "field", "reason", "errors"}``
=======================  ======  =====================================================

``errors`` lists pydantic's field errors (``loc``, ``msg``, ``type``) when a value did not
validate. A key no row can have (``GET /heroes/1000000000000000000000000000000`` for an
INTEGER key) is not an error of the request's shape: ``get_or_raise`` answers 404.

The handler runs after the error left the endpoint, so ``SessionDep`` has already rolled the
transaction back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

try:
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse
except ImportError as exc:  # pragma: no cover - exercised by the install-alone check
    from batteries_models import extra_requirement
    from batteries_models.exceptions import MissingDriverError

    _extra = extra_requirement("batteries-crud", "fastapi")
    _msg = f"batteries_crud.fastapi needs FastAPI: pip install '{_extra}'"
    raise MissingDriverError(_msg, driver="fastapi", extra=_extra) from exc

from batteries_crud._crud import BaseCRUD
from batteries_crud._query_params import ListQuery, list_query
from batteries_crud.exceptions import (
    ConflictError,
    InvalidFilterError,
    InvalidValueError,
    NotFoundError,
)
from batteries_models.fastapi import SessionDep

__all__ = [
    "ListQuery",
    "crud_dependency",
    "error_body",
    "install_exception_handlers",
    "list_query",
]

CRUDT = TypeVar("CRUDT", bound=BaseCRUD[Any, Any, Any])


def crud_dependency(crud: type[CRUDT]) -> Callable[..., CRUDT]:
    """Build a dependency that gives an endpoint ``crud(session)`` on the request's session.

    The session is ``SessionDep``'s (the default database), so an endpoint that also asks for
    ``SessionDep`` works in the same session and transaction. For a named database, write the
    three lines yourself with ``session_dependency("name")``.
    """

    def dependency(session: SessionDep) -> CRUDT:
        return crud(session)

    dependency.__name__ = f"get_{crud.__name__}"
    return dependency


_HANDLED = (NotFoundError, ConflictError, InvalidFilterError, InvalidValueError)


def error_body(
    exc: NotFoundError | ConflictError | InvalidFilterError | InvalidValueError,
) -> dict[str, Any]:
    """The JSON body the handlers send for ``exc``: its message and structured attributes."""
    body: dict[str, Any] = {"detail": str(exc), "table": exc.table}
    if isinstance(exc, ConflictError):
        body.update(kind=exc.kind, constraint=exc.constraint, columns=list(exc.columns))
    elif isinstance(exc, InvalidFilterError):
        body["field"] = exc.field
    elif isinstance(exc, InvalidValueError):
        body.update(field=exc.field, reason=exc.reason, errors=list(exc.errors))
    return body


def _status(exc: Exception) -> int:
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, ConflictError):
        return 409
    return 422


async def _handle(_request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, _HANDLED):  # pragma: no cover
        raise exc
    return JSONResponse(error_body(exc), status_code=_status(exc))


def install_exception_handlers(app: FastAPI) -> None:
    """Answer ``NotFoundError`` with 404, ``ConflictError`` 409, invalid input with 422.

    Invalid input is ``InvalidFilterError`` (a filter, ordering, page or cursor) and
    ``InvalidValueError`` (a value to write).
    """
    for error in _HANDLED:
        app.add_exception_handler(error, _handle)
