"""Reflect every PostgreSQL type a table can hold as a real type, never ``NullType``.

SQLAlchemy's PostgreSQL dialect names the types it knows in ``ischema_names``; any other type
(``point``, ``xml``, ``pg_lsn``, an extension's ``ltree``) reflects as ``NullType``, with a
warning on every command. Before reflecting, the base, range, multirange and composite types
of the database are added to that dialect's ``ischema_names`` as :class:`PgTextType`: fixtures
move their values as PostgreSQL's text, as pg_dump does. ``"char"`` is among them: SQLAlchemy
reads it as ``String``, but asyncpg hands it over as bytes.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import MetaData, text
from sqlalchemy.dialects.postgresql import DOMAIN
from sqlalchemy.engine import Connection
from sqlalchemy.types import ARRAY, OperatorClass, UserDefinedType

__all__ = ["PgTextType", "give_domains_operators", "register_types"]


class PgTextType(UserDefinedType[str]):
    """A PostgreSQL type known by name only; fixtures move its values as text.

    Args:
        name: The type's name as ``format_type`` writes it (``point``, ``public.ltree``).
        args: Its modifiers, if any (``geometry(Point, 4326)``).
    """

    cache_ok = True
    operator_classes = OperatorClass.BASE | OperatorClass.COMPARISON

    def __init__(self, name: str, *args: Any, **_options: Any) -> None:
        self.name = name
        self.args = tuple(str(a) for a in args)

    def get_col_spec(self, **_kw: Any) -> str:
        """The type as DDL writes it."""
        return f"{self.name}({', '.join(self.args)})" if self.args else self.name

    def __repr__(self) -> str:
        return f"PgTextType({self.name!r})"


# Types a table can hold that SQLAlchemy's dialect does not name: base types outside arrays
# (a "[]" name is an array's), ranges, multiranges and composites.
_TYPES = text(
    "SELECT format_type(t.oid, NULL) FROM pg_type t "
    "WHERE t.typtype IN ('b', 'r', 'm', 'c') AND t.typisdefined "
    "AND format_type(t.oid, NULL) NOT LIKE '%[]' "
    "ORDER BY 1"
)
_OVERRIDDEN = ('"char"',)  # named by SQLAlchemy, but not as what asyncpg returns


def register_types(sync: Connection) -> None:
    """Add the database's types SQLAlchemy does not know to the dialect's ``ischema_names``."""
    dialect: Any = sync.dialect
    known: dict[str, Any] = dict(dialect.ischema_names)
    added = False
    for (name,) in sync.execute(_TYPES):
        key = str(name).lower()
        if key in known and key not in _OVERRIDDEN:
            continue
        if isinstance(known.get(key), _Factory):
            continue
        known[key] = _Factory(str(name))
        added = True
    if added:
        # The dialect's own dict: class-level in SQLAlchemy, so other engines are left alone.
        dialect.ischema_names = known


class _Factory:
    """Builds the :class:`PgTextType` of one name, as ``ischema_names`` entries are called."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, *args: Any, **options: Any) -> PgTextType:
        return PgTextType(self.name, *args, **options)


def give_domains_operators(metadata: MetaData) -> None:
    """Let reflected domains compare like their base type.

    SQLAlchemy's ``DOMAIN`` declares no operator classes, so every comparison of a domain
    column (a key join, a look-up) warns that this will soon be an error.
    """
    for table in metadata.tables.values():
        for column in table.columns:
            type_: Any = column.type
            if isinstance(type_, ARRAY):
                type_ = type_.item_type
            chain = []
            while isinstance(type_, DOMAIN):  # a domain over a domain over...
                chain.append(type_)
                type_ = type_.data_type
            for domain in chain:
                # An instance attribute: this domain object only, not SQLAlchemy's class.
                setattr(domain, "operator_classes", type_.operator_classes)  # noqa: B010
