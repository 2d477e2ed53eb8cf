"""``INSERT ... OVERRIDING SYSTEM VALUE SELECT``: explicit keys into ``GENERATED ALWAYS`` columns.

PostgreSQL refuses a value for an ``IDENTITY ALWAYS`` column unless the insert says
``OVERRIDING SYSTEM VALUE``, which sits between the column list and the ``SELECT``. SQLAlchemy has
no option for it, so the select of such an insert is an :class:`OverridingSelect`, a ``Select``
that compiles with the clause in front (and caches apart from a plain one).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.selectable import Select

from batteries_fixtures._schema import TableInfo

__all__ = ["OverridingSelect", "select_for"]


class OverridingSelect(Select[Any]):
    """A ``Select`` that an ``INSERT ... FROM SELECT`` prefixes with ``OVERRIDING SYSTEM VALUE``."""

    inherit_cache = True


@compiles(OverridingSelect)
def _compile(element: OverridingSelect, compiler: SQLCompiler, **kw: Any) -> str:
    selected: str = compiler.visit_select(element, **kw)  # type: ignore[no-untyped-call]
    return "OVERRIDING SYSTEM VALUE " + selected


def select_for(info: TableInfo, keys: list[str]) -> type[Select[Any]]:
    """The select class for an insert of columns ``keys`` into ``info``'s table."""
    if any(info.identity.get(key) for key in keys):
        return OverridingSelect
    return Select
