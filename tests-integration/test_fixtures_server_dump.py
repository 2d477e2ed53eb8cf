"""Dumps written by the database itself (PostgreSQL's COPY) are the Python encoder's bytes.

The Python path (each column's codec, then the record writer) defines the format; where the
server writes the records, every value must come out byte for byte the same, and a value it
would write otherwise must send its table back to the Python path.
"""

from __future__ import annotations

import enum
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Enum,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
    Uuid,
    insert,
)

import batteries_fixtures._dump as dump_module
from batteries_fixtures import dump
from batteries_fixtures._server_json import copy_records
from batteries_models import Database


class Color(enum.Enum):
    red = "r"
    green = "g"


def _table(metadata: MetaData, name: str) -> Table:
    return Table(
        name,
        metadata,
        Column("id", BigInteger, primary_key=True),
        Column("small", SmallInteger),
        Column("count", Integer, nullable=False),
        Column("flag", Boolean),
        Column("name", String(40)),
        Column("body", Text),
        Column("price", Numeric(14, 4)),
        Column("free", Numeric),
        Column("at", DateTime(timezone=True)),
        Column("naive", DateTime),
        Column("day", Date),
        Column("uid", Uuid),
        Column("blob", LargeBinary),
        Column("word", Enum("alpha", "beta", "gamma", name=f"{name}_word")),
    )


METADATA = MetaData()
PLAIN = _table(METADATA, "server_plain")  # values the server writes exactly
PAIRS = Table(  # a composite key of text and integer
    "server_pairs",
    METADATA,
    Column("code", String(10), primary_key=True),
    Column("n", Integer, primary_key=True),
    Column("note", Text),
)
FLOATS = Table(  # a float column: always the Python path
    "server_floats",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("ratio", Float),
)
KEYLESS = Table(  # no primary key: records without "pk", rows ordered by every column
    "server_keyless",
    METADATA,
    Column("n", Integer),
    Column("note", Text),
)
MEMBERS = Table(  # an enum of a Python class: written by member name, in Python
    "server_members",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("color", Enum(Color, name="server_color")),
)

_CHARS = (
    [chr(c) for c in range(1, 0x20)]
    + list("\"\\/'{}[]:, ")
    + ["\x7f", "\u2028", "\u2029", "\ufeff", "é", "ß", "\u0301", "😀", "中", "\U0010fffd"]
    + list("abcXYZ019")
)


def _text(rng: random.Random, limit: int) -> str:
    return "".join(rng.choice(_CHARS) for _ in range(rng.randint(0, limit)))


def _moment(rng: random.Random) -> datetime:
    seconds = rng.randrange(1, int((datetime.max - datetime.min).total_seconds()) - 1)
    micro = 0 if rng.random() < 0.3 else rng.randrange(1_000_000)
    return datetime.min + timedelta(seconds=seconds, microseconds=micro)


def _decimal(rng: random.Random) -> Decimal:
    """A decimal asyncpg reads in plain notation: a fraction, or an integer not ending in 0000."""
    digits = rng.randint(1, 10)
    scale = rng.randint(1, 4)
    number = Decimal(rng.randrange(10**digits)).scaleb(-scale)
    if abs(number) < Decimal("0.000001"):
        number = Decimal("0.5")
    return -number if rng.random() < 0.5 else number


def _rows(rng: random.Random, count: int) -> Iterator[dict[str, Any]]:
    # Python's first and last instants go to asyncpg as -infinity and infinity: see ODD.
    edges = [
        datetime(1, 1, 1, 0, 0, 0, 1),
        datetime(9999, 12, 31, 23, 59, 59, 999998),
        datetime(999, 5, 6, 7, 8, 9, 5),
        datetime(2024, 2, 29, 12, 0),
    ]
    for i in range(count):
        naive = edges[i] if i < len(edges) else _moment(rng)
        yield {
            "id": rng.choice([i + 1, -(i + 1), 2**62 + i]) if i else 2**63 - 1,
            "small": rng.choice([None, -(2**15), 2**15 - 1, rng.randint(-99, 99)]),
            "count": rng.choice([-(2**31), 2**31 - 1, 0, rng.randint(-(10**6), 10**6)]),
            "flag": rng.choice([None, True, False]),
            "name": None if rng.random() < 0.1 else _text(rng, 40),
            "body": rng.choice([None, "", _text(rng, 300)]),
            "price": rng.choice([None, Decimal("0.0000"), Decimal("-0.0001"), _decimal(rng)]),
            "free": rng.choice(
                [
                    None,
                    Decimal("123456789012345678901234567890.123"),
                    Decimal("1.50"),
                    Decimal("7"),
                    _decimal(rng),
                    Decimal("NaN"),
                    Decimal("0.000001"),
                ]
            ),
            "at": None if rng.random() < 0.1 else naive.replace(tzinfo=UTC),
            "naive": _moment(rng),
            "day": rng.choice([None, date(1, 1, 2), date(9999, 12, 30), _moment(rng).date()]),
            "uid": None if rng.random() < 0.1 else uuid.UUID(int=rng.getrandbits(128)),
            "blob": rng.choice(
                [None, b"", bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 200)))]
            ),
            "word": rng.choice([None, "alpha", "beta", "gamma"]),
        }


ODD_VALUES: list[dict[str, Any]] = [
    {"free": Decimal("10000")},  # asyncpg: 1E+4
    {"free": Decimal("0.0000001")},  # 1E-7
    {"free": Decimal("0E-7")},
    {"free": Decimal("Infinity")},
    {"day": date.max},  # asyncpg writes 'infinity', reads it back as date.max
    {"naive": datetime.min},
    {"at": datetime.max.replace(tzinfo=UTC)},
]


async def _fill(database: Database) -> None:
    await database.create_all(METADATA)
    rng = random.Random(20261202)
    async with database.connect() as connection:
        await connection.execute(insert(PLAIN), list(_rows(rng, 400)))
        pairs = [{"code": _text(rng, 10), "n": n, "note": _text(rng, 20)} for n in range(60)]
        pairs = list({(p["code"], p["n"]): p for p in pairs}.values())
        await connection.execute(insert(PAIRS), pairs)
        await connection.execute(
            insert(FLOATS), [{"id": i, "ratio": r} for i, r in enumerate([0.1, 1e16, 1e-05, 100.0])]
        )
        await connection.execute(insert(MEMBERS), [{"id": 1, "color": Color.green}])
        keyless = [{"n": rng.choice([None, 1, 2]), "note": _text(rng, 3)} for _ in range(30)]
        await connection.execute(insert(KEYLESS), keyless)
        await connection.commit()


async def _both_ways(
    database: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    metadata: MetaData,
    name: str,
) -> list[str]:
    """Dump through the server where it can and through Python alone: the same bytes.

    Returns the tables the server wrote.
    """
    tables = [t.name for t in metadata.sorted_tables]
    written: list[str] = []

    async def watched(connection: Any, info: Any, *args: Any, **kwargs: Any) -> int | None:
        count = await copy_records(connection, info, *args, **kwargs)
        if count is not None:
            written.append(info.name)
        return count

    async def never(*args: Any, **kwargs: Any) -> None:
        return None

    with monkeypatch.context() as patch:
        patch.setattr(dump_module, "copy_records", watched)
        served = tmp_path / f"served.{name}"
        await dump(database, served, tables=tables, models=metadata)
        patch.setattr(dump_module, "copy_records", never)
        python = tmp_path / f"python.{name}"
        await dump(database, python, tables=tables, models=metadata)
    assert served.read_bytes() == python.read_bytes()
    return written


@pytest.mark.parametrize("name", ["out.jsonl", "out.json"])
async def test_server_written_dump_is_byte_identical(
    backend: Any,
    database: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
) -> None:
    await _fill(database)
    written = await _both_ways(database, tmp_path, monkeypatch, METADATA, name)
    if backend.writes_dump_records_itself:
        # The plain tables were written by the server, the others by Python.
        assert written == ["server_keyless", "server_pairs", "server_plain"]
    else:
        assert written == []


@pytest.mark.parametrize(
    "odd", ODD_VALUES, ids=lambda odd: f"{next(iter(odd))}={next(iter(odd.values()))}"
)
async def test_a_value_the_server_writes_otherwise_sends_its_table_to_python(
    backend: Any,
    database: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    odd: dict[str, Any],
) -> None:
    if not backend.writes_dump_records_itself:
        pytest.skip("only PostgreSQL writes dump records itself")
    metadata = MetaData()
    table = _table(metadata, "server_odd")
    await database.create_all(metadata)
    rows = list(_rows(random.Random(7), 20))
    rows[9].update(odd)
    async with database.connect() as connection:
        await connection.execute(insert(table), rows)
        await connection.commit()
    assert await _both_ways(database, tmp_path, monkeypatch, metadata, "out.jsonl") == []
