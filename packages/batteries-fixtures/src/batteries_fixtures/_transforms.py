"""Transforms of a dump or load: the rules that apply, planned once per table, run per record.

Rules come from four places, later ones winning for the same target: a model's
``__fixture_transforms__`` (or a ``Table``'s ``info["fixture_transforms"]``), rules registered in
Python (:mod:`batteries_fixtures.transforms`), ``[tool.batteries.fixtures.transforms]``, and the
``transforms`` a call passes. A target is ``"table"`` (a record transform, or ``"drop"``) or
``"table.column"`` (a value transform: a built-in scrubber or a function).

A value transform on a column that foreign keys point at runs on those foreign keys too, with the
very same function, and on natural keys written in its place: references keep pointing at the
same rows. With ``scrub``, the leak guard refuses columns that look personal and have no rule.
"""

from __future__ import annotations

import difflib
import importlib
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Column

from batteries_fixtures._readers import MISSING, RawRecord
from batteries_fixtures._schema import Schema, TableInfo
from batteries_fixtures._scrubbers import SCRUBBERS, ColumnFunction, Keyed, is_unique
from batteries_fixtures.exceptions import FixtureSchemaError, FixtureValueError
from batteries_models import BatteriesSettings

__all__ = [
    "REGISTERED",
    "FixtureRecord",
    "Rule",
    "TablePlan",
    "Transforms",
    "plan_transforms",
]

Rule = str | Mapping[str, Any] | Callable[..., Any]
"""A rule: a scrubber's name, ``"drop"``, ``"module:function"``, ``{"scrub": ..., options}``
or a function."""

REGISTERED: dict[str, Rule] = {}
"""Rules registered in Python, by target (see :func:`batteries_fixtures.transforms.register`)."""

_SETTINGS_KEY = "transforms"

# Column names that look personal: any of these words in the name (split at '_', '-', digits,
# camelCase), or the name containing one of the stems.
_PERSONAL_WORDS = frozenset(
    [
        "email",
        "mail",
        "phone",
        "mobile",
        "cell",
        "fax",
        "tel",
        "telephone",
        "name",
        "firstname",
        "lastname",
        "surname",
        "fullname",
        "username",
        "nickname",
        "forename",
        "address",
        "addr",
        "street",
        "city",
        "zip",
        "zipcode",
        "postcode",
        "postal",
        "birth",
        "birthday",
        "birthdate",
        "dob",
        "ip",
        "ssn",
        "passport",
        "iban",
        "card",
        "cc",
        "salary",
        "gender",
        "nationality",
        "latitude",
        "longitude",
        "lat",
        "lon",
        "lng",
        "geo",
        "location",
        "tax",
        "vat",
        "license",
        "licence",
        "national",
    ]
)
_PERSONAL_STEMS = ("email", "phone", "birth", "address", "passport", "surname")


@dataclass(slots=True)
class FixtureRecord:
    """One record as a transform sees it, in the fixture's JSON form.

    Attributes:
        table: The table's name (``schema.table`` in a schema); read-only for a transform.
        pk: The primary key: a value, a ``{column: value}`` mapping for a composite key, or
            :data:`~batteries_fixtures.formats.MISSING` when the record has none (a table
            without a primary key, ``--natural-primary``).
        fields: Every other column by key, in the JSON form of its codec (ISO 8601 text for a
            date, a string for a ``Decimal``...); a natural-key reference is a list.
    """

    table: str
    pk: Any
    fields: dict[str, Any]


RecordFunction = Callable[[FixtureRecord], "FixtureRecord | None"]


@dataclass
class TablePlan:
    """What to run on each record of one table, decided once.

    Attributes:
        name: The table.
        pk_keys: Its primary-key column keys (a one-column key is the record's bare ``pk``).
        records: Record functions, in order, with the label errors show.
        values: The value function of each column that has one, with its label.
        natural: For references written as a natural key (a list), the function of that key.
    """

    name: str
    pk_keys: tuple[str, ...] = ()
    records: list[tuple[str, RecordFunction]] = field(default_factory=list)
    values: dict[str, tuple[str, ColumnFunction]] = field(default_factory=dict)
    natural: dict[str, tuple[str, ColumnFunction]] = field(default_factory=dict)

    def apply(self, record: FixtureRecord) -> FixtureRecord | None:
        """Run the record functions, then the value functions; ``None``: drop the record.

        The primary key is transformed last, so a value function (``date_shift``) reads the
        record's original key.

        Raises:
            _Failed: A transform raised; carries its label and the field.
        """
        for label, function in self.records:
            try:
                result = function(record)
            except Exception as exc:
                raise _Failed(label, None, exc) from exc
            if result is None:
                return None
            record = result
        fields = record.fields
        for key in self.values.keys() | self.natural.keys():
            if key in fields:
                fields[key] = self._value(key, fields[key], record)
        pk = record.pk
        if isinstance(pk, dict):
            record.pk = {key: self._value(key, value, record) for key, value in pk.items()}
        elif pk is not MISSING and len(self.pk_keys) == 1:
            record.pk = self._value(self.pk_keys[0], pk, record)
        return record

    def on_dump(self, record: dict[str, Any]) -> dict[str, Any] | None:
        """Transform a record a dump is about to write (``{"table", "pk"?, "fields"}``).

        Raises:
            FixtureValueError: A transform failed; names the table, key and field.
        """
        pk = record.get("pk", MISSING)
        try:
            result = self.apply(FixtureRecord(self.name, pk, record["fields"]))
        except _Failed as failed:
            where = "" if pk is MISSING else f" pk {pk!r}"
            msg = f"Table {self.name!r} record{where}{failed.describe()}; nothing was written"
            raise FixtureValueError(msg, table=self.name, field=failed.key) from failed.error
        if result is None:
            return None
        out: dict[str, Any] = {"table": self.name}
        if result.pk is not MISSING:
            out["pk"] = result.pk
        out["fields"] = result.fields
        return out

    def _value(self, key: str, value: Any, record: FixtureRecord) -> Any:
        if value is None:
            return None
        if isinstance(value, list) and key in self.natural:
            label, function = self.natural[key]
        elif key in self.values:
            label, function = self.values[key]
        else:
            return value
        try:
            return function(value, record)
        except Exception as exc:
            raise _Failed(label, key, exc) from exc


class _Failed(Exception):
    def __init__(self, label: str, key: str | None, error: Exception) -> None:
        super().__init__(label, key, error)
        self.label = label
        self.key = key
        self.error = error

    def describe(self) -> str:
        column = f" field {self.key!r}" if self.key is not None else ""
        return f"{column}: transform {self.label} failed: {_one_line(self.error)}"


@dataclass
class Transforms:
    """Every table's plan for one dump or load, and the leak guard when scrubbing."""

    tables: dict[str, TablePlan]
    guard: Callable[[Iterable[str]], None] | None = None
    known: frozenset[str] = frozenset()

    def table(self, name: str) -> TablePlan | None:
        """The plan of table ``name``; ``None`` when nothing runs on its records."""
        return self.tables.get(name)

    def on_load(self, records: Iterable[RawRecord]) -> Iterator[RawRecord]:
        """The records of a file, transformed; dropped ones left out; the guard run per table.

        Raises:
            FixtureValueError: A transform failed; names the file, record, table and field.
            FixtureSchemaError: With ``scrub``, a table of the file has a personal-looking
                column without a rule.
        """
        seen: set[str] = set()
        for record in records:
            if record.table not in seen:
                seen.add(record.table)
                if self.guard is not None and record.table in self.known:
                    self.guard([record.table])
            plan = self.tables.get(record.table)
            if plan is None:
                yield record
                continue
            item = FixtureRecord(record.table, record.pk, dict(record.fields))
            try:
                result = plan.apply(item)
            except _Failed as failed:
                msg = (
                    f"{record.path} record {record.index}: table {record.table!r}"
                    f"{failed.describe()}; nothing was written"
                )
                raise FixtureValueError(
                    msg,
                    path=record.path,
                    record=record.index,
                    table=record.table,
                    field=failed.key,
                ) from failed.error
            if result is not None:
                yield record._replace(pk=result.pk, fields=result.fields)


# ---------------------------------------------------------------- planning


def plan_transforms(
    schema: Schema,
    tables: Iterable[str],
    *,
    settings: BatteriesSettings | None,
    extra: Mapping[str, Rule] | None,
    scrub: bool,
    guard_now: bool = True,
) -> Transforms | None:
    """Plan the rules for ``tables`` of ``schema``; ``None`` when none applies.

    Rules run when ``scrub`` is asked for, or when ``extra`` (a call's own) gives some. With
    ``scrub`` the leak guard checks ``tables`` now (a dump), or each table as a file's records
    reach it (``guard_now=False``: a load).

    Raises:
        FixtureSchemaError: A rule names an unknown column, scrubber or option, nulls a NOT NULL
            column, shifts a column others point at, breaks a reference, or the key is
            missing; with ``scrub``, personal-looking columns have no rule (all named).
    """
    if not scrub and not extra:
        return None
    active = settings if settings is not None else BatteriesSettings()
    rules = _collect(schema, active if scrub else None, extra or {}, scrub=scrub)
    chosen = [t for t in tables if t in schema.tables]
    builder = _Builder(schema, rules, active)
    plans = {name: plan for name in chosen if (plan := builder.plan(name)) is not None}
    guard = None
    if scrub:

        def guard(names: Iterable[str]) -> None:
            _leak_guard(schema, names, builder, rules)

        if guard_now:
            guard(chosen)
    return Transforms(plans, guard=guard, known=frozenset(chosen))


@dataclass(frozen=True)
class _Target:
    table: str
    column: str | None
    rule: Rule
    origin: str


def _collect(
    schema: Schema, settings: BatteriesSettings | None, extra: Mapping[str, Rule], *, scrub: bool
) -> dict[tuple[str, str | None], _Target]:
    """Every rule by (table, column), later sources winning; unknown tables left out."""
    sources: list[tuple[str, Mapping[str, Rule]]] = []
    if scrub:
        for name, info in sorted(schema.tables.items()):
            declared = info.transforms
            sources.append(
                (f"the model of {name}", {_join(name, c): r for c, r in declared.items()})
            )
        sources.append(("batteries_fixtures.transforms.register", dict(REGISTERED)))
    if settings is not None:
        for option in settings.fixtures:
            if option != _SETTINGS_KEY:  # a typo would leave every rule unused, silently
                close = difflib.get_close_matches(option, [_SETTINGS_KEY], n=1)
                hint = f": did you mean {close[0]!r}?" if close else f" (known: {_SETTINGS_KEY})"
                msg = f"Unknown option {option!r} in [tool.batteries.fixtures]{hint}"
                raise FixtureSchemaError(msg)
        configured = settings.fixtures.get(_SETTINGS_KEY) or {}
        if not isinstance(configured, Mapping):
            msg = (
                "[tool.batteries.fixtures.transforms] must be a table of rules "
                '("table.column" = "scrubber"), not ' + type(configured).__name__
            )
            raise FixtureSchemaError(msg)
        sources.append(("[tool.batteries.fixtures.transforms]", configured))
    sources.append(("the transforms passed", extra))
    rules: dict[tuple[str, str | None], _Target] = {}
    for origin, mapping in sources:
        for target, rule in mapping.items():
            located = _locate(schema, str(target), origin)
            if located is not None:
                rules[located] = _Target(located[0], located[1], rule, origin)
    return rules


def _join(table: str, column: str | None) -> str:
    return table if column in (None, "", "*") else f"{table}.{column}"


def _locate(schema: Schema, target: str, origin: str) -> tuple[str, str | None] | None:
    """``(table, column)`` of a target; ``None`` for a table this database does not have."""
    if target in schema.tables:
        return target, None
    table, dot, column = target.rpartition(".")
    if not dot or table not in schema.tables:
        return None  # rules for another database's tables: one set serves several databases
    info = schema.tables[table]
    if column not in info.table.c:
        close = difflib.get_close_matches(column, list(info.table.c.keys()), n=1)
        hint = f": did you mean {table}.{close[0]}?" if close else ""
        msg = f"Transform {target!r} of {origin} names no column of table {table!r}{hint}"
        raise FixtureSchemaError(msg, table=table, field=column)
    return table, column


class _Builder:
    """Builds each column's value function once, and lets references share it."""

    def __init__(
        self,
        schema: Schema,
        rules: dict[tuple[str, str | None], _Target],
        settings: BatteriesSettings,
    ) -> None:
        self.schema = schema
        self.rules = rules
        self.settings = settings
        self._built: dict[tuple[str, str], tuple[str, ColumnFunction, bool] | None] = {}
        self._keyed: Keyed | None = None
        self._resolving: set[tuple[str, str]] = set()

    def keyed(self, target: str) -> Keyed:
        if self._keyed is None:
            secret = self.settings.scrub_key
            if secret is None or not secret.get_secret_value():
                msg = (
                    f"Transform {target} uses a keyed scrubber and no key is set: set "
                    "BATTERIES_SCRUB_KEY (environment or .env) to a long random secret, the same "
                    "for every refresh that must give the same values"
                )
                raise FixtureSchemaError(msg)
            self._keyed = Keyed(secret.get_secret_value().encode())
        return self._keyed

    def plan(self, name: str) -> TablePlan | None:
        info = self.schema.tables[name]
        plan = TablePlan(name, pk_keys=tuple(info.pk_keys))
        table_rule = self.rules.get((name, None))
        if table_rule is not None:
            plan.records.append(self._record_function(table_rule))
        for column in info.table.columns:
            if column.key in info.generated:
                continue
            built = self.column(name, column.key)
            if built is not None and built[1] is not _identity:
                plan.values[column.key] = (built[0], built[1])
            natural = self._natural_reference(info, column.key)
            if natural is not None:
                plan.natural[column.key] = natural
        if not plan.records and not plan.values and not plan.natural:
            return None
        return plan

    def column(self, table: str, key: str) -> tuple[str, ColumnFunction, bool] | None:
        """The value function of a column, its label, and whether it is by value alone."""
        at = (table, key)
        if at in self._built:
            return self._built[at]
        if at in self._resolving:  # a reference cycle through this column: no rule of its own
            return None
        self._resolving.add(at)
        try:
            built = self._build(table, key)
        finally:
            self._resolving.discard(at)
        self._built[at] = built
        return built

    def _build(self, table: str, key: str) -> tuple[str, ColumnFunction, bool] | None:
        info = self.schema.tables[table]
        column = info.table.c[key]
        own = self.rules.get((table, key))
        inherited = self._inherited(info, column)
        if own is None:
            return inherited
        if inherited is not None:
            msg = (
                f"Transform {_join(table, key)!r} of {own.origin}: the column is a foreign key "
                f"to a column with transform {inherited[0]}, which it follows so that the "
                f"references keep matching; drop the rule on {_join(table, key)!r}"
            )
            raise FixtureSchemaError(msg, table=table, field=key)
        return self._value_function(own, column)

    def _inherited(
        self, info: TableInfo, column: Column[Any]
    ) -> tuple[str, ColumnFunction, bool] | None:
        for fk in info.table.foreign_key_constraints:
            for child, element in zip(fk.columns, fk.elements, strict=True):
                if child is not column:
                    continue
                parent = element.column
                parent_table = parent.table.fullname
                if parent_table not in self.schema.tables:
                    continue
                built = self.column(parent_table, parent.key)
                if built is None or built[1] is _identity:
                    continue
                if not built[2]:
                    msg = (
                        f"Transform {built[0]} depends on more than the value, and foreign key "
                        f"{info.name}.{column.key} points at that column: the references would "
                        "no longer match; use a scrubber that depends on the value only"
                    )
                    raise FixtureSchemaError(msg, table=info.name, field=column.key)
                return built
        return None

    def _natural_reference(self, info: TableInfo, key: str) -> tuple[str, ColumnFunction] | None:
        """For a reference written as a natural key: the functions of that key's columns."""
        target = info.references.get(key)
        if target is None:
            return None
        return self._natural_of(target, set())

    def _natural_of(self, table: str, seen: set[str]) -> tuple[str, ColumnFunction] | None:
        info = self.schema.tables.get(table)
        if info is None or info.natural_key is None or table in seen:
            return None
        parts: list[ColumnFunction | None] = []
        labels: list[str] = []
        for key in info.natural_key:
            nested = None
            if key in info.references:
                nested = self._natural_of(info.references[key], seen | {table})
            built = self.column(table, key)
            direct = built[1] if built is not None and built[1] is not _identity else None
            if built is not None and direct is not None:
                labels.append(built[0])
            if nested is not None:
                labels.append(nested[0])
            parts.append(_either(nested[1] if nested else None, direct))
        if not any(part is not None for part in parts):
            return None

        def natural(value: Any, record: Any) -> Any:
            return [
                item if part is None or item is None else part(item, record)
                for part, item in zip(parts, value, strict=False)
            ]

        return ", ".join(labels), natural

    def _value_function(
        self, target: _Target, column: Column[Any]
    ) -> tuple[str, ColumnFunction, bool]:
        label = repr(_join(target.table, target.column))
        rule = target.rule
        if isinstance(rule, str) and rule in SCRUBBERS:
            rule = {"scrub": rule}
        if isinstance(rule, Mapping):
            return self._scrubber(target, column, rule, label)
        if isinstance(rule, str) and rule == "drop":
            msg = (
                f"Transform {label} of {target.origin}: 'drop' applies to a table (drop its "
                "records); to empty a column use 'null'"
            )
            raise FixtureSchemaError(msg, table=target.table, field=target.column)
        function = _callable(rule, target, label, self.settings.project_root)
        return f"{label} ({_name_of(function)})", function, True

    def _scrubber(
        self, target: _Target, column: Column[Any], rule: Mapping[str, Any], label: str
    ) -> tuple[str, ColumnFunction, bool]:
        options = dict(rule)
        name = options.pop("scrub", None)
        spec = SCRUBBERS.get(str(name)) if name is not None else None
        if spec is None:
            known = ", ".join(SCRUBBERS)
            msg = (
                f"Transform {label} of {target.origin}: unknown scrubber {name!r}; the built-in "
                f"scrubbers are {known}, 'drop' (a table), or 'module:function'"
            )
            raise FixtureSchemaError(msg, table=target.table, field=target.column)
        unknown = sorted(set(options) - spec.options)
        if unknown:
            takes = ", ".join(sorted(spec.options)) or "no options"
            msg = (
                f"Transform {label} of {target.origin}: scrubber {spec.name!r} takes {takes}, "
                f"not {unknown[0]!r}"
            )
            raise FixtureSchemaError(msg, table=target.table, field=target.column)
        if spec.name == "null" and (column.primary_key or not column.nullable):
            what = "a primary-key column" if column.primary_key else "a NOT NULL column"
            msg = (
                f"Transform {label} of {target.origin}: 'null' cannot empty {what}; choose a "
                "scrubber that writes a value"
            )
            raise FixtureSchemaError(msg, table=target.table, field=target.column)
        keyed = self.keyed(label) if spec.keyed else Keyed(b"")
        try:
            info = self.schema.tables[target.table]
            unique = is_unique(column) or column.key in (info.natural_key or ())
            function = spec.make(keyed, column, options, unique)
        except ValueError as exc:
            msg = f"Transform {label} of {target.origin}: {exc}"
            raise FixtureSchemaError(msg, table=target.table, field=target.column) from None
        if spec.name == "keep":
            function = _identity
        return f"{label} ({spec.name})", function, spec.by_value

    def _record_function(self, target: _Target) -> tuple[str, RecordFunction]:
        label = repr(target.table)
        if target.rule == "drop":
            return f"{label} (drop)", _drop
        if isinstance(target.rule, str) and target.rule in SCRUBBERS:
            msg = (
                f"Transform {label} of {target.origin}: scrubber {target.rule!r} applies to a "
                f"column: name one, as '{target.table}.<column>'"
            )
            raise FixtureSchemaError(msg, table=target.table)
        function = _callable(target.rule, target, label, self.settings.project_root)
        return f"{label} ({_name_of(function)})", function


def _either(first: ColumnFunction | None, second: ColumnFunction | None) -> ColumnFunction | None:
    """For one part of a natural key: a nested key's functions for a list, else the column's."""
    if first is None or second is None:
        return first or second

    def either(value: Any, record: Any) -> Any:
        return first(value, record) if isinstance(value, list) else second(value, record)

    return either


def _identity(value: Any, record: Any) -> Any:
    return value


def _drop(record: FixtureRecord) -> None:
    return None


def _callable(
    rule: Rule, target: _Target, label: str, project_root: Path | None = None
) -> Callable[..., Any]:
    if callable(rule):
        return rule
    if isinstance(rule, str) and ":" in rule:
        module_name, _, attribute = rule.partition(":")
        # The project's own module, found as its models are from a console script.
        for folder in (Path.cwd(), project_root):
            if folder is not None and str(folder) not in sys.path:
                sys.path.append(str(folder))
        try:
            module = importlib.import_module(module_name)
            found = getattr(module, attribute)
        except (ImportError, AttributeError) as exc:
            msg = f"Transform {label} of {target.origin}: cannot import {rule!r}: {exc}"
            raise FixtureSchemaError(msg, table=target.table, field=target.column) from None
        if not callable(found):
            msg = f"Transform {label} of {target.origin}: {rule!r} is not a function"
            raise FixtureSchemaError(msg, table=target.table, field=target.column)
        return found  # type: ignore[no-any-return]
    known = ", ".join(SCRUBBERS)
    msg = (
        f"Transform {label} of {target.origin}: {rule!r} is neither a scrubber ({known}), "
        "'drop', nor 'module:function'"
    )
    raise FixtureSchemaError(msg, table=target.table, field=target.column)


def _name_of(function: Callable[..., Any]) -> str:
    module = getattr(function, "__module__", None)
    name = getattr(function, "__qualname__", None) or repr(function)
    return f"{module}:{name}" if module else name


def _one_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


# ---------------------------------------------------------------- the leak guard


def looks_personal(name: str) -> bool:
    """The column's name says it may hold personal data (``email``, ``last_name``, ``ip``...)."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()
    words = {w for w in re.split(r"[^a-z]+", spaced) if w}
    if words & _PERSONAL_WORDS:
        return True
    return any(stem in spaced for stem in _PERSONAL_STEMS)


def _leak_guard(
    schema: Schema,
    names: Iterable[str],
    builder: _Builder,
    rules: Mapping[tuple[str, str | None], _Target],
) -> None:
    """Refuse, naming them all, the columns of ``names`` that look personal and have no rule."""
    found: list[str] = []
    for name in sorted(names):
        info = schema.tables[name]
        if (name, None) in rules and rules[(name, None)].rule == "drop":
            continue
        for column in info.table.columns:
            if column.key in info.generated or builder.column(name, column.key) is not None:
                continue
            parent = _personal_parent(column)
            if parent is not None:
                found.append(f"{name}.{column.key} (points at {parent})")
            elif not column.foreign_keys and looks_personal(column.name):
                found.append(f"{name}.{column.key}")
    if not found:
        return
    own = [entry for entry in found if " " not in entry]  # a reference follows its column
    first = (own or found)[0].split(" ")[0]
    many = len(found) > 1
    msg = (
        f"--scrub: {len(found)} column{'s' if many else ''} look{'' if many else 's'} personal "
        f"and {'have' if many else 'has'} no transform: {', '.join(found)}; give each a rule in "
        f'[tool.batteries.fixtures.transforms], e.g. "{first}" = "{_suggest(first)}" (scrubbers: '
        f'{", ".join(n for n in SCRUBBERS if n != "keep")}), or "keep" if it is not personal'
    )
    table, _, column_key = first.rpartition(".")
    raise FixtureSchemaError(msg, table=table, field=column_key)


def _suggest(target: str) -> str:
    """The built-in scrubber a column's name suggests, for the leak guard's message."""
    name = target.rpartition(".")[2].lower()
    if "ip" in re.split(r"[^a-z]+", name):
        return "ip"
    for stems, scrubber in (
        (("mail",), "email"),
        (("phone", "mobile", "tel", "fax", "cell"), "phone"),
        (("birth", "dob", "date", "_on", "_at"), "date_shift"),
        (("name",), "name"),
    ):
        if any(stem in name for stem in stems):
            return scrubber
    return "text"


def _personal_parent(column: Column[Any]) -> str | None:
    """For a foreign key to a personal-looking column: that column, as ``table.column``."""
    for fk in column.foreign_keys:
        try:
            parent = fk.column
        except Exception:  # a foreign key to a table the metadata lacks: nothing to judge
            continue
        if looks_personal(parent.name):
            return f"{parent.table.fullname}.{parent.key}"
    return None
