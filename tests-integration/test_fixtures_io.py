"""batteries-fixtures files at scale: compression, one file per table, snapshots and --jobs."""

from __future__ import annotations

import asyncio
import bz2
import gzip
import json
import lzma
import os
import stat
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import zstandard
from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from typer.testing import CliRunner

from batteries_fixtures import FixtureFileError, FixtureFormatError, dump, load
from batteries_fixtures.cli import app
from batteries_models import Database

HERE = Path(__file__).parent
runner = CliRunner()

DECOMPRESS = {
    "gz": gzip.decompress,
    "bz2": bz2.decompress,
    "xz": lzma.decompress,
    "zst": lambda data: zstandard.ZstdDecompressor().decompressobj().decompress(data),
}


async def _seeded(database: Database, schema: ModuleType) -> None:
    await database.create_all(schema.Base.metadata)
    async with database.connect() as connection:
        await schema.seed(connection)


async def _empty_copy(database: Database, schema: ModuleType, tmp_path: Path) -> Database:
    """An empty database with the schema: a second SQLite file, or the same PostgreSQL wiped."""
    if database.dialect_name == "sqlite":
        other = Database(f"sqlite+aiosqlite:///{tmp_path / 'other.sqlite3'}")
        await other.create_all(schema.Base.metadata)
        return other
    async with database.connect() as connection:
        await connection.exec_driver_sql("DROP SCHEMA public CASCADE")
        await connection.exec_driver_sql("CREATE SCHEMA public")
    await database.create_all(schema.Base.metadata)
    return database


async def _count(database: Database, table: Any) -> int:
    async with database.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(table))).scalar())


# ---------------------------------------------------------------- compression


@pytest.mark.parametrize("codec", ["gz", "bz2", "xz", "zst"])
@pytest.mark.parametrize("fmt", ["json", "jsonl"])
async def test_compressed_round_trip_by_extension(
    database: Database, schema: ModuleType, tmp_path: Path, codec: str, fmt: str
) -> None:
    await _seeded(database, schema)
    plain, packed = tmp_path / f"plain.{fmt}", tmp_path / f"packed.{fmt}.{codec}"
    await dump(database, plain, models=schema.MODELS)
    report = await dump(database, packed, models=schema.MODELS)
    assert report.format == fmt  # the extension before the compression suffix
    assert DECOMPRESS[codec](packed.read_bytes()) == plain.read_bytes()

    target = await _empty_copy(database, schema, tmp_path)
    loaded = await load(target, packed, models=schema.MODELS)
    assert loaded.inserted == report.rows
    again = tmp_path / f"again.{fmt}.{codec}"
    await dump(target, again, models=schema.MODELS)
    assert again.read_bytes() == packed.read_bytes()  # compressed output is deterministic too
    if target is not database:
        await target.dispose()


@pytest.mark.parametrize("codec", ["gz", "bz2", "xz", "zst"])
async def test_truncated_compressed_file_is_one_line_error_and_nothing_is_written(
    database: Database, schema: ModuleType, tmp_path: Path, codec: str
) -> None:
    await _seeded(database, schema)
    packed = tmp_path / f"rows.jsonl.{codec}"
    await dump(database, packed, models=schema.MODELS)
    target = await _empty_copy(database, schema, tmp_path)
    data = packed.read_bytes()
    cut = tmp_path / f"cut.jsonl.{codec}"
    cut.write_bytes(data[: len(data) - 12])
    with pytest.raises(FixtureFormatError) as caught:
        await load(target, cut, models=schema.MODELS)
    message = str(caught.value)
    assert str(cut) in message
    assert "truncated" in message or "corrupt" in message
    assert "\n" not in message
    assert caught.value.path == str(cut)
    assert await _count(target, schema.Org) == 0
    if target is not database:
        await target.dispose()


# ---------------------------------------------------------------- one file per table


async def test_split_dump_writes_one_file_per_table_and_loads_as_a_folder(
    database: Database, schema: ModuleType, tmp_path: Path
) -> None:
    await _seeded(database, schema)
    single = tmp_path / "single.jsonl"
    report = await dump(database, single, models=schema.MODELS)
    folder = tmp_path / "fixtures"
    await dump(database, folder, split=True, format="jsonl", models=schema.MODELS)
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(f"{table}.jsonl" for table in report.tables)
    # Each file holds exactly its table's lines of the single-file dump.
    lines = single.read_bytes().split(b"\n")[:-1]  # only "\n" ends a JSONL record
    for table in report.tables:
        mine = [
            line + b"\n" for line in lines if line.startswith(b'{"table": "%s"' % table.encode())
        ]
        assert (folder / f"{table}.jsonl").read_bytes() == b"".join(mine)

    target = await _empty_copy(database, schema, tmp_path)
    loaded = await load(target, folder, models=schema.MODELS)  # one transaction, FK order
    assert loaded.inserted == report.rows
    again = tmp_path / "again.jsonl"
    await dump(target, again, models=schema.MODELS)
    assert again.read_bytes() == single.read_bytes()
    if target is not database:
        await target.dispose()


@pytest.mark.parametrize(("name", "options"), [("out", {"split": True}), ("out.json.gz", {})])
async def test_a_failed_dump_leaves_no_file(
    database: Database, schema: ModuleType, tmp_path: Path, name: str, options: dict[str, Any]
) -> None:
    await _seeded(database, schema)
    folder = tmp_path / "target"
    folder.mkdir()

    def fail_on_third_table(table: str, done: int, total: int) -> None:
        if table == "org_setting":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        await dump(
            database, folder / name, models=schema.MODELS, progress=fail_on_third_table, **options
        )
    leftovers = [p.name for p in folder.rglob("*") if p.is_file()]
    assert leftovers == []


async def test_folder_load_is_one_transaction(
    database: Database, schema: ModuleType, tmp_path: Path
) -> None:
    await _seeded(database, schema)
    folder = tmp_path / "fixtures"
    await dump(database, folder, split=True, models=schema.MODELS)
    target = await _empty_copy(database, schema, tmp_path)
    # The last file by name is broken: the files before it must not be loaded either.
    (folder / "zzz.json").write_text('[{"table": "org", "pk": 1, "fields": {', encoding="utf-8")
    with pytest.raises(FixtureFormatError, match=r"zzz\.json"):
        await load(target, folder, models=schema.MODELS)
    assert await _count(target, schema.Org) == 0
    if target is not database:
        await target.dispose()


async def test_split_names_are_safe_for_any_table_name(database: Database, tmp_path: Path) -> None:
    class Base(DeclarativeBase):
        pass

    class Odd(Base):
        __tablename__ = "odd/name: é"
        id: Mapped[int] = mapped_column(primary_key=True)

    await database.create_all(Base.metadata)
    async with database.connect() as connection:
        await connection.execute(insert(Odd).values(id=1))
    folder = tmp_path / "out"
    await dump(database, folder, split=True, models=[Odd])
    assert [p.name for p in folder.iterdir()] == ["odd%2Fname%3A%20%C3%A9.json"]
    async with database.connect() as connection:
        await connection.execute(Odd.__table__.delete())
    await load(database, folder, models=[Odd])
    assert await _count(database, Odd) == 1


def _cli(main: Any, *args: str) -> Any:
    return runner.invoke(main, [*args, "--models", "fixtures_schema", "--quiet"])


@pytest.mark.parametrize("command", ["batteries-fixtures", "fastapi-batteries"])
def test_split_and_folder_load_from_the_command_line(
    backend: Any, schema: ModuleType, tmp_path: Path, command: str
) -> None:
    from batteries_cli._app import app as main_app

    main, prefix = (app, []) if command == "batteries-fixtures" else (main_app, ["fixtures"])

    async def seed() -> None:
        database = Database(backend.url)
        await _seeded(database, schema)
        await database.dispose()

    asyncio.run(seed())
    folder = tmp_path / "out"
    url = ["--database-url", backend.url]
    result = _cli(main, *prefix, "dump", *url, "-o", f"{folder}/", "--split", "-f", "jsonl")
    assert result.exit_code == 0, result.stderr
    assert (folder / "org.jsonl").exists()
    result = _cli(main, *prefix, "load", *url, str(folder), "--append")
    assert result.exit_code == 1  # the rows exist: proves the folder's files were all read
    assert "already exists" in result.stderr
    result = _cli(main, *prefix, "load", *url, str(folder))
    assert result.exit_code == 0, result.stderr
    packed = tmp_path / "all.json.gz"
    result = _cli(main, *prefix, "dump", *url, "-o", str(packed), "--jobs", "2")
    assert result.exit_code == 0, result.stderr
    assert gzip.decompress(packed.read_bytes()).startswith(b'[\n{"table": ')
    result = _cli(main, *prefix, "dump", *url, "--split")
    assert result.exit_code == 1
    assert "folder" in result.stderr


# ---------------------------------------------------------------- snapshot and --jobs


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
@pytest.mark.parametrize("indent", [None, 2])
async def test_jobs_give_the_same_bytes_as_one_connection(
    database: Database, schema: ModuleType, tmp_path: Path, fmt: str, indent: int | None
) -> None:
    await _seeded(database, schema)
    one, three = tmp_path / f"one.{fmt}", tmp_path / f"three.{fmt}"
    first = await dump(database, one, indent=indent, models=schema.MODELS)
    second = await dump(database, three, indent=indent, jobs=3, models=schema.MODELS)
    assert three.read_bytes() == one.read_bytes()
    assert second.tables == first.tables
    # An empty table first (nothing to join) still gives the same bytes.
    await dump(database, one, tables=["tag", "org"], indent=indent, models=schema.MODELS)
    await dump(database, three, tables=["tag", "org"], indent=indent, jobs=3, models=schema.MODELS)
    assert three.read_bytes() == one.read_bytes()


class _Base(DeclarativeBase):
    pass


class Parent(_Base):
    __tablename__ = "parent"
    id: Mapped[int] = mapped_column(primary_key=True)


class Child(_Base):
    __tablename__ = "child"
    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int] = mapped_column(ForeignKey("parent.id"))


async def _insert_family(url: str, n: int) -> None:
    writer = Database(url)
    async with writer.connect() as connection:
        await connection.execute(insert(Parent).values(id=n))
        await connection.execute(insert(Child).values(id=n, parent_id=n))
    await writer.dispose()


@pytest.mark.parametrize("jobs", [1, 3])
async def test_dump_of_a_live_database_is_one_snapshot(
    backend: Any, database: Database, tmp_path: Path, jobs: int
) -> None:
    """Families are inserted while the dump runs: every dumped child has its parent."""
    await database.create_all(_Base.metadata)
    await _insert_family(backend.url, 1)
    families = iter(range(100, 110))

    def meanwhile(table: str, done: int, total: int) -> None:
        # Right after the dump reads parents (and before children), another connection
        # commits a new parent and child: a dump outside one snapshot sees the orphan.
        if table == "parent" and done == total:
            worker = threading.Thread(
                target=asyncio.run, args=(_insert_family(backend.url, next(families, 999)),)
            )
            worker.start()
            worker.join()

    stop = threading.Event()

    async def keep_inserting() -> None:
        writer = Database(backend.url)
        for n in range(200, 230):  # bounded: a background writer during the whole dump
            if stop.is_set():
                break
            async with writer.connect() as connection:
                await connection.execute(insert(Parent).values(id=n))
                await connection.execute(insert(Child).values(id=n, parent_id=n))
        await writer.dispose()

    # Its own thread and event loop: it really runs while the dump reads.
    background = threading.Thread(target=asyncio.run, args=(keep_inserting(),))
    background.start()
    path = tmp_path / "live.jsonl"
    try:
        await dump(database, path, jobs=jobs, models=[Parent, Child], progress=meanwhile)
    finally:
        stop.set()
        background.join()
    target = Database(f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}")
    await target.create_all(_Base.metadata)
    await load(target, path, models=[Parent, Child])  # an orphan child would fail here
    async with target.connect() as connection:
        children = (await connection.execute(select(Child.parent_id))).scalars().all()
        parents = set((await connection.execute(select(Parent.id))).scalars().all())
    assert children
    assert set(children) <= parents
    await target.dispose()


async def test_postgres_dump_transaction_is_read_only_repeatable_read(
    backend: Any, database: Database
) -> None:
    from batteries_fixtures._snapshot import open_snapshot

    if not backend.exports_snapshots:
        pytest.skip("SQLite has no transaction modes to check: one connection, one BEGIN")
    async with open_snapshot(database, jobs=2) as snapshot:
        for connection in snapshot.workers:
            modes = await connection.exec_driver_sql(
                "SELECT current_setting('transaction_isolation'), "
                "current_setting('transaction_read_only')"
            )
            assert modes.one() == ("repeatable read", "on")


def test_a_folder_without_fixtures_is_a_file_error(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}"
    with pytest.raises(FixtureFileError, match=r"holds no \.json"):
        asyncio.run(load(url, tmp_path))


# ---------------------------------------------------------------- where a dump goes


async def _small_database(tmp_path: Path) -> Database:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'small.sqlite3'}")
    metadata = MetaData()
    table = Table("tag", metadata, Column("id", Integer, primary_key=True), Column("name", String))
    await database.create_all(metadata)
    async with database.connect() as connection:
        await connection.execute(insert(table).values([{"id": 1, "name": "a"}]))
    return database


async def test_a_dump_into_a_fifo_writes_to_it_and_leaves_it_a_fifo(tmp_path: Path) -> None:
    """As ``-o /dev/null`` must: renaming a file over it replaced the device (as root)."""
    database = await _small_database(tmp_path)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # the dump's open then does not wait
    try:
        await dump(database, fifo)
        received = os.read(reader, 1 << 16)
    finally:
        os.close(reader)
        await database.dispose()
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert json.loads(received) == [{"table": "tag", "pk": 1, "fields": {"name": "a"}}]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe", "small.sqlite3"]


async def test_dump_files_get_the_umask_mode_and_keep_their_own_and_their_links(
    tmp_path: Path,
) -> None:
    database = await _small_database(tmp_path)
    previous = os.umask(0o022)
    try:
        new = tmp_path / "new.json"
        await dump(database, new)
        assert stat.S_IMODE(os.stat(new).st_mode) == 0o644  # not mkstemp's 0600
        new.chmod(0o640)
        await dump(database, new)
        assert stat.S_IMODE(os.stat(new).st_mode) == 0o640
        link = tmp_path / "latest.json"
        link.symlink_to(new)
        new.write_text("old", encoding="utf-8")
        await dump(database, link)
        assert link.is_symlink()
        assert json.loads(new.read_text(encoding="utf-8"))[0]["table"] == "tag"
    finally:
        os.umask(previous)
        await database.dispose()
