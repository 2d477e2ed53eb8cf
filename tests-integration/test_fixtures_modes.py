"""batteries-fixtures: merge, append, truncate, dry run, unknown tables, cycles, cross-database."""

from __future__ import annotations

import asyncio
import io
import json
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import (
    Column,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Uuid,
    event,
    func,
    insert,
    select,
)
from sqlalchemy.types import NullType, UserDefinedType
from sqlmodel import Field

from backends import Backend
from batteries_fixtures import (
    DuplicateRecordError,
    FixtureSchemaError,
    ForeignKeyCycleError,
    dump,
    load,
)
from batteries_models import BaseModel, Database, IntIDMixin, TimestampMixin
from fixtures_schema import egg_and_hen

HERE = Path(__file__).parent
CYCLE_TABLES = ["category", "member", "member_category", "team"]


async def _seeded(database: Database, schema: ModuleType) -> None:
    await database.create_all(schema.Base.metadata)
    async with database.connect() as connection:
        await schema.seed(connection)


async def _count(database: Database, table: Table) -> int:
    async with database.connect() as connection:
        result = await connection.execute(select(func.count()).select_from(table))
        return int(result.scalar_one())


async def _text(database: Database, schema: ModuleType, **options: object) -> str:
    buffer = io.StringIO()
    await dump(database, buffer, models=schema.MODELS, **options)  # type: ignore[arg-type]
    return buffer.getvalue()


async def test_append_inserts_and_refuses_an_existing_key(
    database: Database, schema: ModuleType, tmp_path: Path
) -> None:
    await _seeded(database, schema)
    path = tmp_path / "orgs.json"
    await dump(database, path, models=schema.MODELS, tables=["org"])
    before = await _text(database, schema)
    with pytest.raises(DuplicateRecordError, match=r"record 0: table 'org' key 1 already exists"):
        await load(database, path, models=schema.MODELS, mode="append")
    assert await _text(database, schema) == before


async def test_truncate_empties_only_the_fixture_tables_and_breaks_cycles(
    database: Database, schema: ModuleType, tmp_path: Path
) -> None:
    await _seeded(database, schema)
    path = tmp_path / "cycle.json"
    # org and project stay in the database: the rows may point at them
    await dump(database, path, models=schema.MODELS, tables=CYCLE_TABLES, allow_dangling=True)
    expected = await _text(database, schema)
    async with database.connect() as connection:
        await connection.execute(insert(schema.Category).values(slug="extra"))
    report = await load(database, path, models=schema.MODELS, mode="truncate")
    assert report.tables["category"].inserted == 3
    assert report.tables["member"].updated == 0
    assert await _text(database, schema) == expected  # "extra" is gone, org & co untouched


async def test_merge_reports_updates_and_overwrites_changed_rows(
    database: Database, schema: ModuleType, tmp_path: Path
) -> None:
    await _seeded(database, schema)
    path = tmp_path / "orgs.json"
    await dump(database, path, models=schema.MODELS, tables=["org"])
    expected = await _text(database, schema)
    async with database.connect() as connection:
        await connection.execute(schema.Org.__table__.update().values(name="changed"))
    report = await load(database, path, models=schema.MODELS)
    assert (report.tables["org"].inserted, report.tables["org"].updated) == (0, 2)
    assert await _text(database, schema) == expected


async def test_dry_run_reports_and_writes_nothing(
    database: Database, schema: ModuleType, tmp_path: Path
) -> None:
    await _seeded(database, schema)
    path = tmp_path / "all.json"
    dumped = await dump(database, path, models=schema.MODELS)
    target = await _empty_copy(database, schema)
    report = await load(target, path, models=schema.MODELS, dry_run=True)
    assert report.dry_run
    assert report.inserted == dumped.rows
    assert report.summary().startswith(f"Would load {dumped.rows} rows")
    assert await _count(target, schema.Org.__table__) == 0


async def test_a_dry_run_leaves_the_next_generated_key_alone(
    database: Database, schema: ModuleType, tmp_path: Path
) -> None:
    await database.create_all(schema.Base.metadata)
    first = tmp_path / "first.json"
    first.write_text(
        json.dumps([{"table": "org", "pk": 2, "fields": {"slug": "b", "name": "B"}}]),
        encoding="utf-8",
    )
    await load(database, first, models=schema.MODELS)  # the next key is now 3
    dry = tmp_path / "dry.json"
    records = [{"table": "org", "fields": {"slug": f"n{i}", "name": "N"}} for i in range(5)]
    records.append({"table": "org", "pk": 100, "fields": {"slug": "far", "name": "Far"}})
    dry.write_text(json.dumps(records), encoding="utf-8")
    report = await load(database, dry, models=schema.MODELS, dry_run=True)
    assert report.inserted == 6
    async with database.connect() as connection:
        await connection.execute(insert(schema.Org).values(slug="next", name="Next"))
        new_id = (await connection.execute(select(func.max(schema.Org.id)))).scalar_one()
    assert new_id == 3


async def test_two_merges_of_overlapping_fixtures_started_together_both_succeed(
    backend: Backend, schema: ModuleType, tmp_path: Path
) -> None:
    if not backend.has_concurrent_writers:
        pytest.skip("SQLite runs one writer at a time")
    setup = Database(backend.url)
    await setup.create_all(schema.Base.metadata)
    await setup.dispose()
    paths = []
    for name, slugs in (("a", range(0, 300)), ("b", range(150, 450))):
        path = tmp_path / f"{name}.json"
        records = [{"table": "org", "fields": {"slug": f"s{i}", "name": "x"}} for i in slugs]
        path.write_text(json.dumps(records), encoding="utf-8")
        paths.append(path)
    databases = [Database(backend.url), Database(backend.url)]
    try:
        reports = await asyncio.gather(
            *(
                load(db, path, models=schema.MODELS)
                for db, path in zip(databases, paths, strict=True)
            )
        )
    finally:
        for db in databases:
            await db.dispose()
    assert sorted(r.inserted for r in reports) == [150, 300]
    check = Database(backend.url)
    assert await _count(check, schema.Org.__table__) == 450
    await check.dispose()


async def _empty_copy(database: Database, schema: ModuleType) -> Database:
    """The same database with every fixture table emptied (the schema stays)."""
    async with database.connect() as connection:
        await connection.execute(schema.Team.__table__.update().values(captain_id=None))
        await connection.execute(schema.Category.__table__.update().values(parent_slug=None))
        for table in reversed(schema.Base.metadata.sorted_tables):
            await connection.execute(table.delete())
    return database


async def test_ignore_unknown_skips_tables_and_fields(
    database: Database, schema: ModuleType, tmp_path: Path
) -> None:
    await database.create_all(schema.Base.metadata)
    path = tmp_path / "extra.jsonl"
    records = [
        {"table": "ghost", "pk": 1, "fields": {}},
        {"table": "org", "pk": 1, "fields": {"slug": "a", "name": "A", "colour": "red"}},
    ]
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    report = await load(database, path, models=schema.MODELS, ignore_unknown=True)
    assert report.tables["ghost"].skipped == 1
    assert report.tables["org"].inserted == 1


async def test_offsets_are_normalised_to_utc_on_load(
    database: Database, schema: ModuleType, tmp_path: Path
) -> None:
    await database.create_all(schema.Base.metadata)
    path = tmp_path / "tz.json"
    record = {"table": "sample", "pk": 1, "fields": {"aware": "2024-01-01T02:00:00+02:00"}}
    path.write_text(json.dumps([record]), encoding="utf-8")
    await load(database, path, models=schema.MODELS)
    written = json.loads(await _text(database, schema, tables=["sample"]))
    assert written[0]["fields"]["aware"] == "2024-01-01T00:00:00.000000+00:00"


CYCLE_FIXTURE = [
    {"table": "egg", "pk": 1, "fields": {"hen_id": 1}},
    {"table": "hen", "pk": 1, "fields": {"egg_id": 1, "name": "h"}},
]


async def test_a_not_null_cycle_loads_with_deferrable_constraints(
    database: Database, tmp_path: Path
) -> None:
    metadata = egg_and_hen(deferrable=True)
    await database.create_all(metadata)
    path = tmp_path / "cycle.json"
    path.write_text(json.dumps(CYCLE_FIXTURE), encoding="utf-8")
    report = await load(database, path, models=metadata)
    assert report.inserted == 2


async def test_a_not_null_cycle_without_deferral_is_named(
    database: Database, backend: Backend, tmp_path: Path
) -> None:
    metadata = egg_and_hen(deferrable=False)
    await database.create_all(metadata)
    path = tmp_path / "cycle.json"
    path.write_text(json.dumps(CYCLE_FIXTURE), encoding="utf-8")
    if backend.can_defer_any_foreign_key:
        assert (await load(database, path, models=metadata)).inserted == 2
        return
    with pytest.raises(ForeignKeyCycleError, match=r"egg -> hen -> egg") as info:
        await load(database, path, models=metadata)
    assert info.value.cycle == ("egg", "hen")


def test_a_sqlite_dump_loads_into_postgresql_and_dumps_the_same_bytes(
    schema: ModuleType, postgres_url: str, tmp_path: Path
) -> None:
    async def scenario() -> None:
        lite = Database(f"sqlite+aiosqlite:///{tmp_path / 'source.sqlite3'}")
        pg = Database(postgres_url)
        try:
            await _seeded(lite, schema)
            first, second, third = (tmp_path / f"{n}.json" for n in ("a", "b", "c"))
            await dump(lite, first, models=schema.MODELS)
            await pg.create_all(schema.Base.metadata)
            await load(pg, first, models=schema.MODELS)
            await dump(pg, second, models=schema.MODELS)
            assert second.read_bytes() == first.read_bytes()
            await _empty_copy(lite, schema)
            await load(lite, second, models=schema.MODELS)
            await dump(lite, third, models=schema.MODELS)
            assert third.read_bytes() == first.read_bytes()
        finally:
            async with pg.connect() as connection:
                await connection.exec_driver_sql("DROP SCHEMA public CASCADE")
                await connection.exec_driver_sql("CREATE SCHEMA public")
            await pg.dispose()
            await lite.dispose()

    asyncio.run(scenario())


class Folder(BaseModel, IntIDMixin, TimestampMixin, table=True):
    """A SQLModel table: aware UTCDateTime columns, an onupdate, and a self reference."""

    __tablename__ = "fx_folder"
    name: str
    parent_id: int | None = Field(default=None, foreign_key="fx_folder.id")


async def test_sqlmodel_timestamps_survive_the_cycle_breaking_update(
    database: Database, tmp_path: Path
) -> None:
    async with database.connect() as connection:
        await connection.run_sync(Folder.__table__.create)  # type: ignore[attr-defined]
    async with database.session() as session:
        root = Folder(name="root")
        session.add(root)
        await session.flush()
        session.add(Folder(name="child", parent_id=root.id))
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    await dump(database, first, models=[Folder])
    async with database.connect() as connection:
        await connection.execute(Folder.__table__.delete())  # type: ignore[attr-defined]
    await load(database, first, models=[Folder])
    await dump(database, second, models=[Folder])
    assert second.read_bytes() == first.read_bytes()
    assert '"created_at": "20' in first.read_text(encoding="utf-8")


async def test_natural_keys_resolve_rows_defined_later_and_in_other_files(
    database: Database, schema: ModuleType, tmp_path: Path
) -> None:
    await database.create_all(schema.Base.metadata)
    projects, orgs = tmp_path / "projects.json", tmp_path / "orgs.jsonl"
    projects.write_text(
        json.dumps(
            [
                {"table": "project", "fields": {"org_id": ["acme"], "code": "web"}},
                {
                    "table": "team",
                    "pk": 1,
                    "fields": {"name": "red", "project_id": [["acme"], "web"]},
                },
            ]
        ),
        encoding="utf-8",
    )
    orgs.write_text(
        '{"table": "org", "fields": {"slug": "acme", "name": "Acme"}}\n', encoding="utf-8"
    )
    report = await load(database, [projects, orgs], models=schema.MODELS)
    assert report.inserted == 3
    written = json.loads(
        await _text(database, schema, tables=["team"], natural_foreign=True, allow_dangling=True)
    )
    assert written[0]["fields"]["project_id"] == [["acme"], "web"]
    duplicate = tmp_path / "again.jsonl"
    duplicate.write_text(orgs.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(DuplicateRecordError, match=r"org' natural key \['acme'\] appears twice"):
        await load(database, [orgs, duplicate], models=schema.MODELS)


class _Shape(UserDefinedType[str]):
    """A column type no codec knows (a user's own type, such as a geometry)."""

    cache_ok = True

    def get_col_spec(self, **_: Any) -> str:
        return "TEXT"


async def test_columns_without_codec_are_named_all_at_once_with_the_flags_to_pass(
    database: Database, tmp_path: Path
) -> None:
    def tables(shape: Any) -> MetaData:
        metadata = MetaData()
        Table("plain", metadata, Column("id", Integer, primary_key=True))
        Table("timer", metadata, Column("id", Integer, primary_key=True), Column("span", shape))
        Table(
            "zone",
            metadata,
            Column("id", Integer, primary_key=True),
            Column("outline", shape),
            Column("centre", shape),
        )
        Table(
            "alarm",
            metadata,
            Column("id", Integer, primary_key=True),
            Column("timer_id", ForeignKey("timer.id")),
        )
        return metadata

    await database.create_all(tables(_Shape))
    # Models whose column type says nothing of its values (NullType): no codec anywhere (on
    # PostgreSQL a user's own type still moves as the database's text).
    metadata = tables(NullType())
    with pytest.raises(FixtureSchemaError) as refused:
        await dump(database, tmp_path / "all.json", models=metadata)
    message = str(refused.value)
    assert message.startswith("3 columns cannot be written to or read from a fixture: ")
    for column in ("timer.span", "zone.centre", "zone.outline"):
        assert f"{column} (no fixture codec for column type" in message
    assert message.endswith(
        "leave their tables out with --exclude timer --exclude zone (foreign keys of alarm "
        "point at them: where rows use them, exclude those tables too or add --allow-dangling)"
    )
    assert not (tmp_path / "all.json").exists()
    report = await dump(
        database, tmp_path / "plain.json", models=metadata, exclude=["timer", "zone"]
    )
    assert report.tables == {"alarm": 0, "plain": 0}  # such a table blocks nothing else


async def test_loading_runs_a_few_statements_per_batch_not_per_row(
    database: Database, schema: ModuleType, tmp_path: Path
) -> None:
    await database.create_all(schema.Base.metadata)
    path = tmp_path / "many.jsonl"
    orgs = [
        {"table": "org", "pk": i, "fields": {"slug": f"o{i}", "name": "x"}} for i in range(1, 6)
    ]
    cats = [
        {
            "table": "category",
            "pk": f"c{i:05d}",
            "fields": {"parent_slug": f"c{i - 1:05d}" if i else None},
        }
        for i in range(2500)
    ]
    path.write_text("\n".join(json.dumps(r) for r in orgs + cats), encoding="utf-8")
    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    event.listen(database.engine.sync_engine, "before_cursor_execute", count)
    try:
        report = await load(database, path, models=schema.MODELS)
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", count)
    assert report.inserted == 2505
    # 3 batches of the self-referencing table: inserts, lookups and the parent UPDATEs
    assert len(statements) < 40, statements[:50]


async def test_a_function_default_gives_each_inserted_row_its_own_value(
    database: Database, tmp_path: Path
) -> None:
    """``uuid4`` on a unique non-key column: once per record, not once per INSERT ... SELECT."""
    metadata = MetaData()
    ticket = Table(
        "ticket",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("title", String(40), nullable=False),
        Column("token", Uuid, unique=True, nullable=False, default=uuid.uuid4),
        Column("note", String(40), nullable=False, default="new"),
    )
    await database.create_all(metadata)
    kept = uuid.UUID("018f0000-0000-7000-8000-0000000000aa")
    async with database.connect() as connection:
        await connection.execute(insert(ticket).values(id=1, title="old", token=kept, note="kept"))
    path = tmp_path / "tickets.json"
    records = [{"table": "ticket", "pk": i, "fields": {"title": f"t{i}"}} for i in range(1, 6)]
    path.write_text(json.dumps(records), encoding="utf-8")
    report = await load(database, path, models=metadata)
    assert (report.inserted, report.updated) == (4, 1)
    async with database.connect() as connection:
        rows = (await connection.execute(select(ticket).order_by(ticket.c.id))).all()
    assert [r.title for r in rows] == ["t1", "t2", "t3", "t4", "t5"]
    assert rows[0].token == kept  # a merge leaves a stored row's unlisted columns alone
    assert rows[0].note == "kept"
    assert len({r.token for r in rows}) == 5
    assert [r.note for r in rows[1:]] == ["new"] * 4  # a scalar default still applies
