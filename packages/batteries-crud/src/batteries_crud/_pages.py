"""Page types returned by ``paginate`` and ``paginate_keyset``."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, computed_field

__all__ = ["CursorPage", "Page"]

ItemT = TypeVar("ItemT")


class Page(BaseModel, Generic[ItemT]):
    """One page of an offset pagination: usable as a FastAPI ``response_model``.

    ``has_next`` and ``has_previous`` are computed fields: they are in the JSON and in the
    OpenAPI schema of a response, as every other field is.

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

    @computed_field  # type: ignore[prop-decorator]
    @property
    def has_next(self) -> bool:
        """Whether rows follow this page."""
        return self.offset + len(self.items) < self.total

    @computed_field  # type: ignore[prop-decorator]
    @property
    def has_previous(self) -> bool:
        """Whether rows come before this page."""
        return self.offset > 0 and self.total > 0


class CursorPage(BaseModel, Generic[ItemT]):
    """One page of a keyset (cursor) pagination.

    ``has_next`` is a computed field, in the JSON and the OpenAPI schema of a response.

    Attributes:
        items: The rows of this page.
        limit: The page size that was asked for.
        next_cursor: Pass it as ``after=`` to get the next page; ``None`` on the last page.
    """

    model_config = ConfigDict(frozen=True)

    items: list[ItemT]
    limit: int
    next_cursor: str | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def has_next(self) -> bool:
        """Whether rows follow this page: ``next_cursor`` is set."""
        return self.next_cursor is not None
