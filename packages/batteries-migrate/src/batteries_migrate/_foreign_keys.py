"""Create a foreign key after its target table when one migration creates both ends of a cycle.

Autogenerate puts every foreign key inside its table's ``op.create_table``. When two new tables
refer to each other (``team.captain_id -> hero``, ``hero.team_id -> team``), one of them refers
to a table that does not exist yet, and PostgreSQL refuses it; ``use_alter=True`` is no help
either, since ``op.create_table`` silently leaves such a key out. So a key that points at a table
created later in the same migration (or that asks for ``use_alter``) is moved to an
``op.create_foreign_key`` after the last table, and dropped first on downgrade.
"""

from __future__ import annotations

from typing import Any

from alembic.operations import ops
from sqlalchemy import ForeignKeyConstraint

__all__ = ["defer_forward_foreign_keys", "drop_tables_after_their_references"]


def _referred_table(constraint: ForeignKeyConstraint) -> str:
    return constraint.elements[0].target_fullname.rsplit(".", 1)[0]


def defer_forward_foreign_keys(
    upgrade_ops: ops.UpgradeOps, downgrade_ops: ops.DowngradeOps
) -> None:
    """Move foreign keys that point forward out of ``create_table`` (see the module docstring)."""
    creates = [op for op in upgrade_ops.ops if isinstance(op, ops.CreateTableOp)]
    position = {
        (f"{op.schema}.{op.table_name}" if op.schema else op.table_name): index
        for index, op in enumerate(creates)
    }
    deferred: list[tuple[ops.CreateTableOp, ForeignKeyConstraint]] = []
    for index, create in enumerate(creates):
        kept: list[Any] = []
        for item in create.columns:
            if isinstance(item, ForeignKeyConstraint) and (
                item.use_alter or position.get(_referred_table(item), -1) > index
            ):
                deferred.append((create, item))
            else:
                kept.append(item)
        create.columns = kept
    for create, constraint in deferred:
        upgrade_ops.ops.append(
            ops.ModifyTableOps(
                create.table_name,
                [ops.CreateForeignKeyOp.from_constraint(constraint)],
                schema=create.schema,
            )
        )
    drops = [
        ops.ModifyTableOps(
            create.table_name,
            [ops.DropConstraintOp.from_constraint(constraint)],
            schema=create.schema,
        )
        for create, constraint in reversed(deferred)
    ]
    downgrade_ops.ops[:0] = drops


def drop_tables_after_their_references(
    upgrade_ops: ops.UpgradeOps, downgrade_ops: ops.DowngradeOps
) -> None:
    """Drop tables after the changes to other tables, and create them before, on downgrade.

    Autogenerate drops a table before it alters the tables that refer to it, so dropping
    ``team`` together with ``hero.team_id`` failed: PostgreSQL refuses to drop a table a foreign
    key depends on, and SQLite's batch copy of ``hero`` reflects a key to a table already gone.
    Its downgrade re-added ``hero.team_id`` with its key before re-creating ``team``.
    """
    upgrade_ops.ops = [
        *(op for op in upgrade_ops.ops if not isinstance(op, ops.DropTableOp)),
        *(op for op in upgrade_ops.ops if isinstance(op, ops.DropTableOp)),
    ]
    downgrade_ops.ops = [
        *(op for op in downgrade_ops.ops if isinstance(op, ops.CreateTableOp)),
        *(op for op in downgrade_ops.ops if not isinstance(op, ops.CreateTableOp)),
    ]
