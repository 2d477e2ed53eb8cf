"""batteries-fixtures: random rows over every supported column type survive dump -> load exactly."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select

from batteries_fixtures import dump, load
from batteries_models import Database

HERE = Path(__file__).parent

TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=30)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=10,
)


def _nullable(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


def _rows(colors: Any) -> st.SearchStrategy[list[dict[str, Any]]]:
    row = st.fixed_dictionaries(
        {
            "big": _nullable(st.integers(-(2**63), 2**63 - 1)),
            "small": _nullable(st.integers(-(2**15), 2**15 - 1)),
            "amount": _nullable(
                st.decimals(-(10**8) + 1, 10**8 - 1, places=4, allow_nan=False).map(
                    lambda d: d + Decimal(0)  # -0.0000 is stored as 0.0000 by both databases
                )
            ),
            "ratio": _nullable(st.floats(allow_nan=False, allow_infinity=False)),
            "flag": _nullable(st.booleans()),
            "label": _nullable(TEXT),
            "body": _nullable(TEXT),
            "blob": _nullable(st.binary(max_size=30)),
            "day": _nullable(st.dates()),
            "clock": _nullable(st.times()),
            "aware": _nullable(st.datetimes(timezones=st.just(UTC))),
            "naive": _nullable(st.datetimes()),
            "uid": _nullable(st.uuids()),
            "color": _nullable(st.sampled_from(list(colors))),
            "data": JSON_VALUES,
            "tags": _nullable(st.lists(TEXT, max_size=4)),
        }
    )
    return st.lists(row, min_size=1, max_size=4)


def test_random_rows_round_trip_exactly(backend: Any, schema: ModuleType) -> None:
    sample = schema.Sample.__table__
    asyncio.run(_create(backend.url, schema))

    @settings(
        max_examples=25,
        derandomize=True,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(rows=_rows(schema.Color))
    def check(rows: list[dict[str, Any]]) -> None:
        asyncio.run(_round_trip(backend.url, schema, sample, rows))

    check()


async def _create(url: str, schema: ModuleType) -> None:
    database = Database(url)
    await database.create_all(schema.Base.metadata)
    await database.dispose()


async def _round_trip(
    url: str, schema: ModuleType, sample: Any, rows: list[dict[str, Any]]
) -> None:
    database = Database(url)
    try:
        async with database.connect() as connection:
            await connection.execute(sample.delete())
            for i, row in enumerate(rows, start=1):
                await connection.execute(insert(sample).values(id=i, **row))
            before = (await connection.execute(select(sample).order_by(sample.c.id))).all()
        first = io.StringIO()
        await dump(database, first, models=schema.MODELS, tables=["sample"])
        async with database.connect() as connection:
            await connection.execute(sample.delete())
        await load(database, io.BytesIO(first.getvalue().encode()), models=schema.MODELS)
        second = io.StringIO()
        await dump(database, second, models=schema.MODELS, tables=["sample"])
        async with database.connect() as connection:
            after = (await connection.execute(select(sample).order_by(sample.c.id))).all()
        assert second.getvalue() == first.getvalue()
        assert after == before
    finally:
        await database.dispose()
