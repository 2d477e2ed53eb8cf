"""Find, while a revision is generated, the changes that fail on or lose existing rows.

Autogenerate compares schemas, not data, so a revision written against an empty development
database can fail or destroy rows in production:

* a NOT NULL column added to an existing table without a server default fails on every
  database where the table has rows ("column contains null values" / "Cannot add a NOT NULL
  column with default value NULL"). With a literal Python default in the model (``= 0``,
  ``= "draft"``) we do what Django does: the revision adds the column with that value as a
  ``server_default``, which fills the existing rows, then drops the server default (unless the
  model has one). A default computed in Python (``default_factory``) has no SQL equivalent: the
  revision is left as it is and the warning says to edit it.
* a rename is seen as a drop plus a create (a table dropped and one created with similar
  columns, a column dropped and one added in the same table): the rows of the old one are lost.

Each finding is one line naming the table or column and, when the database answers, its rows.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from alembic.operations import ops
from sqlalchemy.exc import SQLAlchemyError

__all__ = [
    "NotNullColumn",
    "fill_not_null_columns",
    "fill_null_values",
    "rows_of_dropped",
    "rows_text",
    "suspected_renames",
]

# Share of column names two tables must have in common to look like one table renamed.
_SIMILAR = 0.5


@dataclass(frozen=True)
class NotNullColumn:
    """A NOT NULL column added to an existing table.

    Attributes:
        name: ``table.column``.
        rows: Rows of the table in the database it was generated against, when known.
        filled_with: The SQL literal that fills existing rows, or ``None`` when the revision
            must be edited.
    """

    name: str
    rows: int | None
    filled_with: str | None
    altered: bool = False

    def describe(self, path: str) -> str:
        """One line for the warning."""
        rows = "" if self.rows is None else f" ({_rows(self.rows)} now)"
        if self.altered:
            nulls = "" if self.rows is None else f" ({self.rows} NULL now)"
            if self.filled_with is not None:
                return (
                    f"column {self.name} becomes NOT NULL{nulls}: the revision first sets its "
                    f"NULLs to the model's default {self.filled_with}"
                )
            return (
                f"column {self.name} becomes NOT NULL{nulls} and the model has no default SQL "
                f"can use: the revision fails where it holds NULL; edit {path} to fill them first "
                "(op.execute('UPDATE ... WHERE ... IS NULL'))"
            )
        if self.filled_with is not None:
            return (
                f"NOT NULL column {self.name} is added to an existing table{rows}: the revision "
                f"fills its rows with the model's default {self.filled_with} (a server default, "
                "dropped again right after); check that this value is right for old rows"
            )
        return (
            f"NOT NULL column {self.name} is added without a default that SQL can use, so the "
            f"revision fails on a table with rows{rows}: edit {path} to give it "
            "server_default=..., or make it nullable, fill it, then alter it to NOT NULL"
        )


def fill_not_null_columns(context: Any, upgrade_ops: ops.UpgradeOps) -> list[NotNullColumn]:
    """Give each NOT NULL column added to an existing table the model's literal default.

    Args:
        context: The ``MigrationContext`` of autogenerate (its dialect and connection).
        upgrade_ops: The operations of the revision; changed in place.
    """
    found: list[NotNullColumn] = []
    position = 0
    while position < len(upgrade_ops.ops):
        table_ops = upgrade_ops.ops[position]
        position += 1
        if not isinstance(table_ops, ops.ModifyTableOps):
            continue
        drop_defaults: list[ops.AlterColumnOp] = []
        for index, op in enumerate(table_ops.ops):
            if not isinstance(op, ops.AddColumnOp) or not _needs_default(op.column):
                continue
            name = f"{op.table_name}.{op.column.name}"
            literal = _literal_default(context, op.column)
            found.append(NotNullColumn(name, _count(context, op.table_name, op.schema), literal))
            if literal is None:
                continue
            column = op.column._copy()  # never change the model's own Column
            sa.schema.DefaultClause(sa.text(literal))._set_parent(column)
            table_ops.ops[index] = ops.AddColumnOp(op.table_name, column, schema=op.schema)
            drop_defaults.append(
                ops.AlterColumnOp(
                    op.table_name,
                    column.name,
                    schema=op.schema,
                    existing_type=column.type,
                    existing_nullable=False,
                    existing_server_default=sa.text(literal),
                    modify_server_default=None,
                )
            )
        if drop_defaults:
            # A block of its own: in one SQLite batch (one table copy) the default would be gone
            # before the copy fills the existing rows.
            after = ops.ModifyTableOps(table_ops.table_name, drop_defaults, schema=table_ops.schema)
            upgrade_ops.ops.insert(position, after)
            position += 1
    return found


def fill_null_values(context: Any, upgrade_ops: ops.UpgradeOps) -> list[NotNullColumn]:
    """Before a column becomes NOT NULL, set its NULLs to the model's literal default.

    Args:
        context: The ``MigrationContext`` of autogenerate (dialect, connection, metadata).
        upgrade_ops: The operations of the revision; changed in place.
    """
    found: list[NotNullColumn] = []
    result: list[Any] = []
    for table_ops in upgrade_ops.ops:
        if isinstance(table_ops, ops.ModifyTableOps):
            for op in table_ops.ops:
                if not (
                    isinstance(op, ops.AlterColumnOp)
                    and op.modify_nullable is False
                    and op.existing_nullable is not False
                ):
                    continue
                name = f"{op.table_name}.{op.column_name}"
                model = _model_column(context, op.table_name, op.column_name, op.schema)
                literal = _literal_default(context, model) if model is not None else None
                nulls = _count(context, op.table_name, op.schema, null_in=op.column_name)
                found.append(NotNullColumn(name, nulls, literal, altered=True))
                if literal is not None:
                    result.append(ops.ExecuteSQLOp(_fill(context, op, literal)))
        result.append(table_ops)
    upgrade_ops.ops = result
    return found


def rows_of_dropped(context: Any, upgrade_ops: ops.UpgradeOps) -> dict[str, int]:
    """Rows at risk per dropped table or column (``{"table hero": 2}``), when known."""
    found: dict[str, int] = {}
    for op in upgrade_ops.ops:
        if isinstance(op, ops.DropTableOp):
            rows = _count(context, op.table_name, op.schema)
            if rows is not None:
                found[f"table {op.table_name}"] = rows
        elif isinstance(op, ops.ModifyTableOps):
            for inner in op.ops:
                if isinstance(inner, ops.DropColumnOp):
                    rows = _count(context, op.table_name, op.schema)
                    if rows is not None:
                        found[f"column {op.table_name}.{inner.column_name}"] = rows
    return found


def suspected_renames(context: Any, upgrade_ops: ops.UpgradeOps) -> list[str]:
    """One line per drop + create pair that looks like a rename, naming the rows at risk."""
    found: list[str] = []
    drops = [op for op in upgrade_ops.ops if isinstance(op, ops.DropTableOp)]
    creates = [op for op in upgrade_ops.ops if isinstance(op, ops.CreateTableOp)]
    for drop in drops:
        # Primary keys left out: every table has an ``id``, which says nothing about a rename.
        old = {c.name for c in drop.to_table().columns if not c.primary_key}
        for create in creates:
            new = {c.name for c in create.columns if isinstance(c, sa.Column) and not c.primary_key}
            if old and new and len(old & new) / len(old | new) >= _SIMILAR:
                rows = _count(context, drop.table_name, drop.schema)
                found.append(
                    f"table {drop.table_name}{_rows_of(rows)} is dropped and table "
                    f"{create.table_name} created with similar columns: if it was renamed, "
                    f"replace both with op.rename_table({drop.table_name!r}, "
                    f"{create.table_name!r}) or its rows are lost"
                )
    for table_ops in upgrade_ops.ops:
        if not isinstance(table_ops, ops.ModifyTableOps):
            continue
        dropped = [op for op in table_ops.ops if isinstance(op, ops.DropColumnOp)]
        added = [op for op in table_ops.ops if isinstance(op, ops.AddColumnOp)]
        if not dropped or not added:
            continue
        rows = _count(context, table_ops.table_name, table_ops.schema)
        added_names = ", ".join(f"{table_ops.table_name}.{op.column.name}" for op in added)
        for column in dropped:
            found.append(
                f"column {table_ops.table_name}.{column.column_name}{_rows_of(rows)} is dropped "
                f"and {added_names} added: if it was renamed, use op.alter_column("
                f"{table_ops.table_name!r}, {column.column_name!r}, new_column_name=...) or its "
                "values are lost"
            )
    return found


def _needs_default(column: sa.Column[Any]) -> bool:
    return (
        not column.nullable
        and column.server_default is None
        and not column.primary_key
        and column.computed is None
        and column.identity is None
    )


def _literal_default(context: Any, column: sa.Column[Any]) -> str | None:
    """The model's scalar default as SQL for this dialect (``0``, ``'draft'``, ``true``)."""
    default = column.default
    if default is None or not getattr(default, "is_scalar", False):
        return None
    value = default.arg  # type: ignore[attr-defined]
    try:
        compiled = sa.literal(value, type_=column.type).compile(
            dialect=context.dialect, compile_kwargs={"literal_binds": True}
        )
    except (SQLAlchemyError, TypeError, ValueError, NotImplementedError):
        return None
    return str(compiled)


def _model_column(
    context: Any, table: str, column: str, schema: str | None
) -> sa.Column[Any] | None:
    metadata = context.opts.get("target_metadata")
    key = f"{schema}.{table}" if schema else table
    for meta in metadata if isinstance(metadata, list) else [metadata] if metadata else []:
        found = meta.tables.get(key)
        if found is not None and column in found.c:
            return found.c[column]  # type: ignore[no-any-return]
    return None


def _fill(context: Any, op: ops.AlterColumnOp, literal: str) -> str:
    quote = context.dialect.identifier_preparer.quote
    table = quote(op.table_name) if not op.schema else f"{quote(op.schema)}.{quote(op.table_name)}"
    column = quote(op.column_name)
    return f"UPDATE {table} SET {column} = {literal} WHERE {column} IS NULL"


def _count(
    context: Any, table: str, schema: str | None, *, null_in: str | None = None
) -> int | None:
    connection = getattr(context, "connection", None)
    if connection is None:
        return None
    statement = sa.select(sa.func.count()).select_from(sa.table(table, schema=schema))
    if null_in is not None:
        statement = statement.where(sa.column(null_in).is_(None))
    # In a savepoint: on PostgreSQL a failed read would abort autogenerate's transaction.
    with contextlib.suppress(SQLAlchemyError), connection.begin_nested():
        return int(connection.execute(statement).scalar() or 0)
    return None


def _rows(count: int) -> str:
    return f"{count} row{'' if count == 1 else 's'}"


def rows_text(count: int) -> str:
    """``1 row``, ``2 rows``."""
    return _rows(count)


def _rows_of(count: int | None) -> str:
    return "" if count is None else f" ({_rows(count)})"
