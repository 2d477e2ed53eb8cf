"""Turn the difference tuples of Alembic's ``compare_metadata`` into one readable line each."""

from __future__ import annotations

from typing import Any

__all__ = ["describe"]


def describe(diffs: list[Any]) -> list[str]:
    """One line per difference: ``add column hero.age (INTEGER, nullable)``.

    Alembic gives a tuple per table-level change and a list of tuples per changed column.
    """
    lines: list[str] = []
    for diff in diffs:
        if isinstance(diff, list):
            lines.extend(_column_change(change) for change in diff)
        else:
            lines.append(_change(diff))
    return lines


def _change(diff: tuple[Any, ...]) -> str:
    kind = diff[0]
    verb, _, what = kind.partition("_")
    if what == "table":
        return f"{verb} table {_table_name(diff[1])}"
    if what == "column":
        _, schema, table, column = diff
        name = f"{schema}.{table}" if schema else table
        nullable = "nullable" if column.nullable else "not null"
        return f"{verb} column {name}.{column.name} ({column.type}, {nullable})"
    if what in ("index", "constraint", "fk"):
        obj = diff[1]
        table = getattr(getattr(obj, "table", None), "name", "?")
        label = {"index": "index", "fk": "foreign key", "constraint": "constraint"}[what]
        return f"{verb} {label} {obj.name or '(unnamed)'} on {table}"
    return " ".join(str(part) for part in diff)


def _column_change(change: tuple[Any, ...]) -> str:
    kind, schema, table, column, _info, old, new = change
    name = f"{schema}.{table}" if schema else table
    what = kind.removeprefix("modify_").replace("_", " ")
    return f"change {what} of {name}.{column}: {_value(old)} -> {_value(new)}"


def _value(value: Any) -> str:
    text = getattr(value, "text", None)
    if isinstance(text, str):
        return text
    arg = getattr(value, "arg", None)
    if arg is not None:
        return str(getattr(arg, "text", arg))
    return str(value)


def _table_name(table: Any) -> str:
    return str(table.fullname) if getattr(table, "fullname", None) else str(table)
