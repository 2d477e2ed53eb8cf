"""``Revision``: what the commands return about one revision file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Revision"]


@dataclass(frozen=True)
class Revision:
    """One revision of a migrations folder.

    Attributes:
        id: The revision id (``"3f2a1c9d8e7b"``).
        down_revisions: The revisions it follows: none for the first one, two for a merge.
        message: The message it was written with (``-m``).
        path: The revision file.
        branch_labels: Its branch labels, if any.
        is_head: Whether no revision follows it.
        is_merge: Whether it joins several revisions.
        is_branch_point: Whether several revisions follow it.
    """

    id: str
    down_revisions: tuple[str, ...]
    message: str
    path: Path
    branch_labels: tuple[str, ...] = ()
    is_head: bool = False
    is_merge: bool = False
    is_branch_point: bool = False

    @classmethod
    def from_script(cls, script: Any) -> Revision:
        """Build a ``Revision`` from an Alembic ``Script``."""
        down = script.down_revision
        downs: tuple[str, ...] = (
            () if down is None else (down,) if isinstance(down, str) else tuple(down)
        )
        return cls(
            id=script.revision,
            down_revisions=downs,
            message=(script.doc or "").strip(),
            path=Path(script.path),
            branch_labels=tuple(sorted(script.branch_labels or ())),
            is_head=bool(script.is_head),
            is_merge=bool(script.is_merge_point),
            is_branch_point=bool(script.is_branch_point),
        )

    def __str__(self) -> str:
        parents = ", ".join(self.down_revisions) or "<base>"
        flags = [name for name, on in (("head", self.is_head), ("merge", self.is_merge)) if on]
        suffix = f" ({', '.join(flags)})" if flags else ""
        return f"{parents} -> {self.id}{suffix}, {self.message}"
