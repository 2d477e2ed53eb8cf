"""Transforms and scrubbing on dump and load, on both databases.

Scrubbed values are the same under one key in every run, references (plain, composite, by
natural key) keep pointing at the same rows, so a scrubbed dump loads into an empty database;
the leak guard refuses personal-looking columns without a rule, a column a later migration adds
included; a failing transform is one line and nothing is written.
"""

from __future__ import annotations

import json
import re
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    Column,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    MetaData,
    String,
    Table,
    insert,
    select,
)
from typer.testing import CliRunner

import batteries_migrate as migrate
from backends import Backend
from batteries_cli._app import app as fastapi_batteries
from batteries_fixtures import FixtureSchemaError, FixtureValueError, dump, load
from batteries_fixtures.transforms import FixtureRecord, register, unregister
from batteries_models import NAMING_CONVENTION, BatteriesSettings, Database

runner = CliRunner()
KEY = "a-long-random-test-key-0123456789"

metadata = MetaData(naming_convention=NAMING_CONVENTION)
person = Table(
    "person",
    metadata,
    Column("email", String(120), primary_key=True),  # other tables point at the e-mail
    Column("full_name", String(80), nullable=False),
    Column("phone", String(30)),
    Column("born_on", Date),
    Column("status", String(10), nullable=False),
)
account = Table(
    "account",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("owner_email", ForeignKey("person.email"), nullable=False),
    Column("label", String(40), nullable=False),
)
membership = Table(  # a composite key, and a composite foreign key that points at it
    "membership",
    metadata,
    Column("account_id", ForeignKey("account.id"), primary_key=True),
    Column("member_email", ForeignKey("person.email"), primary_key=True),
)
grant = Table(
    "grant_",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("account_id", Integer, nullable=False),
    Column("member_email", String(120), nullable=False),
    ForeignKeyConstraint(
        ["account_id", "member_email"], ["membership.account_id", "membership.member_email"]
    ),
)
RULES: dict[str, Any] = {
    "person.email": "email",
    "person.full_name": "name",
    "person.phone": "phone",
    "person.born_on": {"scrub": "date_shift", "days": 20},
    "account.label": "keep",
}
PEOPLE = [
    {"email": "ann@corp.example", "full_name": "Ann Lee", "phone": "+1 415 555 0100",
     "born_on": None, "status": "active"},
    {"email": "bob@corp.example", "full_name": "Bob Stone", "phone": None, "born_on": None,
     "status": "gone"},
]  # fmt: skip


def _settings(rules: dict[str, Any] | None = None, key: str = KEY) -> BatteriesSettings:
    return BatteriesSettings(
        fixtures={"transforms": RULES if rules is None else rules}, scrub_key=key
    )


async def _seed(url: str) -> None:
    from datetime import date

    database = Database(url)
    try:
        async with database.connect() as connection:
            await connection.run_sync(metadata.create_all)
            people = [{**p, "born_on": date(1990, 1, 2 + i)} for i, p in enumerate(PEOPLE)]
            await connection.execute(insert(person), people)
            await connection.execute(
                insert(account),
                [
                    {"id": 1, "owner_email": "ann@corp.example", "label": "main"},
                    {"id": 2, "owner_email": "bob@corp.example", "label": "old"},
                ],
            )
            await connection.execute(
                insert(membership),
                [
                    {"account_id": 1, "member_email": "bob@corp.example"},
                    {"account_id": 2, "member_email": "ann@corp.example"},
                ],
            )
            await connection.execute(
                insert(grant), [{"id": 1, "account_id": 1, "member_email": "bob@corp.example"}]
            )
            await connection.commit()
    finally:
        await database.dispose()


async def _create(url: str) -> None:
    database = Database(url)
    try:
        async with database.connect() as connection:
            await connection.run_sync(metadata.create_all)
            await connection.commit()
    finally:
        await database.dispose()


def _records(path: Path) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return records


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
async def test_a_scrubbed_dump_keeps_every_reference_and_loads_into_an_empty_database(
    backend: Backend, other_backend: Backend, tmp_path: Path, fmt: str
) -> None:
    await _seed(backend.url)
    out = tmp_path / f"scrubbed.{fmt}"
    await dump(backend.url, out, scrub=True, models=metadata, settings=_settings())
    text = out.read_text(encoding="utf-8")
    for secret in ("ann@corp.example", "bob@corp.example", "Ann Lee", "555 0100", "1990-01-02"):
        assert secret not in text
    # The same data and key give the same bytes: a refresh is repeatable.
    again = tmp_path / f"again.{fmt}"
    await dump(backend.url, again, scrub=True, models=metadata, settings=_settings())
    assert again.read_bytes() == out.read_bytes()
    other_key = tmp_path / f"other.{fmt}"
    await dump(
        backend.url, other_key, scrub=True, models=metadata, settings=_settings(key="x" * 32)
    )
    assert other_key.read_bytes() != out.read_bytes()

    await _create(other_backend.url)
    report = await load(other_backend.url, out, models=metadata)
    assert report.inserted == 7
    staging = Database(other_backend.url)
    try:
        async with staging.connect() as connection:
            emails = {r.email: r for r in await connection.execute(select(person))}
            owners = [r.owner_email for r in await connection.execute(select(account))]
            members = [tuple(r) for r in await connection.execute(select(grant.c.member_email))]
    finally:
        await staging.dispose()
    assert len(emails) == 2
    assert all(e.endswith("@example.com") for e in emails)
    assert set(owners) == set(emails)  # the foreign keys were scrubbed alike
    assert members[0][0] in emails  # through the composite key too
    assert {r.status for r in emails.values()} == {"active", "gone"}  # no rule: kept


async def test_a_raw_dump_is_scrubbed_as_it_loads(
    backend: Backend, other_backend: Backend, tmp_path: Path
) -> None:
    await _seed(backend.url)
    raw = tmp_path / "raw.json"
    await dump(backend.url, raw, models=metadata)
    assert "ann@corp.example" in raw.read_text(encoding="utf-8")  # no --scrub: an exact copy
    scrubbed = tmp_path / "scrubbed.json"
    await dump(backend.url, scrubbed, scrub=True, models=metadata, settings=_settings())
    await _create(other_backend.url)
    await load(other_backend.url, raw, scrub=True, models=metadata, settings=_settings())
    back = tmp_path / "back.json"
    await dump(other_backend.url, back, models=metadata)

    # Scrubbing on load gives what scrubbing on dump gives (rows sorted by the scrubbed keys).
    def key(record: dict[str, Any]) -> str:
        return json.dumps(record, sort_keys=True)

    assert sorted(_records(back), key=key) == sorted(_records(scrubbed), key=key)


async def test_natural_keys_that_point_at_a_scrubbed_column_are_scrubbed_alike(
    backend: Backend, other_backend: Backend, tmp_path: Path
) -> None:
    meta = MetaData(naming_convention=NAMING_CONVENTION)
    team = Table(
        "team",
        meta,
        Column("id", Integer, primary_key=True),
        Column("contact_email", String(120), nullable=False, unique=True),
        info={"natural_key": ["contact_email"]},
    )
    player = Table(
        "player",
        meta,
        Column("id", Integer, primary_key=True),
        Column("team_id", ForeignKey("team.id"), nullable=False),
    )
    for url in (backend.url, other_backend.url):
        database = Database(url)
        try:
            async with database.connect() as connection:
                await connection.run_sync(meta.create_all)
                if url == backend.url:
                    await connection.execute(
                        insert(team), [{"id": 5, "contact_email": "coach@club.example"}]
                    )
                    await connection.execute(insert(player), [{"id": 1, "team_id": 5}])
                await connection.commit()
        finally:
            await database.dispose()
    out = tmp_path / "natural.json"
    settings = _settings({"team.contact_email": "email"})
    await dump(backend.url, out, natural_primary=True, scrub=True, models=meta, settings=settings)
    records = _records(out)
    assert "coach@club.example" not in out.read_text(encoding="utf-8")
    assert records[1]["fields"]["team_id"] == [records[0]["fields"]["contact_email"]]
    report = await load(other_backend.url, out, models=meta)
    assert report.inserted == 2


async def test_the_leak_guard_names_every_unruled_personal_column_and_writes_nothing(
    backend: Backend, tmp_path: Path
) -> None:
    await _seed(backend.url)
    out = tmp_path / "leak.json"
    with pytest.raises(FixtureSchemaError) as caught:
        await dump(
            backend.url,
            out,
            scrub=True,
            models=metadata,
            settings=_settings({"account.label": "keep"}),
        )
    message = str(caught.value)
    for column in ("person.email", "person.full_name", "person.phone"):
        assert column in message
    assert "account.owner_email (points at person.email)" in message
    assert 'e.g. "person.email" = "email"' in message  # a column of its own, not a reference
    assert not out.exists()
    # Without --scrub the project's rules do not run: a dump is an exact copy.
    await dump(backend.url, out, models=metadata, settings=_settings({"account.label": "keep"}))
    assert "ann@corp.example" in out.read_text(encoding="utf-8")


async def test_rules_that_cannot_work_are_refused_before_anything_is_written(
    backend: Backend, tmp_path: Path
) -> None:
    await _seed(backend.url)
    out = tmp_path / "refused.json"
    cases: list[tuple[str, Any, str]] = [
        ("person.emial", "email", "did you mean person.email"),
        ("person.full_name", "null", "'null' cannot empty a NOT NULL column"),
        ("person.phone", "nope", "is neither a scrubber"),
        ("account.owner_email", "email", "a foreign key to a column with transform"),
        ("person.born_on", {"scrub": "date_shift", "weeks": 2}, "takes days, not 'weeks'"),
        ("person", "email", "applies to a column: name one"),
    ]
    for target, rule, expected in cases:
        rules = {"person.email": "email", target: rule}
        with pytest.raises(FixtureSchemaError, match=re.escape(expected)):
            await dump(backend.url, out, models=metadata, transforms=rules, settings=_settings({}))
    typo = BatteriesSettings(fixtures={"transfroms": RULES}, scrub_key=KEY)
    with pytest.raises(FixtureSchemaError, match=r"'transfroms' in .*did you mean 'transforms'"):
        await dump(backend.url, out, models=metadata, scrub=True, settings=typo)
    with pytest.raises(FixtureSchemaError, match="set BATTERIES_SCRUB_KEY"):
        await dump(backend.url, out, models=metadata, scrub=True, settings=_settings(key=""))
    assert not out.exists()
    # Rules for tables this database does not have are left unused (one set, several databases).
    unused = {"ghost": "drop", "ghost.email": "email", "account.label": "keep"}
    report = await dump(backend.url, out, models=metadata, transforms=unused)
    assert report.tables["account"] == 2


async def test_python_transforms_change_values_and_drop_records_on_dump_and_load(
    backend: Backend, other_backend: Backend, tmp_path: Path
) -> None:
    await _seed(backend.url)

    def only_active(record: FixtureRecord) -> FixtureRecord | None:
        return record if record.fields["status"] == "active" else None

    def shout(value: Any, record: FixtureRecord) -> Any:
        return value.upper()

    out = tmp_path / "active.json"
    rules = {"person": only_active, "person.full_name": shout, "account": "drop"}
    report = await dump(backend.url, out, tables=["person"], models=metadata, transforms=rules)
    assert report.tables == {"person": 1}
    assert [r["fields"]["full_name"] for r in _records(out)] == ["ANN LEE"]

    # Registered in Python, applied on load with --scrub; the project's rules win over it.
    register("person.full_name", shout)
    register("person.phone", "null")
    try:
        raw = tmp_path / "raw.json"
        await dump(backend.url, raw, tables=["person"], models=metadata)
        await _create(other_backend.url)
        rules_without_name = {k: v for k, v in RULES.items() if k != "person.full_name"}
        await load(
            other_backend.url,
            raw,
            scrub=True,
            models=metadata,
            settings=_settings({**rules_without_name, "person.phone": "phone"}),
        )
    finally:
        unregister("person.full_name")
        unregister("person.phone")
    back = tmp_path / "back.json"
    await dump(other_backend.url, back, tables=["person"], models=metadata)
    fields = [r["fields"] for r in _records(back)]
    assert sorted(f["full_name"] for f in fields) == ["ANN LEE", "BOB STONE"]
    assert all(f["phone"] != "+1 415 555 0100" for f in fields)
    assert any(f["phone"] is not None for f in fields)  # pyproject's "phone" beat "null"


async def test_a_failing_transform_is_one_line_naming_the_record_and_nothing_is_written(
    backend: Backend, other_backend: Backend, tmp_path: Path
) -> None:
    await _seed(backend.url)

    def broken(value: Any, record: FixtureRecord) -> Any:
        raise RuntimeError(f"cannot handle {record.pk}\nsecond line")

    out = tmp_path / "broken.json"
    with pytest.raises(FixtureValueError) as caught:
        await dump(backend.url, out, models=metadata, transforms={"account.label": broken})
    message = str(caught.value)
    assert "\n" not in message
    assert "Table 'account' record pk 1 field 'label'" in message
    assert "RuntimeError: cannot handle 1" in message
    assert not out.exists()

    raw = tmp_path / "raw.json"
    await dump(backend.url, raw, models=metadata)
    await _create(other_backend.url)
    with pytest.raises(FixtureValueError) as caught:
        await load(other_backend.url, raw, models=metadata, transforms={"account.label": broken})
    assert f"{raw} record 2: table 'account' field 'label'" in str(caught.value)
    check = Database(other_backend.url)
    try:
        async with check.connect() as connection:
            assert list(await connection.execute(select(person))) == []  # nothing was written
    finally:
        await check.dispose()


# ---------------------------------------------------------------- a project, from the shell

MODELS = """
from datetime import date

from sqlalchemy import MetaData
from sqlmodel import Field

from batteries_models import NAMING_CONVENTION, BaseModel, IntIDMixin


class Base(BaseModel):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Customer(Base, IntIDMixin, table=True):
    __tablename__ = "customer"
    email: str = Field(unique=True, max_length=120)
    nickname: str | None = None
{extra}

class Invoice(Base, IntIDMixin, table=True):
    __tablename__ = "invoice"
    customer_id: int = Field(foreign_key="customer.id")
    issued_on: date
"""

PYPROJECT = """
[project]
name = "shop"
version = "0"

[tool.batteries]
models = "{module}"

[tool.batteries.fixtures.transforms]
"customer.email" = "email"
"customer.nickname" = "name"
"invoice.issued_on" = {{ scrub = "date_shift", days = 7 }}
"invoice" = "{rules}:only_first_invoice"
"""

RULES_MODULE = """
def only_first_invoice(record):
    return record if record.pk == 1 else None
"""


@pytest.fixture
def shop(
    backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Path, str]]:
    """A project with its transforms in pyproject.toml and its key in .env."""
    module = f"shop_models_{uuid.uuid4().hex[:10]}"
    (tmp_path / f"{module}.py").write_text(MODELS.format(extra=""), encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(
        PYPROJECT.format(module=module, rules=f"{module}_rules"), encoding="utf-8"
    )
    (tmp_path / f"{module}_rules.py").write_text(RULES_MODULE, encoding="utf-8")
    (tmp_path / ".env").write_text(f"BATTERIES_SCRUB_KEY={KEY}\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    for variable in ("DATABASE_URL", "BATTERIES_MODELS", "BATTERIES_SCRUB_KEY"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("BATTERIES_DATABASE_URL", backend.url)
    yield tmp_path, module
    sys.modules.pop(module, None)
    sys.modules.pop(f"{module}_v2", None)
    sys.modules.pop(f"{module}_rules", None)


def _cli(*args: str, code: int = 0) -> str:
    result = runner.invoke(fastapi_batteries, list(args))
    output = result.output  # stdout and stderr, as a terminal shows them
    assert result.exit_code == code, output
    return output


def test_the_command_line_scrubs_with_the_projects_rules_and_catches_a_new_column(
    shop: tuple[Path, str],
) -> None:
    root, module = shop
    migrate.init()
    migrate.make_migration("create tables")
    migrate.upgrade()
    import asyncio

    async def seed() -> None:
        database = Database(BatteriesSettings().database_url or "")
        try:
            async with database.connect() as connection:
                await connection.exec_driver_sql(
                    "INSERT INTO customer (id, email, nickname) "
                    "VALUES (1, 'ann@corp.example', 'annie')"
                )
                await connection.exec_driver_sql(
                    "INSERT INTO invoice (id, customer_id, issued_on) "
                    "VALUES (1, 1, '2024-06-01'), (2, 1, '2024-07-01')"
                )
                await connection.commit()
        finally:
            await database.dispose()

    asyncio.run(seed())
    out = root / "staging.json"
    assert "Dumped 2 rows from 2 tables" in _cli("fixtures", "dump", "--scrub", "-o", str(out))
    text = out.read_text(encoding="utf-8")
    assert [r["table"] for r in json.loads(text)] == ["customer", "invoice"]  # invoice 2 dropped
    assert "ann@corp.example" not in text
    assert "annie" not in text
    assert "2024-06-01" not in text
    assert "@example.com" in text

    # A later migration adds a personal column: the next scrubbed dump stops, naming it.
    # (a module of another name: SQLModel's registry keeps the classes the first one made)
    later = f"{module}_v2"
    (root / f"{later}.py").write_text(
        MODELS.format(extra="    mobile: str | None = None\n"), encoding="utf-8"
    )
    (root / "pyproject.toml").write_text(
        PYPROJECT.format(module=later, rules=f"{module}_rules"), encoding="utf-8"
    )
    migrate.make_migration("add mobile")
    migrate.upgrade()
    out.unlink()
    output = _cli("fixtures", "dump", "--scrub", "-o", str(out), code=1)
    assert "customer.mobile" in output
    assert '"customer.mobile" = "phone"' in output
    assert "Traceback" not in output
    assert not out.exists()
    assert len(output.strip().splitlines()) == 1


@pytest.mark.parametrize("fmt", ["csv", "yaml"])
async def test_rules_apply_the_same_in_every_format(
    backend: Backend, other_backend: Backend, tmp_path: Path, fmt: str
) -> None:
    await _seed(backend.url)
    as_json = tmp_path / "scrubbed.json"
    await dump(backend.url, as_json, scrub=True, models=metadata, settings=_settings())
    other = tmp_path / ("folder" if fmt == "csv" else "scrubbed.yaml")
    await dump(
        backend.url,
        other,
        format=fmt,
        split=fmt == "csv",
        scrub=True,
        models=metadata,
        settings=_settings(),
    )
    await _create(other_backend.url)
    await load(other_backend.url, other, models=metadata)
    back = tmp_path / "back.json"
    await dump(other_backend.url, back, models=metadata)

    def key(record: dict[str, Any]) -> str:
        return json.dumps(record, sort_keys=True)

    assert sorted(_records(back), key=key) == sorted(_records(as_json), key=key)


async def test_a_table_declares_its_rules_and_natural_keys_stay_distinct(
    backend: Backend, other_backend: Backend, tmp_path: Path
) -> None:
    """``Table.info`` rules; a natural key without a UNIQUE constraint still gets unique names."""
    meta = MetaData(naming_convention=NAMING_CONVENTION)
    club = Table(
        "club",
        meta,
        Column("id", Integer, primary_key=True),
        Column("title", String(60), nullable=False),
        info={"natural_key": ["title"], "fixture_transforms": {"title": "name"}},
    )
    member = Table(
        "member",
        meta,
        Column("id", Integer, primary_key=True),
        Column("club_id", ForeignKey("club.id"), nullable=False),
    )
    titles = [{"id": i, "title": f"Club number {i}"} for i in range(1, 401)]
    for url in (backend.url, other_backend.url):
        database = Database(url)
        try:
            async with database.connect() as connection:
                await connection.run_sync(meta.create_all)
                if url == backend.url:
                    await connection.execute(insert(club), titles)
                    await connection.execute(insert(member), [{"id": 1, "club_id": 7}])
                await connection.commit()
        finally:
            await database.dispose()
    out = tmp_path / "clubs.json"
    await dump(
        backend.url, out, natural_primary=True, scrub=True, models=meta, settings=_settings({})
    )
    records = _records(out)
    scrubbed = [r["fields"]["title"] for r in records if r["table"] == "club"]
    assert len(set(scrubbed)) == 400  # 400 made-up names from a few thousand: suffixed
    assert not any(t.startswith("Club number") for t in scrubbed)
    assert records[-1]["fields"]["club_id"] == [scrubbed[6]]
    report = await load(other_backend.url, out, models=meta)
    assert report.inserted == 401
