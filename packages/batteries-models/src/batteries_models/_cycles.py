"""Break foreign-key cycles the way SQLAlchemy asks: ``use_alter=True`` on one key of each.

Two tables that refer to each other (``team.captain_id -> hero``, ``hero.team_id -> team``)
cannot be sorted: ``MetaData.sorted_tables`` (which Alembic's autogenerate reads) and
``drop_all`` on SQLite warn "Cannot correctly sort tables" at every command. SQLAlchemy's own
answer is to mark one key of the cycle ``use_alter=True``: it is then left out of the sort,
created by ``ALTER TABLE`` after the tables on PostgreSQL (inline on SQLite, which has no such
ALTER) and dropped before them. A key the models already mark is respected.
"""

from __future__ import annotations

from sqlalchemy import ForeignKeyConstraint, MetaData, Table
from sqlalchemy.schema import sort_tables_and_constraints

__all__ = ["break_cycles"]


def break_cycles(metadata: MetaData) -> list[ForeignKeyConstraint]:
    """Mark one key of each cycle of ``metadata`` ``use_alter=True``; return the keys marked.

    The key chosen is the first by table name, then column names, among the keys still in a
    cycle, until none is left: the same schema always gets the same choice.
    """
    marked: list[ForeignKeyConstraint] = []
    while True:
        # Without _warn_for_cycles this call is silent; its last entry holds the keys in cycles.
        left = [
            constraint
            for table, constraints in _sorted(metadata)
            if table is None
            for constraint in constraints
            # A key to its own table sorts fine (and lands here all the same).
            if not constraint.use_alter and constraint.referred_table is not constraint.table
        ]
        if not left:
            return marked
        first = min(left, key=_sort_key)
        first.use_alter = True
        marked.append(first)


_Sorted = list[tuple[Table | None, list[ForeignKeyConstraint]]]


def _sorted(metadata: MetaData) -> _Sorted:
    tables = metadata.tables.values()
    found: _Sorted = sort_tables_and_constraints(tables)  # type: ignore[no-untyped-call]
    return found


def _sort_key(constraint: ForeignKeyConstraint) -> tuple[str, tuple[str, ...]]:
    table = constraint.table.fullname if constraint.table is not None else ""
    return table, tuple(column.name for column in constraint.columns)
