"""Django fixtures: the files of ``manage.py dumpdata`` and ``loaddata``, on the tables Django made.

A Django record is ``{"model": "app_label.model_name", "pk": ..., "fields": {...}}`` (a JSON
list, or JSONL). Against the tables Django's migrations created:

- a model's table is ``<app_label>_<model_name>`` (``library.book`` -> ``library_book``), or
  what ``table.<app_label.model_name>=<table>`` says (a model with a ``db_table``);
- a field is the column of its name, or ``<field>_id`` (a foreign key), or a many-to-many field
  whose table Django created: ``<model's table>_<field>``, an ``id`` and two foreign keys. Its
  list of keys becomes rows of that table, found again by their two foreign keys (its natural
  key, given here);
- natural keys are Django's: ``--natural-foreign`` writes a foreign key as the referenced
  row's ``natural_key()`` (a list), ``--natural-primary`` leaves the ``pk`` out. Django code is
  not run, so each table whose natural key a file uses must have one: declared by its model
  (``__natural_key__``, ``info["natural_key"]``) or given as
  ``natural_key.<app_label.model_name>=<field>[,<field>...]`` (fields in ``natural_key()``'s
  order). A natural key whose part is itself a foreign key to a natural-key table nests
  (``[["ann"], "x"]``), where a Django ``natural_key()`` usually flattens.

Dumps write the records Django's ``loaddata`` reads. A table's model label is its name split at
the last underscore (``my_shop_orderitem`` -> ``my_shop.orderitem``: Django's model names are
class names in lower case) unless a ``table.`` option names it; a many-to-many table is folded
into its model's records as a list of keys, sorted (Django keeps no order either); Django's
field names (``author`` for ``author_id``). Datetimes and times are written as Django writes
them (``2024-01-02T03:04:05.678Z``) when that loses nothing, and with their microseconds
otherwise: Django's own dumps cut them to milliseconds, its ``loaddata`` reads microseconds.
The records of a model with many-to-many fields wait in memory until its many-to-many tables
have been read (Django's ``dumpdata`` holds every record).
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

from sqlalchemy import Table
from sqlalchemy import types as sqltypes

from batteries_fixtures._codecs import resolve_type
from batteries_fixtures._convert import freeze
from batteries_fixtures._formats.json import RecordWriter
from batteries_fixtures._readers import MISSING, RawRecord, read_records
from batteries_fixtures.exceptions import FixtureFormatError, FixtureSchemaError
from batteries_fixtures.formats import FixtureFormat, FormatContext

__all__ = ["DjangoFormat", "DjangoWriter"]

_TABLE_OPTION = "table."
_NATURAL_OPTION = "natural_key."
_DATETIME = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d{3})?(\d{3})?(\+00:00)?")
_TIME = re.compile(r"(\d\d:\d\d:\d\d)(\.\d{3})?(\d{3})?")


class DjangoFormat(FixtureFormat):
    """Django's fixture format, mapped onto the tables Django's migrations created.

    Args:
        tables: The table of each model whose ``db_table`` is not the default, by model label
            (``{"library.publisher": "publishers"}``).
        natural_keys: The ``natural_key()`` fields of each model whose table declares no
            natural key, by model label (``{"library.author": ["name"]}``).
    """

    name = "django"
    suffixes = ()
    description = (
        "Django's dumpdata/loaddata records; options table.LABEL=TABLE, natural_key.LABEL=F,G"
    )
    single_file = True

    def __init__(
        self,
        tables: Mapping[str, str] | None = None,
        natural_keys: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.tables = {label.lower(): table for label, table in (tables or {}).items()}
        self.natural_key_fields = {
            label.lower(): tuple(fields) for label, fields in (natural_keys or {}).items()
        }
        self.labels = {table: label for label, table in self.tables.items()}

    @classmethod
    def from_options(cls, options: Mapping[str, str]) -> DjangoFormat:
        """``table.LABEL=TABLE`` and ``natural_key.LABEL=FIELD[,FIELD...]`` options.

        Raises:
            FixtureFormatError: Another option, or a value that is not one.
        """
        tables: dict[str, str] = {}
        natural: dict[str, list[str]] = {}
        for key, value in options.items():
            if key.startswith(_TABLE_OPTION) and value:
                tables[key.removeprefix(_TABLE_OPTION)] = value
            elif key.startswith(_NATURAL_OPTION) and value:
                natural[key.removeprefix(_NATURAL_OPTION)] = [f.strip() for f in value.split(",")]
            else:
                msg = (
                    f"Unknown option {key}={value} of the django format: it takes "
                    "table.APP_LABEL.MODEL=TABLE and natural_key.APP_LABEL.MODEL=FIELD[,FIELD]"
                )
                raise FixtureFormatError(msg)
        return cls(tables, natural)

    def table_of(self, label: str) -> str:
        """The table of the model ``app_label.model_name``."""
        label = label.lower()
        return self.tables.get(label) or label.replace(".", "_", 1)

    def natural_keys(self, context: FormatContext) -> Mapping[str, Sequence[str]]:
        """The many-to-many tables' two foreign keys, and the ``natural_key.`` options'."""
        found: dict[str, Sequence[str]] = {
            link.table: (link.source, link.target)
            for links in _links(context).values()
            for link in links.values()
        }
        for label, names in self.natural_key_fields.items():
            table = self.table_of(label)
            if table not in context.tables:
                msg = (
                    f"natural_key.{label}: model {label} has no table {table!r} in the "
                    f"database; give its table with table.{label}=TABLE"
                )
                raise FixtureSchemaError(msg, table=table)
            columns = _columns_of(context, table)
            missing = [name for name in names if name not in columns]
            if missing:
                msg = (
                    f"natural_key.{label}: table {table!r} has no column for field "
                    f"{missing[0]!r} (nor {missing[0]}_id)"
                )
                raise FixtureSchemaError(msg, table=table, field=missing[0])
            found[table] = tuple(columns[name] for name in names)
        return found

    def read(self, stream: IO[bytes], path: str, context: FormatContext) -> Iterator[RawRecord]:
        """Each Django record as its table's record, then one record per many-to-many key."""
        columns: dict[str, dict[str, str]] = {}
        links = _links(context)
        for record in read_records(stream, path, table_key="model"):
            table = self.table_of(record.table)
            if table not in context.tables:
                # The stager names the table, or skips it with ignore_unknown.
                yield RawRecord(path, record.index, record.line, table, record.pk, record.fields)
                continue
            if table not in columns:
                columns[table] = _columns_of(context, table)
            names = columns[table]
            own = links.get(table, {})
            fields: dict[str, Any] = {}
            many: list[tuple[_Link, Any]] = []
            for name, value in record.fields.items():
                column = names.get(name)
                if column is not None:
                    fields[column] = value
                elif name in own:
                    many.append((own[name], value))
                else:
                    fields[name] = value  # unknown: refused (or skipped) by the stager
            yield RawRecord(path, record.index, record.line, table, record.pk, fields)
            if not many:
                continue
            source = record.pk
            if source is MISSING:
                natural = context.natural_keys.get(table, ())
                source = [fields.get(key) for key in natural]
            for link, keys in many:
                if not isinstance(keys, list):
                    msg = (
                        f"{path} record {record.index}: model {record.table} field "
                        f"{link.field!r} is many-to-many: give a list of keys, got {keys!r}"
                    )
                    raise FixtureFormatError(
                        msg, path=path, record=record.index, table=table, field=link.field
                    )
                seen: set[Hashable] = set()
                for key in keys:
                    frozen = freeze(key)
                    if frozen in seen:  # a set, as Django's add() makes it
                        continue
                    seen.add(frozen)
                    yield RawRecord(
                        path,
                        record.index,
                        record.line,
                        link.table,
                        MISSING,
                        {link.source: source, link.target: key},
                    )

    def writer(self, stream: IO[str], context: FormatContext) -> DjangoWriter:
        """A writer of one Django fixture holding every table of the dump."""
        return DjangoWriter(stream, context, self)


@dataclass(frozen=True)
class _Link:
    """A many-to-many table Django created: ``<source table>_<field>``."""

    table: str
    field: str
    source: str
    target: str


def _links(context: FormatContext) -> dict[str, dict[str, _Link]]:
    """The many-to-many tables of the context, by their model's table, then field name.

    Such a table has a one-column primary key and two one-column foreign keys, and nothing
    else; one of them points at the model whose table begins its name. When both point there
    (a many-to-many to ``"self"``), Django named the model's one ``from_<model>_id``.
    """
    found: dict[str, dict[str, _Link]] = {}
    for name, table in context.tables.items():
        fks = list(table.foreign_key_constraints)
        pk = list(table.primary_key.columns)
        if len(fks) != 2 or len(pk) != 1 or len(table.columns) != 3:
            continue
        if any(len(fk.columns) != 1 for fk in fks):
            continue
        ends = [(next(iter(fk.columns)).key, fk.referred_table.fullname) for fk in fks]
        for source, model in ends:
            if not name.startswith(model + "_") or name == model + "_":
                continue
            (target, other), *_ = [end for end in ends if end[0] != source]
            if other == model and not source.startswith("from_"):
                continue
            field = name[len(model) + 1 :]
            found.setdefault(model, {})[field] = _Link(name, field, source, target)
            break
    return found


def _columns_of(context: FormatContext, table: str) -> dict[str, str]:
    """The column of each Django field name of ``table``: ``author`` -> ``author_id``."""
    info = context.tables[table]
    keys = context.value_types.get(table, {})
    single_fks = {
        next(iter(fk.columns)).key for fk in info.foreign_key_constraints if len(fk.columns) == 1
    }
    columns = {key: key for key in keys}
    for key in keys:
        if key in single_fks and key.endswith("_id") and key[:-3] not in columns:
            columns[key[:-3]] = key
    return columns


def _sorted(keys: list[Any]) -> list[Any]:
    try:
        return sorted(keys)
    except TypeError:  # keys of mixed kinds: any fixed order will do
        return sorted(keys, key=lambda key: json.dumps(key, sort_keys=True))


def _django_time(text: Any, pattern: re.Pattern[str]) -> Any:
    """Django's text of a datetime or time (milliseconds, ``Z``) when it is exact."""
    if type(text) is not str:
        return text
    match = pattern.fullmatch(text)
    if match is None:
        return text
    head, millis, micros, *utc = match.groups()
    fraction = (millis or "") + (micros or "")
    if micros == "000":
        fraction = millis
    if not fraction.strip(".0"):  # no fraction at all, as Python's isoformat writes it
        fraction = ""
    return head + fraction + ("Z" if utc and utc[0] else "")


class _Model:
    """How one table's records become Django's."""

    def __init__(self, label: str, table: Table, context: FormatContext, links: dict[str, _Link]):
        self.label = label
        self.links = links
        self.natural_key = context.natural_keys.get(table.fullname)
        names = _columns_of(context, table.fullname)
        self.fields = {column: field for field, column in names.items() if field != column}
        self.times: dict[str, re.Pattern[str]] = {}
        for column in table.columns:
            resolved = resolve_type(column.type, context.dialect)
            if isinstance(resolved, sqltypes.DateTime):
                self.times[column.key] = _DATETIME
            elif isinstance(resolved, sqltypes.Time):
                self.times[column.key] = _TIME

    def record(
        self, record: dict[str, Any], groups: dict[str, dict[Hashable, list[Any]]]
    ) -> dict[str, Any]:
        fields = record["fields"]
        out: dict[str, Any] = {"model": self.label}
        if "pk" in record:
            out["pk"] = record["pk"]
        django: dict[str, Any] = {}
        for key, value in fields.items():
            pattern = self.times.get(key)
            django[self.fields.get(key, key)] = (
                value if pattern is None else _django_time(value, pattern)
            )
        if self.links:
            keys = [freeze(record["pk"])] if "pk" in record else []
            if self.natural_key is not None:
                keys.append(freeze([fields.get(k) for k in self.natural_key]))
            for field, link in self.links.items():
                group = groups[link.table]
                found = next((group.pop(key) for key in keys if key in group), [])
                django[field] = _sorted(found)
        out["fields"] = django
        return out


class DjangoWriter:
    """Django records, one JSON list; many-to-many tables folded into their models' records."""

    def __init__(self, stream: IO[str], context: FormatContext, fmt: DjangoFormat) -> None:
        self._json = RecordWriter(stream, "json", context.indent)
        order = list(context.order)
        dumped = set(order)
        links = {
            model: {field: link for field, link in fields.items() if link.table in dumped}
            for model, fields in _links(context).items()
            if model in dumped
        }
        self._links = {link.table: link for fields in links.values() for link in fields.values()}
        self._models: dict[str, _Model] = {}
        unnamed: list[str] = []
        for name in order:
            if name in self._links:
                continue
            table = context.tables[name]
            if len(table.primary_key.columns) != 1:
                msg = (
                    f"Table {name!r} has no one-column primary key, which every Django model "
                    f"has: leave it out of a Django fixture (--exclude {name})"
                )
                raise FixtureSchemaError(msg, table=name)
            label = fmt.labels.get(name)
            if label is None and "_" in name.strip("_"):
                app, _, model = name.rpartition("_")
                label = f"{app}.{model}"
            if label is None:
                unnamed.append(name)
                continue
            self._models[name] = _Model(label, table, context, links.get(name, {}))
        if unnamed:
            options = " ".join(f"--format-option table.APP_LABEL.MODEL={n}" for n in unnamed)
            msg = (
                f"Cannot tell the Django model of table(s) {', '.join(unnamed)}: "
                f"give it with {options}"
            )
            raise FixtureSchemaError(msg, table=unnamed[0])
        self._position = {name: i for i, name in enumerate(order)}
        # The rows of each many-to-many table, by the key of their model's row.
        self._groups: dict[str, dict[Hashable, list[Any]]] = {table: {} for table in self._links}
        self._waiting: deque[tuple[int, dict[str, Any]]] = deque()
        self._done_before = 0  # every table before this position has been written

    def write(self, record: dict[str, Any]) -> None:
        """Fold a many-to-many row, or convert (and maybe hold) a model's record."""
        table = record["table"]
        self._done_before = max(self._done_before, self._position[table])
        link = self._links.get(table)
        if link is not None:
            fields = record["fields"]
            self._groups[table].setdefault(freeze(fields[link.source]), []).append(
                fields[link.target]
            )
            self._flush()
            return
        self._flush()
        model = self._models[table]
        ready = max((self._position[t.table] for t in model.links.values()), default=-1)
        if self._waiting or ready >= self._done_before:
            self._waiting.append((ready, record))
        else:
            self._json.write(model.record(record, self._groups))

    def _flush(self) -> None:
        """Write the held records whose many-to-many tables have all been read, in order."""
        while self._waiting and self._waiting[0][0] < self._done_before:
            _, record = self._waiting.popleft()
            self._json.write(self._models[record["table"]].record(record, self._groups))

    def close(self) -> None:
        """Write what is held, then end the list."""
        self._done_before = len(self._position) + 1
        self._flush()
        self._json.close()
