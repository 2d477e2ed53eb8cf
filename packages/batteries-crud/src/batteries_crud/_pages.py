"""Page types returned by ``paginate`` and ``paginate_keyset``."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict

__all__ = ["CursorPage", "Page"]

ItemT = TypeVar("ItemT")


class Page(BaseModel, Generic[ItemT]):
    """One page of an offset pagination: usable as a FastAPI ``response_model``.

    Attributes:
        items: The rows of this page.
        total: How many rows match the filters, on every page.
        limit: The page size that was asked for.
        offset: How many matching rows come before this page.
    """

    model_config = ConfigDict(frozen=True)

    items: list[ItemT]
    total: int
    limit: int
    offset: int

    @property
    def has_next(self) -> bool:
        """Whether rows follow this page."""
        return self.offset + len(self.items) < self.total


class CursorPage(BaseModel, Generic[ItemT]):
    """One page of a keyset (cursor) pagination.

    Attributes:
        items: The rows of this page.
        limit: The page size that was asked for.
        next_cursor: Pass it as ``after=`` to get the next page; ``None`` on the last page.
    """

    model_config = ConfigDict(frozen=True)

    items: list[ItemT]
    limit: int
    next_cursor: str | None
