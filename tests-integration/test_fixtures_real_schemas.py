"""batteries-fixtures on schemas a DBA wrote in SQL, not with our models: partitions, generated
and identity columns, unowned sequences, other schemas, tables without a primary key.

The schema comes from ``sql/postgres_features.sql``, run as a script (as ``psql -f`` would); the
``batteries-fixtures`` command then works on the database by reflecting it. A round trip is
checked by our own dump (same bytes) and by the server itself (``md5`` of every row's text,
partitions included), and the application's next insert must succeed afterwards.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    Column,
    Computed,
    DateTime,
    Identity,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    text,
)
from typer.testing import CliRunner

from backends import Backend
from batteries_fixtures import FixtureSchemaError, dump, load
from batteries_fixtures.cli import app
from batteries_models import Database

SQL = Path(__file__).parent / "sql"
runner = CliRunner()

TABLES_SQL = """
SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname IN ('public', 'other')
ORDER BY 1
"""


@pytest.fixture
def dba_url(backend: Backend) -> str:
    """The test's PostgreSQL database, with the DBA's schema and rows (``sql/*.sql``)."""
    if not backend.has_partitioned_tables:
        pytest.skip("partitions, identity columns and schemas are PostgreSQL features")
    asyncio.run(_script(backend.url, "postgres_features.sql", "postgres_features_data.sql"))
    return backend.url


async def _script(url: str, *names: str) -> None:
    """Run SQL scripts as ``psql -f`` does: several statements per round trip, no parameters."""
    database = Database(url)
    try:
        async with database.connect() as connection:
            raw = await connection.get_raw_connection()
            for name in names:
                await raw.driver_connection.execute((SQL / name).read_text(encoding="utf-8"))  # type: ignore[union-attr]
    finally:
        await database.dispose()


async def _wipe(url: str) -> None:
    """A fresh database: the schemas dropped and the DDL script run again (sequences at start)."""
    database = Database(url)
    try:
        async with database.connect() as connection:
            await connection.exec_driver_sql("DROP SCHEMA IF EXISTS other CASCADE")
            await connection.exec_driver_sql("DROP SCHEMA public CASCADE")
            await connection.exec_driver_sql("CREATE SCHEMA public")
    finally:
        await database.dispose()
    await _script(url, "postgres_features.sql")


async def _fingerprints(url: str) -> dict[str, tuple[int, str]]:
    """Rows and an md5 of every row's text per table and partition, computed by the server."""
    database = Database(url)
    try:
        async with database.connect() as connection:
            tables = [t for (t,) in (await connection.exec_driver_sql(TABLES_SQL)).all()]
            result: dict[str, tuple[int, str]] = {}
            for table in tables:
                row: Any = (
                    await connection.exec_driver_sql(
                        f"SELECT count(*), md5(coalesce(string_agg(md5(t::text), ',' "
                        f"ORDER BY md5(t::text)), '')) FROM ONLY {table} AS t"
                    )
                ).one()
                result[table] = (int(row[0]), str(row[1]))
            return result
    finally:
        await database.dispose()


def _cli(*args: str) -> Any:
    return runner.invoke(app, list(args))


def _one_line_error(result: Any) -> str:
    assert result.exit_code == 1, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("Error: ")
    return str(result.stderr)


def test_a_dba_schema_round_trips_exactly_and_the_app_inserts_afterwards(
    dba_url: str, tmp_path: Path
) -> None:
    url = dba_url
    before = asyncio.run(_fingerprints(url))
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    dumped = _cli("dump", "--database-url", url, "--schema", "other", "-o", str(first))
    assert dumped.exit_code == 0, dumped.stderr
    records = [json.loads(line.rstrip(",")) for line in first.read_text().splitlines()[1:-1]]
    tables = list(dict.fromkeys(r["table"] for r in records))
    # Rows once, from the partitioned table, after both tables its rows point at (one of
    # them through keys declared on the partitions only); the other schema's table by name.
    assert not any(t.startswith("measurement_") for t in tables)
    assert sum(r["table"] == "measurement" for r in records) == 4
    assert tables.index("measurement") > max(tables.index("city"), tables.index("station"))
    assert tables.index("stock") > tables.index("other.shop")
    assert "other.supplier" in tables  # its schema was named; nothing points at it
    # an INHERITS parent's own rows: its child's row is the child's
    assert [r["pk"] for r in records if r["table"] == "note"] == [1, 3]
    item = next(r for r in records if r["table"] == "item")
    assert item["fields"] == {"price": "2.50", "quantity": 4}  # the generated total left out
    audit = [r for r in records if r["table"] == "audit_line"]
    assert [list(r) for r in audit] == [["table", "fields"]] * 4  # no key: no "pk"
    assert [r["fields"]["logged_at"] for r in audit] == sorted(
        r["fields"]["logged_at"] for r in audit
    )

    asyncio.run(_wipe(url))
    from batteries_cli._app import app as fastapi_batteries

    loaded = runner.invoke(
        fastapi_batteries,
        ["fixtures", "load", str(first), "--database-url", url, "--schema", "other"],
    )
    assert loaded.exit_code == 0, loaded.stderr
    assert asyncio.run(_fingerprints(url)) == before  # partitions hold the same rows, too
    again = _cli("dump", "--database-url", url, "--schema", "other", "-o", str(second))
    assert again.exit_code == 0, again.stderr
    assert second.read_bytes() == first.read_bytes()

    async def next_keys() -> list[int]:
        database = Database(url)
        try:
            async with database.connect() as connection:
                statements = [
                    "INSERT INTO country (name) VALUES ('Peru') RETURNING id",
                    "INSERT INTO item (price, quantity) VALUES (1, 1) RETURNING id",
                    "INSERT INTO invoice (item_id) VALUES (1) RETURNING number",
                    "INSERT INTO other.shop (name) VALUES ('Kiosk') RETURNING id",
                    "SELECT code FROM other.shop WHERE name = 'Kiosk'",
                    "INSERT INTO measurement (city_id, station_code, logged) "
                    "VALUES (1, 'PAR-01', '2024-03-01') RETURNING id",
                ]
                return [int((await connection.exec_driver_sql(s)).scalar_one()) for s in statements]
        finally:
            await database.dispose()

    # serial, identity ALWAYS, a sequence no column owns (twice), identity BY DEFAULT
    assert asyncio.run(next_keys()) == [4, 4, 1003, 3, 502, 5]


def test_a_partial_dump_and_unsafe_loads_are_refused_in_one_line(
    dba_url: str, tmp_path: Path
) -> None:
    url = dba_url
    base = ["--database-url", url]
    output = tmp_path / "partial.json"
    dangling = _one_line_error(_cli("dump", *base, "--exclude", "country", "-o", str(output)))
    assert "rows pointing at tables it does not include: city(country_id) -> country;" in dangling
    assert "--allow-dangling" in dangling
    assert not output.exists()
    unknown = _one_line_error(_cli("dump", "other.supplier", *base))
    assert "Unknown table 'other.supplier'" in unknown
    assert unknown.rstrip().endswith("pass --schema other")
    partition = _one_line_error(_cli("dump", "measurement_2023", *base))
    assert "'measurement_2023' is a partition of 'measurement'" in partition
    no_schema = _one_line_error(_cli("dump", *base, "--schema", "nope"))
    assert "Unknown schema 'nope'" in no_schema

    cities = tmp_path / "cities.json"
    partial = _cli("dump", "country", "city", *base, "-o", str(cities))
    assert partial.exit_code == 0, partial.stderr
    before = asyncio.run(_fingerprints(url))
    truncate = _cli("load", str(cities), *base, "--truncate", "--yes")
    refused = _one_line_error(truncate)
    assert "--truncate would delete rows that rows of tables outside the fixture point at" in (
        refused
    )
    for child in ("measurement(city_id) -> city", "other.shop(city_id) -> city"):
        assert child in refused
    assert asyncio.run(_fingerprints(url)) == before

    lines = tmp_path / "lines.json"
    lines.write_text(
        json.dumps([{"table": "audit_line", "fields": {"logged_at": "2024-05-01T00:00:00"}}])
    )
    merge = _one_line_error(_cli("load", str(lines), *base))
    assert "Table 'audit_line' has no primary key, so a merge cannot tell" in merge
    appended = _cli("load", str(lines), *base, "--append")
    assert appended.exit_code == 0, appended.stderr

    items = tmp_path / "items.json"
    items.write_text(
        json.dumps(
            [{"table": "item", "pk": 9, "fields": {"price": "1.00", "quantity": 2, "total": 5}}]
        )
    )
    generated = _one_line_error(_cli("load", str(items), *base))
    assert "field 'total' is a generated column, which the database computes" in generated
    skipped = _cli("load", str(items), *base, "--ignore-unknown", "-v")
    assert skipped.exit_code == 0, skipped.stderr

    async def total() -> Any:
        database = Database(url)
        try:
            async with database.connect() as connection:
                query = "SELECT total FROM item WHERE id = 9"
                return (await connection.exec_driver_sql(query)).scalar_one()
        finally:
            await database.dispose()

    assert str(asyncio.run(total())) == "2.00"  # computed by the database, not the fixture's 5


async def test_a_dry_run_rewinds_the_unowned_sequence_a_default_drew_from(
    dba_url: str, database: Database, tmp_path: Path
) -> None:

    async def state() -> tuple[Any, ...]:
        async with database.connect() as connection:
            query = "SELECT last_value, is_called FROM other.shop_code"
            return tuple((await connection.exec_driver_sql(query)).one())

    before = await state()
    path = tmp_path / "shops.json"
    records = [{"table": "other.shop", "pk": i, "fields": {"name": f"s{i}"}} for i in (7, 8)]
    path.write_text(json.dumps(records))
    report = await load(database, path, schemas=["other"], dry_run=True)
    assert report.inserted == 2
    assert await state() == before  # the two codes the dry run drew are given back
    await load(database, path, schemas=["other"])
    assert (await state())[0] == before[0] + 2


async def test_models_of_tables_in_another_schema_need_no_reflection(
    dba_url: str, database: Database, tmp_path: Path
) -> None:
    metadata = MetaData()
    shop = Table(
        "shop",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("city_id", Integer),
        Column("name", String, nullable=False),
        Column("code", Integer, nullable=False),
        schema="other",
    )
    report = await dump(database, tmp_path / "shops.json", models=[shop])
    assert report.tables == {"other.shop": 2}
    with pytest.raises(FixtureSchemaError, match="--schema applies when the database is"):
        await dump(database, tmp_path / "x.json", models=[shop], schemas=["other"])


# ---------------------------------------------------------------- both databases


def _generated_tables(backend: Backend) -> MetaData:
    metadata = MetaData()
    Table(
        "line",
        metadata,
        Column("id", Integer, Identity(always=True), primary_key=True),
        Column("price", Numeric(10, 2), nullable=False),
        Column("quantity", Integer, nullable=False),
        Column("total", Numeric(12, 2), Computed("price * quantity", persisted=True)),
        *(
            [Column("label", String, Computed("'#' || quantity", persisted=False))]
            if backend.has_virtual_generated_columns
            else []
        ),
    )
    Table(
        "event",
        metadata,
        Column("at", DateTime, nullable=False),
        Column("kind", String(20)),
        Column("weight", Integer),
    )
    return metadata


async def _seed_generated(database: Database, backend: Backend) -> MetaData:
    metadata = _generated_tables(backend)
    await database.create_all(metadata)
    async with database.connect() as connection:
        await connection.execute(
            text("INSERT INTO line (price, quantity) VALUES (2.5, 4), (1.25, 2), (10, 1)")
        )
        # SQLAlchemy's own text form on SQLite, with microseconds: how other forms come back
        # is a matter of the datetime codec, not of this test.
        await connection.execute(
            text(
                "INSERT INTO event VALUES ('2024-01-02 03:04:05.000000', 'b', 2), "
                "('2024-01-02 03:04:05.000000', 'b', 2), "
                "('2023-01-01 00:00:00.000000', NULL, NULL), "
                "('2024-01-02 03:04:05.000000', 'a', 9)"
            )
        )
    return metadata


async def _rows(database: Database, table: str) -> list[tuple[Any, ...]]:
    async with database.connect() as connection:
        found = await connection.exec_driver_sql(f"SELECT * FROM {table}")
        return sorted((tuple(r) for r in found.all()), key=repr)


async def test_generated_columns_and_tables_without_a_key_round_trip(
    backend: Backend, database: Database, tmp_path: Path
) -> None:
    metadata = await _seed_generated(database, backend)
    before = {t: await _rows(database, t) for t in ("line", "event")}
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    await dump(database, first)  # reflected: nothing declared but the database's own schema
    records = [json.loads(line.rstrip(",")) for line in first.read_text().splitlines()[1:-1]]
    assert {tuple(r["fields"]) for r in records if r["table"] == "line"} == {("price", "quantity")}
    events = [r["fields"] for r in records if r["table"] == "event"]
    assert [(e["at"][:4], e["kind"], e["weight"]) for e in events] == [
        ("2023", None, None),
        ("2024", "a", 9),
        ("2024", "b", 2),
        ("2024", "b", 2),
    ]
    await database.drop_all(metadata)
    await database.create_all(metadata)
    report = await load(database, first)
    assert report.inserted == 7
    assert {t: await _rows(database, t) for t in ("line", "event")} == before
    await dump(database, second)
    assert second.read_bytes() == first.read_bytes()
    with pytest.raises(FixtureSchemaError, match="'event' has no primary key, so a merge"):
        await load(database, first)
    await load(database, first, mode="truncate")
    assert {t: await _rows(database, t) for t in ("line", "event")} == before
    events_only = tmp_path / "events.json"
    events_only.write_text(json.dumps([r for r in records if r["table"] == "event"]))
    await load(database, events_only, mode="append")
    assert await _rows(database, "event") == sorted(before["event"] * 2, key=repr)


async def test_a_postgresql_older_than_12_is_refused_in_one_line(
    database: Database, backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not backend.has_partitioned_tables:
        pytest.skip("the catalog queries that need PostgreSQL 12 are PostgreSQL's")
    async with database.connect() as connection:
        dialect = connection.dialect
    # No PostgreSQL 11 runs here: the dialect says so, as it would after connecting to one.
    monkeypatch.setattr(dialect, "server_version_info", (11, 22))
    with pytest.raises(
        FixtureSchemaError, match=r"PostgreSQL 12 or later, and this server is 11\.22"
    ):
        await dump(database, tmp_path / "old.json")
