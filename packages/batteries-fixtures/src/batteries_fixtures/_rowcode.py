"""Compile a table's fast row function: the converter's plain path as one Python function.

A load converts every record of a fixture; per column, a loop over a plan, a call of the
column's decoder and a call of its bind step cost more than the work itself. For a table whose
records have one plain ``pk`` and exactly the table's other columns as fields (what a dump
writes), the same work is written out once as straight-line source, with the decoders' plain
cases inline (``type(v) is int and ... <= v <= ...``), as ``dataclasses`` and ``attrs`` do
for their generated methods. Anything else, a value outside the plain case included, takes the
column's own decoder or the converter's full path, so values and errors stay the codecs'.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from batteries_fixtures._codecs import inline_form
from batteries_fixtures._readers import MISSING, RawRecord

__all__ = ["FastColumn", "RowFunction", "compile_row"]

RowFunction = Callable[[RawRecord, int], tuple[Any, ...]]
"""``row(record, file_index)``: the record's staged row, as the driver takes it."""


class FastColumn(NamedTuple):
    """One column of the fast path.

    Attributes:
        key: The field's key, or ``None`` for the primary key (the record's ``pk``).
        decode: The column's decode-and-bind function (the whole step, plain case or not).
        nullable: Whether ``null`` is written as NULL here (else the full path refuses it).
        plain: The decoder whose plain case is inlined, when ``decode`` is that decoder
            followed by ``bind`` (or is that decoder itself, ``bind`` then ``None``).
        bind: The bind step applied to the plain case's value, or ``None``.
    """

    key: str | None
    decode: Callable[[Any], Any]
    nullable: bool
    plain: Callable[[Any], Any] | None = None
    bind: Callable[[Any], Any] | None = None


def compile_row(
    columns: Sequence[FastColumn],
    fields: frozenset[str],
    middle: tuple[Any, ...],
    after: tuple[Any, ...],
    slow: RowFunction,
) -> RowFunction:
    """The fast row function of a table with these ``columns``.

    Args:
        columns: The table's columns, in staging order.
        fields: The field keys a record must have, exactly, to take the fast path.
        middle: Staged values between the table's columns and the file number (the same for
            every record on the fast path).
        after: Staged values after the record number.
        slow: The full path, for every record or value the fast path does not take.
    """
    names: dict[str, Any] = {
        "MISSING": MISSING,
        "FIELDS": fields,
        "slow": slow,
        "MIDDLE": middle,
        "AFTER": after,
    }
    lines = [
        "def row(record, file_index):",
        "    pk = record[4]",
        "    f = record[5]",
        "    if pk is None or pk is MISSING or f.keys() != FIELDS:",
        "        return slow(record, file_index)",
        "    try:",
    ]
    for i, column in enumerate(columns):
        names[f"d{i}"] = column.decode
        lines.append("        v = pk" if column.key is None else f"        v = f[{column.key!r}]")
        inline = inline_form(column.plain) if column.plain is not None else None
        if inline is not None:
            local = {name: f"n{i}_{name}" for name in inline.names}
            names.update({local[name]: obj for name, obj in inline.names.items()})
            value = inline.value.format(**local)
            if column.bind is not None:
                names[f"b{i}"] = column.bind
                value = f"b{i}({value})"
            lines.append(f"        if {inline.test.format(**local)}:")
            lines.append(f"            c{i} = {value}")
            lines.append("        elif v is None:")
        else:
            lines.append("        if v is None:")
        on_null = f"c{i} = None" if column.nullable else "return slow(record, file_index)"
        lines.append(f"            {on_null}")
        lines.append("        else:")
        lines.append(f"            c{i} = d{i}(v)")
    lines += [
        "    except (TypeError, ValueError, ArithmeticError):",
        "        # The full path names the record and field, or finds the value fine after all.",
        "        return slow(record, file_index)",
        "    return ("
        + "".join(f"c{i}, " for i in range(len(columns)))
        + "*MIDDLE, file_index, record[1], *AFTER)",
    ]
    namespace: dict[str, Any] = {}
    exec(compile("\n".join(lines), "<batteries-fixtures row>", "exec"), names, namespace)
    function: RowFunction = namespace["row"]
    return function
