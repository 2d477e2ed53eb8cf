"""batteries-fixtures: every bad input is one clear line, and the database is left unchanged."""

from __future__ import annotations

import io
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import Column, ForeignKey, Integer, MetaData, Table
from sqlalchemy.ext.asyncio import create_async_engine

from backends import Backend
from batteries_fixtures import (
    DuplicateRecordError,
    FixtureError,
    FixtureFileError,
    FixtureFormatError,
    FixtureIntegrityError,
    FixtureSchemaError,
    FixtureValueError,
    UnresolvedReferenceError,
    dump,
    load,
)
from batteries_models import Database, DatabaseUnreachableError

HERE = Path(__file__).parent
ORG = '{"table": "org", "pk": 9, "fields": {"slug": "new", "name": "New"}}'

CASES: dict[str, tuple[bytes | None, type[FixtureError], list[str]]] = {
    "file not found": (None, FixtureFileError, ["does not exist"]),
    "empty file": (b"  \n", FixtureFormatError, ["empty"]),
    "invalid json": (
        f'[\n{ORG},\n{{"table": "org" "pk": 10}}\n]'.encode(),
        FixtureFormatError,
        ["line 3 column 17", "record 1"],
    ),
    "jsonl line not an object": (
        f"{ORG}\n[1, 2]\n".encode(),
        FixtureFormatError,
        ["line 2", "not a JSON object"],
    ),
    "unknown table": (
        b'[{"table": "nope", "pk": 1, "fields": {}}]',
        FixtureSchemaError,
        ["record 0", "unknown table 'nope'"],
    ),
    "unknown field": (
        b'[{"table": "org", "pk": 9, "fields": {"slug": "x", "name": "X", "colour": 1}}]',
        FixtureSchemaError,
        ["table 'org'", "no field 'colour'"],
    ),
    "missing required field": (
        b'[{"table": "org", "pk": 9, "fields": {"slug": "x"}}]',
        FixtureSchemaError,
        ["pk 9", "missing required field 'name'"],
    ),
    "unconvertible value": (
        f'[{ORG}, {{"table": "sample", "pk": 9, "fields": {{"day": "31/12/1999"}}}}]'.encode(),
        FixtureValueError,
        ["record 1", "table 'sample' pk 9 field 'day'", "ISO 8601"],
    ),
    "duplicate pk": (
        f"[{ORG}, {ORG}]".encode(),
        DuplicateRecordError,
        ["record 1", "key 9 appears twice", "record 0"],
    ),
    "fk to nowhere": (
        b'[{"table": "project", "pk": 9, "fields": {"org_id": 99, "code": "x"}}]',
        UnresolvedReferenceError,
        ["record 0", "field 'org_id' = 99", "no row of 'org'"],
    ),
    "natural key matching no row": (
        b'[{"table": "project", "pk": 9, "fields": {"org_id": ["nope"], "code": "x"}}]',
        UnresolvedReferenceError,
        ["field 'org_id'", "['nope'] matches no row of table 'org'"],
    ),
    "natural key matching several rows": (
        b'[{"table": "tag", "fields": {"name": "dup"}}]',
        UnresolvedReferenceError,
        ["table 'tag'", "matches several rows"],
    ),
    "wrong pk type for composite key": (
        b'[{"table": "org_setting", "pk": 5, "fields": {"value": "x"}}]',
        FixtureFormatError,
        ["composite primary key", "org_id, key"],
    ),
    "truncated file": (
        f'[\n{ORG},\n{{"table": "org", "pk": 10, "fields": {{"slug": "x", "na'.encode(),
        FixtureFormatError,
        ["record 1", "truncated"],
    ),
    "null pk": (
        b'[{"table": "org", "pk": null, "fields": {"slug": "n", "name": "N"}}]',
        FixtureValueError,
        ["record 0", "table 'org'", "primary key cannot be null"],
    ),
    "unique violation": (
        b'[{"table": "org", "pk": 9, "fields": {"slug": "acme", "name": "Copy"}}]',
        FixtureIntegrityError,
        ["uq_org_slug", "nothing was written"],
    ),
    "check violation": (
        f'[{ORG}, {{"table": "team", "pk": 9, "fields": {{"name": ""}}}}]'.encode(),
        FixtureIntegrityError,
        ["record 1: ", "name_not_empty", "nothing was written"],
    ),
    "utf-16": (
        f"[{ORG}]".encode("utf-16"),
        FixtureFileError,
        ["UTF-16", "save it as UTF-8"],
    ),
}


async def _seeded(database: Database, schema: ModuleType) -> str:
    """Create the test schema's tables, insert its rows, and return their dump."""
    await database.create_all(schema.Base.metadata)
    async with database.connect() as connection:
        await schema.seed(connection)
    return await _snapshot(database, schema)


async def _snapshot(database: Database, schema: ModuleType) -> str:
    buffer = io.StringIO()
    await dump(database, buffer, models=schema.MODELS)
    return buffer.getvalue()


@pytest.mark.parametrize("case", list(CASES))
async def test_bad_input_is_one_line_and_changes_nothing(
    database: Database, schema: ModuleType, tmp_path: Path, case: str
) -> None:
    content, error, fragments = CASES[case]
    before = await _seeded(database, schema)
    path = tmp_path / ("fixture.jsonl" if "jsonl" in case else "fixture.json")
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(error) as info:
        await load(database, path, models=schema.MODELS)
    message = str(info.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message
    assert str(path) in message
    assert await _snapshot(database, schema) == before


async def test_a_value_the_database_refuses_names_its_record(
    database: Database, backend: Backend, schema: ModuleType, tmp_path: Path
) -> None:
    before = await _seeded(database, schema)
    path = tmp_path / "fixture.json"
    too_wide = '{"table": "sample", "pk": 9, "fields": {"amount": "123456789.0001"}}'
    path.write_text(f"[{ORG}, {too_wide}]", encoding="utf-8")
    # Refused while converting, on every backend: SQLite would store it, PostgreSQL refuse it.
    with pytest.raises(FixtureValueError) as info:
        await load(database, path, models=schema.MODELS)
    message = str(info.value)
    assert f"{path} record 1: table 'sample'" in message
    assert "the column holds at most 8" in message
    assert (info.value.path, info.value.record) == (str(path), 1)
    assert await _snapshot(database, schema) == before


async def test_a_failed_load_leaves_nothing_behind_for_the_next_one(
    database: Database, schema: ModuleType, tmp_path: Path
) -> None:
    await database.create_all(schema.Base.metadata)
    bad, good = tmp_path / "bad.json", tmp_path / "good.json"
    bad.write_text(f"[{ORG}, {ORG}]", encoding="utf-8")
    good.write_text(f"[{ORG}]", encoding="utf-8")
    for _ in range(2):  # the pooled connection is reused: its staging tables must be gone
        with pytest.raises(DuplicateRecordError):
            await load(database, bad, models=schema.MODELS)
    assert (await load(database, good, models=schema.MODELS)).inserted == 1
    assert (await load(database, good, models=schema.MODELS)).unchanged == 1


async def test_a_bom_is_tolerated(database: Database, schema: ModuleType, tmp_path: Path) -> None:
    await database.create_all(schema.Base.metadata)
    path = tmp_path / "bom.json"
    path.write_bytes(f"\ufeff[{ORG}]".encode())
    report = await load(database, path, models=schema.MODELS)
    assert report.tables["org"].inserted == 1


async def test_unreachable_database_masks_the_password(tmp_path: Path) -> None:
    path = tmp_path / "f.json"
    path.write_text(f"[{ORG}]", encoding="utf-8")
    with pytest.raises(DatabaseUnreachableError) as info:
        await load("postgresql://app:hunter2@127.0.0.1:1/app", path)
    assert "hunter2" not in str(info.value)
    assert "app:***@" in str(info.value)
    with pytest.raises(DatabaseUnreachableError) as info:
        await dump("postgresql://app:hunter2@127.0.0.1:1/app", tmp_path / "out.json")
    assert "hunter2" not in str(info.value)
    assert not (tmp_path / "out.json").exists()


async def test_a_missing_file_is_reported_before_connecting(tmp_path: Path) -> None:
    with pytest.raises(FixtureFileError, match="does not exist"):
        await load("postgresql://app:hunter2@127.0.0.1:1/app", tmp_path / "nope.json")
    with pytest.raises(ValueError, match="Unknown load mode 'replace'"):
        await load("sqlite+aiosqlite://", [], mode="replace")  # type: ignore[arg-type]


# SQLite's own constraints replace the scans for duplicate keys and dangling foreign keys on
# the happy path (see batteries_fixtures._enforced): the errors must stay what they were, and a
# key the database does not check must still be looked for.

SETTING = '{"table": "org_setting", "pk": {"org_id": 99, "key": "k"}, "fields": {"value": "x"}}'
NEW_SETTING = (
    '{"table": "org_setting", "pk": {"org_id": 2, "key": "lang"}, "fields": {"value": "x"}}'
)


@pytest.mark.parametrize("mode", ["append", "truncate", "merge"])
@pytest.mark.parametrize(
    ("content", "error", "fragments"),
    [
        (
            f"[{NEW_SETTING}, {NEW_SETTING}]",
            DuplicateRecordError,
            ["record 1", "key (2, 'lang') appears twice", "(first in", "record 0"],
        ),
        (f"[{SETTING}]", UnresolvedReferenceError, ["record 0", "'org_id' = 99", "'org'"]),
    ],
    ids=["duplicate pk", "fk to nowhere"],
)
async def test_each_mode_names_the_record_at_fault(
    database: Database,
    schema: ModuleType,
    tmp_path: Path,
    mode: str,
    content: str,
    error: type[FixtureError],
    fragments: list[str],
) -> None:
    before = await _seeded(database, schema)
    path = tmp_path / "fixture.json"
    path.write_text(content)
    with pytest.raises(error) as info:
        await load(database, path, models=schema.MODELS, mode=mode)  # type: ignore[arg-type]
    for fragment in fragments:
        assert fragment in str(info.value)
    assert await _snapshot(database, schema) == before


async def test_a_key_given_twice_is_named_before_a_stored_one(
    database: Database, schema: ModuleType, tmp_path: Path
) -> None:
    """Append: a stored setting given twice; the fixture's own fault is the one named."""
    await _seeded(database, schema)
    stored = (
        '{"table": "org_setting", "pk": {"org_id": 1, "key": "theme"}, "fields": {"value": "x"}}'
    )
    path = tmp_path / "fixture.json"
    path.write_text(f"[{stored}, {stored}]")
    with pytest.raises(
        DuplicateRecordError,
        match=r"record 1: table 'org_setting' key \(1, 'theme'\) appears twice",
    ):
        await load(database, path, models=schema.MODELS, mode="append")


def _author_and_book() -> MetaData:
    """Models of two tables: ``book.author_id`` points at ``author``."""
    metadata = MetaData()
    Table("author", metadata, Column("id", Integer, primary_key=True))
    Table(
        "book",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("author_id", ForeignKey("author.id")),
    )
    return metadata


async def test_a_foreign_key_the_database_does_not_check_is_still_refused(
    backend: Backend, tmp_path: Path
) -> None:
    """Models declare ``book.author_id`` a foreign key; the stored table has no such constraint
    (made by hand, or by an old migration). The load refuses the dangling row all the same."""
    metadata = _author_and_book()
    database = Database(backend.url)
    try:
        async with database.connect() as connection:
            await connection.exec_driver_sql("CREATE TABLE author (id INTEGER PRIMARY KEY)")
            await connection.exec_driver_sql(
                "CREATE TABLE book (id INTEGER PRIMARY KEY, author_id INTEGER)"
            )
            await connection.commit()
        path = tmp_path / "fixture.jsonl"
        path.write_text('{"table": "book", "pk": 1, "fields": {"author_id": 7}}\n')
        for mode in ("append", "merge"):
            with pytest.raises(UnresolvedReferenceError, match="'author_id' = 7 points at no row"):
                await load(database, path, models=metadata, mode=mode)  # type: ignore[arg-type]
        async with database.connect() as connection:
            count = await connection.exec_driver_sql("SELECT count(*) FROM book")
            assert count.scalar_one() == 0
    finally:
        await database.dispose()


async def test_sqlite_with_foreign_keys_off_still_refuses_a_dangling_row(tmp_path: Path) -> None:
    """A connection of the caller's own, where ``PRAGMA foreign_keys`` is off (SQLite's
    default): the database checks nothing, so the load does."""
    metadata = _author_and_book()
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'off.sqlite3'}")
    path = tmp_path / "fixture.jsonl"
    path.write_text('{"table": "book", "pk": 1, "fields": {"author_id": 7}}\n')
    try:
        async with engine.connect() as connection:
            await connection.run_sync(metadata.create_all)
            enforced = await connection.exec_driver_sql("PRAGMA foreign_keys")
            assert enforced.scalar_one() == 0
            for mode in ("append", "merge"):
                with pytest.raises(UnresolvedReferenceError, match="'author_id' = 7 points at"):
                    await load(connection, path, models=metadata, mode=mode)  # type: ignore[arg-type]
            count = await connection.exec_driver_sql("SELECT count(*) FROM book")
            assert count.scalar_one() == 0
    finally:
        await engine.dispose()


async def test_sqlite_keys_deferred_by_the_caller_are_still_checked_by_the_load(
    tmp_path: Path,
) -> None:
    """The caller's transaction runs ``PRAGMA defer_foreign_keys = ON``: SQLite would check only
    at the caller's commit, where no record can be named, so the load looks for itself."""
    metadata = _author_and_book()
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'deferred.sqlite3'}")
    path = tmp_path / "fixture.jsonl"
    path.write_text('{"table": "book", "pk": 1, "fields": {"author_id": 7}}\n')
    try:
        await database.create_all(metadata)
        async with database.connect() as connection:
            await connection.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
            with pytest.raises(UnresolvedReferenceError, match="'author_id' = 7 points at"):
                await load(connection, path, models=metadata, mode="append")
            count = await connection.exec_driver_sql("SELECT count(*) FROM book")
            assert count.scalar_one() == 0
    finally:
        await database.dispose()
