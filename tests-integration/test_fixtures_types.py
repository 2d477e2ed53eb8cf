"""batteries-fixtures: every type a table holds comes back exactly, checked by the database.

The check is independent of our own dumps: PostgreSQL's ``md5(row::text)`` of every row before
the dump and after wipe + load; SQLite's ``typeof`` and stored value of every column.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import JSON, Column, Date, DateTime, Integer, MetaData, Table, Time
from sqlalchemy.dialects import sqlite
from typer.testing import CliRunner

from backends import Backend
from batteries_fixtures import FixtureValueError, dump, load
from batteries_fixtures.cli import app
from batteries_models import Database

runner = CliRunner()

# One column per PostgreSQL type a user table can hold (domains, enums, extension types too).
PG_SCHEMA = """
CREATE EXTENSION IF NOT EXISTS hstore;
CREATE EXTENSION IF NOT EXISTS citext;
CREATE DOMAIN positive AS integer CHECK (VALUE > 0);
CREATE DOMAIN short_text AS text CHECK (length(VALUE) < 10);
CREATE DOMAIN day AS date;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE every_type (
    id int PRIMARY KEY, pos positive, short short_text, day day, iv interval,
    r4 int4range, rts tstzrange, rnum numrange, mr int4multirange, ip inet, net cidr,
    mac macaddr, mac8 macaddr8, cash money, o oid, rc regclass, rt regtype, b bit(3),
    vb varbit, h hstore, ci citext, tv tsvector, tq tsquery, pt point, ln line, ls lseg,
    bx box, pa path, pg polygon, cr circle, x xml, lsn pg_lsn, snap txid_snapshot,
    psnap pg_snapshot, ch "char", nm name, t time, ttz timetz, mood mood, j json, jb jsonb,
    d date, ts timestamp, tstz timestamptz, ia int[], da date[], tsa timestamp[], ipa inet[],
    moods mood[], ta text[], bp char(5), u uuid, n numeric, f8 float8, f4 real, by bytea,
    jp jsonpath, bool boolean, big bigint, small smallint
);
"""

# Edge values: infinities, BC and after-9999 dates, the dates asyncpg confuses with infinity,
# NaN and -0.0, extreme numerics, json text that re-serialising would change, array bounds,
# several dimensions, NULL inside arrays, empty arrays, unicode.
PG_ROWS = [
    {
        "id": "1",
        "pos": "5",
        "short": "'abc'",
        "day": "'infinity'",
        "iv": "'1 mon 2 days 03:04:05.5'",
        "r4": "'[1,5)'",
        "rts": "'[2021-01-01 00:00+00,infinity)'",
        "rnum": "'(,1.5]'",
        "mr": "'{[1,3),[5,7)}'",
        "ip": "'192.168.0.1'",
        "net": "'10.0.0.0/8'",
        "mac": "'08:00:2b:01:02:03'",
        "mac8": "'08:00:2b:01:02:03:04:05'",
        "cash": "'12.34'",
        "o": "42",
        "rc": "'every_type'",
        "rt": "'int4'",
        "b": "B'101'",
        "vb": "B'1101'",
        "h": """'a=>1, "b c"=>NULL, "é"=>"\\"q\\""'""",
        "ci": "'MiXeD'",
        "tv": "'a:1 b:2'",
        "tq": "'a & !b'",
        "pt": "'(1.5,2)'",
        "ln": "'{1,2,3}'",
        "ls": "'[(1,2),(3,4)]'",
        "bx": "'(3,4),(1,2)'",
        "pa": "'[(1,2),(3,4)]'",
        "pg": "'((0,0),(1,1),(1,0))'",
        "cr": "'<(1,2),3>'",
        "x": """'<a x="1">é</a>'""",
        "lsn": "'16/B374D848'",
        "snap": "'10:20:10,14,15'",
        "psnap": "'10:20:10,14,15'",
        "ch": "'x'",
        "nm": "'nm'",
        "t": "'24:00:00'",
        "ttz": "'12:00:00+05:30'",
        "mood": "'ok'",
        "j": """'{"b": 2.50, "a": 1, "a": 3}'""",
        "jb": """'{"b": [1, 2.50]}'""",
        "d": "'infinity'",
        "ts": "'-infinity'",
        "tstz": "'0044-03-15 12:00:00+00 BC'",
        "ia": "'[0:1]={1,2}'",
        "da": "'{infinity,2021-01-01,NULL}'",
        "tsa": """'{"0044-03-15 12:00:00 BC","2021-01-01 00:00:00"}'""",
        "ipa": "'{192.168.0.1,NULL}'",
        "moods": "'{sad,happy}'",
        "ta": """'{{"a\\"b",NULL},{"",é}}'""",
        "bp": "'ab'",
        "u": "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'",
        "n": "'NaN'",
        "f8": "'-0'",
        "f4": "'-0'",
        "by": "'\\x00ff'",
        "jp": "'$.a[*] ? (@ > 1)'",
        "bool": "true",
        "big": "9223372036854775807",
        "small": "-32768",
    },
    {
        "id": "2",
        "pos": "1",
        "short": "''",
        "day": "'0001-01-01'",
        "iv": "'-1 year -2 days +03:00'",
        "r4": "'empty'",
        "rnum": "'empty'",
        "mr": "'{}'",
        "ip": "'::1'",
        "net": "'::/0'",
        "cash": "'-0.01'",
        "o": "4294967295",
        "b": "B'000'",
        "vb": "B''",
        "h": "''",
        "ci": "''",
        "tv": "''",
        "tq": "'a'",
        "pt": "'(0,0)'",
        "pa": "'((1,2),(3,4))'",
        "x": "'fragment<b/>'",
        "lsn": "'0/0'",
        "snap": "'1:1:'",
        "psnap": "'1:1:'",
        "ch": "E'\\\\001'",
        "nm": "''",
        "t": "'00:00:00'",
        "ttz": "'24:00:00+00'",
        "mood": "'happy'",
        "j": "'null'",
        "jb": "'null'",
        "d": "'0001-01-01'",
        "ts": "'9999-12-31 23:59:59.999999'",
        "tstz": "'10000-01-01 00:00:00+00'",
        "ia": "'{{1,2},{3,NULL}}'",
        "da": "'{}'",
        "tsa": "'{}'",
        "ipa": "'{}'",
        "moods": "'{}'",
        "ta": "'{}'",
        "bp": "''",
        "n": "'-99999999999999999999999999999.000000000000000000001'",
        "f8": "'Infinity'",
        "f4": "'-Infinity'",
        "by": "''",
        "jp": "'$'",
        "bool": "false",
        "big": "-9223372036854775808",
        "small": "32767",
    },
    {
        "id": "3",
        "pos": "2",
        "short": "'é🦄'",
        "day": "'9999-12-31'",
        "iv": "'0'",
        "t": "'23:59:59.999999'",
        "j": """'{"a": 1, "b": [1, 2]}'""",
        "jb": """'{"a": 1}'""",
        "d": "'9999-12-31'",
        "ts": "'0001-01-01 00:00:00'",
        "tstz": "'0001-01-01 00:00:00+00'",
        "ia": "'{}'",
        "ta": "'{NULL}'",
        "n": "'1e-300'",
        "f8": "1e308",
        "f4": "1.17549435e-38",
    },
    {
        "id": "4",
        "pos": "3",
        "short": "'x'",
        "day": "'0044-03-15 BC'",
        "j": """'"s"'""",
        "jb": """'"s"'""",
        "d": "'0044-03-15 BC'",
        "ts": "'0044-03-15 12:00:00 BC'",
        "tstz": "'infinity'",
        "ia": "'[-2:-1][3:4]={{1,2},{3,4}}'",
        "da": "'{0001-01-01,9999-12-31,-infinity}'",
        "f8": "5e-324",
    },
    {
        "id": "5",
        "pos": "4",
        "short": "'y'",
        "day": "'10000-01-01'",
        "d": "'10000-01-01'",
        "ts": "'2021-06-01 12:34:56.000001'",
        "tstz": "'2021-06-01 12:34:56.000001+02'",
    },
]


async def _pg_rows(database: Database) -> dict[int, tuple[str, str]]:
    """Every row's md5 and text, as the database itself renders them."""
    async with database.connect() as connection:
        found = await connection.exec_driver_sql(
            "SELECT id, md5(t::text), t::text FROM every_type t ORDER BY id"
        )
        return {row[0]: (row[1], row[2]) for row in found}


async def _pg_seeded(database: Database) -> dict[int, tuple[str, str]]:
    async with database.connect() as connection:
        for statement in PG_SCHEMA.split(";"):
            if statement.strip():
                await connection.exec_driver_sql(statement)
        for row in PG_ROWS:
            names, values = ", ".join(row), ", ".join(row.values())
            await connection.exec_driver_sql(f"INSERT INTO every_type ({names}) VALUES ({values})")
    return await _pg_rows(database)


async def _pg_wipe(database: Database) -> None:
    async with database.connect() as connection:
        await connection.exec_driver_sql("DELETE FROM every_type")


def _needs_postgres(backend: Backend) -> None:
    if not backend.has_postgres_types:
        pytest.skip("PostgreSQL's own types (domains, ranges, network, geometry...)")


def test_every_postgres_type_round_trips_exactly_through_the_command_line(
    backend: Backend, tmp_path: Path
) -> None:
    _needs_postgres(backend)
    database = Database(backend.url)
    before = asyncio.run(_seeded_then_dispose(database))
    assert len(before) == 5
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    options = ["--database-url", backend.url]
    dumped = runner.invoke(app, ["dump", "-o", str(first), *options])
    assert dumped.exit_code == 0, dumped.output
    asyncio.run(_wipe_then_dispose(Database(backend.url)))
    loaded = runner.invoke(app, ["load", str(first), *options])
    assert loaded.exit_code == 0, loaded.output
    after = asyncio.run(_rows_then_dispose(Database(backend.url)))
    for key, (md5, text) in before.items():
        assert after[key][0] == md5, f"row {key}: {text} came back as {after[key][1]}"
    again = runner.invoke(app, ["dump", "-o", str(second), *options])
    assert again.exit_code == 0, again.output
    assert second.read_bytes() == first.read_bytes()


async def _seeded_then_dispose(database: Database) -> dict[int, tuple[str, str]]:
    try:
        return await _pg_seeded(database)
    finally:
        await database.dispose()


async def _wipe_then_dispose(database: Database) -> None:
    try:
        await _pg_wipe(database)
    finally:
        await database.dispose()


async def _rows_then_dispose(database: Database) -> dict[int, tuple[str, str]]:
    try:
        return await _pg_rows(database)
    finally:
        await database.dispose()


async def _fields(database: Database, tmp_path: Path) -> dict[int, dict[str, Any]]:
    path = tmp_path / "types.json"
    await dump(database, path)
    return {r["pk"]: r["fields"] for r in json.loads(path.read_text(encoding="utf-8"))}


async def test_postgres_values_are_written_in_their_documented_forms(
    database: Database, backend: Backend, tmp_path: Path
) -> None:
    _needs_postgres(backend)
    await _pg_seeded(database)
    rows = await _fields(database, tmp_path)
    first, second, third, fourth = rows[1], rows[2], rows[3], rows[4]
    assert first["iv"] == "P1M2DT3H4M5.5S"  # ISO 8601: months and days stay apart
    assert first["h"] == {"a": "1", "b c": None, "é": '"q"'}
    assert first["j"] == {"$raw": '{"b": 2.50, "a": 1, "a": 3}'}  # the exact text
    assert third["j"] == {"a": 1, "b": [1, 2]}  # what SQLAlchemy would write: the document
    assert second["j"] == {"$json": None}
    assert first["jb"] == {"b": [1, 2.5]}  # jsonb keeps no text
    assert (first["d"], first["ts"], first["day"]) == ("infinity", "-infinity", "infinity")
    assert first["tstz"] == "0044-03-15 12:00:00+00 BC"
    assert (fourth["d"], fourth["ts"]) == ("0044-03-15 BC", "0044-03-15 12:00:00 BC")
    assert (second["d"], second["ts"]) == ("0001-01-01", "9999-12-31T23:59:59.999999")
    assert rows[5]["d"] == "10000-01-01"
    assert first["ia"] == {"$raw": "[0:1]={1,2}"}
    assert second["ia"] == [[1, 2], [3, None]]
    assert first["da"] == ["infinity", "2021-01-01", None]
    assert first["tsa"] == ["0044-03-15 12:00:00 BC", "2021-01-01T00:00:00.000000"]
    assert first["ta"] == [['a"b', None], ["", "é"]]
    assert (second["da"], third["ta"]) == ([], [None])
    assert (first["t"], first["ttz"], second["ttz"]) == (
        "24:00:00",
        "12:00:00.000000+05:30",
        "24:00:00+00",
    )
    assert first["ip"] == "192.168.0.1/32"
    assert first["pt"] == "(1.5,2)"
    assert first["pos"] == 5  # a domain: its base type's form
    assert (first["n"], first["f8"], first["f4"]) == ("NaN", -0.0, -0.0)


async def test_loaded_edge_dates_are_the_ones_written(
    database: Database, backend: Backend, tmp_path: Path
) -> None:
    _needs_postgres(backend)
    async with database.connect() as connection:
        await connection.exec_driver_sql(
            "CREATE TABLE edge (id int PRIMARY KEY, d date, ts timestamp, tstz timestamptz)"
        )
    path = tmp_path / "edge.json"
    records = [
        (1, "9999-12-31", "9999-12-31T23:59:59.999999", "9999-12-31T23:59:59.999999+00:00"),
        (2, "0001-01-01", "0001-01-01T00:00:00", "0001-01-01T00:00:00+00:00"),
        (3, "infinity", "-infinity", "infinity"),
        (4, "0044-03-15 BC", "0044-03-15 12:00:00 BC", "0044-03-15 12:00:00+00 BC"),
    ]
    path.write_text(
        json.dumps(
            [
                {"table": "edge", "pk": pk, "fields": {"d": d, "ts": ts, "tstz": tstz}}
                for pk, d, ts, tstz in records
            ]
        ),
        encoding="utf-8",
    )
    await load(database, path)
    async with database.connect() as connection:
        await connection.exec_driver_sql("SET LOCAL TimeZone = 'UTC'")
        found = await connection.exec_driver_sql(
            "SELECT id, d::text, ts::text, tstz::text FROM edge ORDER BY id"
        )
        stored = [tuple(row) for row in found]
    assert stored == [
        (1, "9999-12-31", "9999-12-31 23:59:59.999999", "9999-12-31 23:59:59.999999+00"),
        (2, "0001-01-01", "0001-01-01 00:00:00", "0001-01-01 00:00:00+00"),
        (3, "infinity", "-infinity", "infinity"),
        (4, "0044-03-15 BC", "0044-03-15 12:00:00 BC", "0044-03-15 12:00:00+00 BC"),
    ]


async def test_a_value_the_database_refuses_names_its_record(
    database: Database, backend: Backend, tmp_path: Path
) -> None:
    _needs_postgres(backend)
    await _pg_seeded(database)
    path = tmp_path / "bad.json"
    good = {"table": "every_type", "pk": 9, "fields": {"ip": "10.0.0.1"}}
    bad = {"table": "every_type", "pk": 10, "fields": {"ip": "10.0.0.999", "pos": 1}}
    domain = {"table": "every_type", "pk": 11, "fields": {"pos": -1}}
    for records, fragment in (([good, bad], "record 1"), ([good, domain], "record 1")):
        path.write_text(json.dumps(records), encoding="utf-8")
        with pytest.raises(FixtureValueError, match=fragment) as info:
            await load(database, path)
        assert "every_type" in str(info.value)
    assert len(await _pg_rows(database)) == 5  # nothing was written


# ---------------------------------------------------------------- SQLite

LITE = MetaData()
Table(
    "stored",
    LITE,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime),
    Column("aware", DateTime(timezone=True)),
    Column("day", Date),
    Column("clock", Time),
    Column("doc", JSON),
)
STORED_ROWS = [
    (
        1,
        "2021-01-01 00:00:00.000000",
        "2021-01-01 10:00:00.000000",
        "2021-01-01",
        "10:00:00.000000",
        '{"a": 1}',
    ),
    (2, "2021-01-01 00:00:00", "2021-01-01T10:00:00Z", "2021-1-1", "10:00", '{"b": 2.50,"a":1}'),
    (3, "2021-01-01T10:00:00", None, "2021-01-01 00:00:00", "10:00:00", "5"),
    (4, 1609459200, None, None, None, "null"),
    (5, "2021-01-01", None, None, None, '"x"'),
]


async def _stored(database: Database) -> list[tuple[Any, ...]]:
    async with database.connect() as connection:
        found = await connection.exec_driver_sql(
            "SELECT id, at, typeof(at), aware, day, clock, doc, typeof(doc) FROM stored ORDER BY id"
        )
        return [tuple(row) for row in found]


async def test_sqlite_gives_back_the_stored_text_and_storage_class(
    database: Database, backend: Backend, tmp_path: Path
) -> None:
    if not backend.keeps_any_stored_text:
        pytest.skip("PostgreSQL parses every value into its column's type")
    await database.create_all(LITE)
    async with database.connect() as connection:
        await connection.exec_driver_sql(
            "INSERT INTO stored VALUES (?, ?, ?, ?, ?, ?)", STORED_ROWS
        )
    before = await _stored(database)
    path = tmp_path / "stored.json"
    await dump(database, path, models=LITE)
    fields = {r["pk"]: r["fields"] for r in json.loads(path.read_text(encoding="utf-8"))}
    # SQLAlchemy's own form is the usual ISO 8601; anything else is kept as stored.
    assert fields[1]["at"] == "2021-01-01T00:00:00.000000"
    assert fields[1]["aware"] == "2021-01-01T10:00:00.000000+00:00"
    assert (fields[1]["day"], fields[1]["clock"], fields[1]["doc"]) == (
        "2021-01-01",
        "10:00:00.000000",
        {"a": 1},
    )
    assert fields[2]["at"] == {"$raw": "2021-01-01 00:00:00"}
    assert fields[2]["doc"] == {"$raw": '{"b": 2.50,"a":1}'}
    assert fields[4]["at"] == {"$raw": 1609459200}
    async with database.connect() as connection:
        await connection.exec_driver_sql("DELETE FROM stored")
    await load(database, path, models=LITE)
    assert await _stored(database) == before


SLASHED = MetaData()
Table(
    "slashed",
    SLASHED,
    Column("id", Integer, primary_key=True),
    Column(
        "at",
        sqlite.DATETIME(
            storage_format="%(year)04d/%(month)02d/%(day)02d %(hour)02d:%(minute)02d:%(second)02d",
            regexp=r"(\d+)/(\d+)/(\d+) (\d+):(\d+):(\d+)",
        ),
    ),
)


async def test_sqlite_datetimes_in_a_storage_format_of_the_users_own(
    database: Database, backend: Backend, tmp_path: Path
) -> None:
    if not backend.keeps_any_stored_text:
        pytest.skip("a SQLite storage_format; PostgreSQL stores timestamps in binary")
    await database.create_all(SLASHED)
    async with database.connect() as connection:
        await connection.exec_driver_sql(
            "INSERT INTO slashed VALUES (?, ?)",
            [(1, "2021/01/02 03:04:05"), (2, "2021-01-02 03:04:05"), (3, "yesterday")],
        )
    path = tmp_path / "slashed.json"
    await dump(database, path, models=SLASHED)
    fields = {r["pk"]: r["fields"] for r in json.loads(path.read_text(encoding="utf-8"))}
    # The format's own text is read with its regexp; any other text is kept as stored.
    assert fields[1]["at"] == "2021-01-02T03:04:05.000000"
    assert fields[2]["at"] == {"$raw": "2021-01-02 03:04:05"}
    assert fields[3]["at"] == {"$raw": "yesterday"}
    async with database.connect() as connection:
        await connection.exec_driver_sql("DELETE FROM slashed")
    await load(database, path, models=SLASHED)
    async with database.connect() as connection:
        stored = await connection.exec_driver_sql("SELECT at FROM slashed ORDER BY id")
        assert [row[0] for row in stored] == [
            "2021/01/02 03:04:05",
            "2021-01-02 03:04:05",
            "yesterday",
        ]
