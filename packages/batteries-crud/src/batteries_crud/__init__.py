"""batteries-crud: a typed, async, generic CRUD layer for SQLModel table models.

Example::

    from batteries_crud import BaseCRUD

    class HeroCRUD(BaseCRUD[Hero, HeroCreate, HeroUpdate]):
        pass

    async with db.session() as session:  # methods flush; the session scope commits
        heroes = HeroCRUD(session)
        hero = await heroes.create(HeroCreate(name="Deadpond"))
        page = await heroes.paginate(name__icontains="dead", order_by=("-created_at",))
"""

from importlib.metadata import version as _version

from batteries_crud._crud import BaseCRUD
from batteries_crud._filters import LOOKUPS
from batteries_crud._pages import CursorPage, Page
from batteries_crud.exceptions import (
    ConflictError,
    CRUDDefinitionError,
    CRUDError,
    InvalidFilterError,
    InvalidValueError,
    MultipleFoundError,
    NotFoundError,
)

__version__ = _version("batteries-crud")

__all__ = [
    "LOOKUPS",
    "BaseCRUD",
    "CRUDDefinitionError",
    "CRUDError",
    "ConflictError",
    "CursorPage",
    "InvalidFilterError",
    "InvalidValueError",
    "MultipleFoundError",
    "NotFoundError",
    "Page",
    "__version__",
]
