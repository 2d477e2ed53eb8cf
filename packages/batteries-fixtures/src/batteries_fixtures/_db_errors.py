"""Turn what the database refused into a fixture error that names the table and constraint."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from batteries_fixtures._schema import Schema
from batteries_fixtures.exceptions import FixtureIntegrityError
from batteries_models import mask_url

__all__ = ["first_line", "integrity_error"]


def first_line(exc: BaseException) -> str:
    """The first line of the driver's message (or of ``exc``), or its type when it is empty."""
    orig = getattr(exc, "orig", None) or exc
    text_ = str(orig).strip().splitlines()
    return text_[0] if text_ else type(orig).__name__


def integrity_error(
    exc: IntegrityError, table: str | None, schema: Schema
) -> FixtureIntegrityError:
    """A :class:`FixtureIntegrityError` naming the table, constraint and detail of ``exc``."""
    cause = getattr(exc.orig, "__cause__", None)
    constraint = getattr(cause, "constraint_name", None)
    table = getattr(cause, "table_name", None) or table
    detail = getattr(cause, "detail", None)
    message = first_line(exc)
    if constraint is None:
        constraint = _sqlite_constraint(message, schema)
    parts = [f"The database refused the fixture: {message}"]
    if table:
        parts.append(f"table {table!r}")
    if constraint:
        parts.append(f"constraint {constraint!r}")
    if detail:
        parts.append(str(detail).replace("\n", " "))
    msg = "; ".join(parts) + "; nothing was written"
    return FixtureIntegrityError(mask_url(msg), table=table, constraint=constraint)


def _sqlite_constraint(message: str, schema: Schema) -> str | None:
    """SQLite names columns (``UNIQUE constraint failed: t.a, t.b``); find the constraint."""
    kind, _, rest = message.partition(" constraint failed: ")
    if not rest:
        return None
    if kind in ("UNIQUE", "PRIMARY KEY"):
        names = [part.strip() for part in rest.split(",")]
        table_name = names[0].rsplit(".", 1)[0]
        columns = {n.rsplit(".", 1)[-1] for n in names}
        info = schema.tables.get(table_name)
        if info is not None:
            for constraint in info.table.constraints:
                cols = {c.name for c in getattr(constraint, "columns", [])}
                if cols == columns and constraint.name:
                    return str(constraint.name)
            for index in info.table.indexes:
                if index.unique and {c.name for c in index.columns} == columns and index.name:
                    return str(index.name)
        return rest
    return rest
