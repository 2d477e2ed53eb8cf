"""Give PostgreSQL the ``USING`` clause a column type change needs.

``ALTER COLUMN age TYPE INTEGER`` on a ``VARCHAR`` column fails on PostgreSQL ("cannot be cast
automatically ... You might need to specify USING age::integer"), and autogenerate never writes
``postgresql_using``: the revision (or its downgrade) failed on the database it was generated
for. Each type change on PostgreSQL becomes an ``alter_column(..., postgresql_using=
"age::INTEGER")``; values that cannot be cast still fail, now with the cast named in the file.
"""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import renderers
from alembic.autogenerate.api import AutogenContext
from alembic.operations import ops

__all__ = ["AlterColumnUsingOp", "add_postgresql_using"]


class AlterColumnUsingOp(ops.AlterColumnOp):
    """An ``AlterColumnOp`` rendered with ``postgresql_using``."""

    using: str = ""


@renderers.dispatch_for(AlterColumnUsingOp)
def _render(autogen_context: AutogenContext, op: AlterColumnUsingOp) -> str:
    stock = renderers.dispatch(ops.AlterColumnOp)  # Alembic's own renderer, extended here
    text = str(stock(autogen_context, op)).rstrip()
    return f"{text[:-1].rstrip().rstrip(',')}, postgresql_using={op.using!r})"


def add_postgresql_using(context: Any, container: Any) -> None:
    """Replace each type-changing ``AlterColumnOp`` of ``container`` (PostgreSQL only)."""
    if context.dialect.name != "postgresql":
        return
    quote = context.dialect.identifier_preparer.quote
    for table_ops in container.ops:
        if not isinstance(table_ops, ops.ModifyTableOps):
            continue
        for index, op in enumerate(table_ops.ops):
            if not isinstance(op, ops.AlterColumnOp) or op.modify_type is None:
                continue
            using = AlterColumnUsingOp(
                op.table_name,
                op.column_name,
                schema=op.schema,
                existing_type=op.existing_type,
                existing_server_default=op.existing_server_default,
                existing_nullable=op.existing_nullable,
                existing_comment=op.existing_comment,
                modify_nullable=op.modify_nullable,
                modify_comment=op.modify_comment,
                modify_server_default=op.modify_server_default,
                modify_name=op.modify_name,
                modify_type=op.modify_type,
                **op.kw,
            )
            kind = op.modify_type.compile(dialect=context.dialect)
            using.using = f"{quote(op.column_name)}::{kind}"
            table_ops.ops[index] = using
