"""batteries-fixtures: a natural-key dump never loads into the wrong rows.

Once a generated key is left out of a dump (``natural_primary``) or references are asked for by
natural key (``natural_foreign``), every reference to that table, in a primary key or not, is
written as the natural key, or the dump refuses. Loads resolve them into whatever keys the
target database hands out; the contents compared by natural key must be the same.
"""

from __future__ import annotations

import asyncio
import importlib
import io
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from batteries_fixtures import (
    DuplicateRecordError,
    FixtureSchemaError,
    UnresolvedReferenceError,
    dump,
    load,
)
from batteries_models import Database

HERE = Path(__file__).parent
AUTHORS = ("ann", "bob", "cy", "dee", "eve")
TAGS = ("red", "green", "blue", "gold")
TITLES = ("x", "y", "z")


@pytest.fixture
def ns(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(HERE))
    return importlib.import_module("natural_schema")


async def _recreate(database: Database, metadata: MetaData) -> None:
    """Drop and create the tables: a fresh database whose generated keys start over."""
    await database.drop_all(metadata)
    await database.create_all(metadata)


async def _contents(connection: AsyncConnection, ns: ModuleType) -> dict[str, set[Any]]:
    """Every table's rows with each generated key replaced by the natural key it stands for."""

    async def rows(table: Table) -> list[Any]:
        return list((await connection.execute(select(table))).all())

    authors = await rows(ns.author)
    name = {r.id: r.name for r in authors}
    tags = {r.id: r.name for r in await rows(ns.tag)}
    books = {r.id: (name[r.author_id], r.title) for r in await rows(ns.book)}
    return {
        "author": {(r.name, name.get(r.mentor_id)) for r in authors},
        "tag": set(tags.values()),
        "book": set(books.values()),
        "book_tag": {(books[r.book_id], tags[r.tag_id]) for r in await rows(ns.book_tag)},
        "profile": {(name[r.author_id], r.bio) for r in await rows(ns.profile)},
        "review": {(r.id, books[r.book_id], r.stars) for r in await rows(ns.review)},
        "pin": {(r.id, r.tag_name) for r in await rows(ns.pin)},
    }


async def _insert(connection: AsyncConnection, table: Table, rows: list[dict[str, Any]]) -> None:
    if rows:
        await connection.execute(insert(table), rows)


async def _seed(connection: AsyncConnection, ns: ModuleType, data: dict[str, Any]) -> None:
    await _insert(connection, ns.author, [{**a, "mentor_id": None} for a in data["author"]])
    for a in data["author"]:  # mentors afterwards: a mentor may come later in the list
        if a["mentor_id"] is not None:
            await connection.execute(
                ns.author.update().where(ns.author.c.id == a["id"]).values(mentor_id=a["mentor_id"])
            )
    for name in ("tag", "book", "book_tag", "profile", "review", "pin"):
        await _insert(connection, getattr(ns, name), data[name])


@st.composite
def _data(draw: st.DrawFn) -> dict[str, Any]:
    """Rows with scattered explicit keys, so a load into a fresh database gets other keys."""

    def ids(n: int) -> list[int]:
        return draw(st.lists(st.integers(1, 40), min_size=n, max_size=n, unique=True))

    names = draw(st.lists(st.sampled_from(AUTHORS), min_size=1, max_size=4, unique=True))
    author_ids = ids(len(names))
    mentors = [draw(st.none() | st.sampled_from(author_ids)) for _ in names]
    authors = [
        {"id": i, "name": n, "mentor_id": m}
        for i, n, m in zip(author_ids, names, mentors, strict=True)
    ]
    tag_names = draw(st.lists(st.sampled_from(TAGS), max_size=4, unique=True))
    tags = [{"id": i, "name": n} for i, n in zip(ids(len(tag_names)), tag_names, strict=True)]
    pairs = draw(
        st.lists(
            st.tuples(st.sampled_from(author_ids), st.sampled_from(TITLES)),
            max_size=5,
            unique=True,
        )
    )
    books = [
        {"id": i, "author_id": a, "title": t}
        for i, (a, t) in zip(ids(len(pairs)), pairs, strict=True)
    ]
    links: list[tuple[int, int]] = []
    if books and tags:
        links = draw(
            st.lists(
                st.tuples(
                    st.sampled_from([b["id"] for b in books]),
                    st.sampled_from([t["id"] for t in tags]),
                ),
                max_size=6,
                unique=True,
            )
        )
    profiled = draw(st.lists(st.sampled_from(author_ids), max_size=3, unique=True))
    reviews = []
    if books:
        reviews = [
            {"id": i, "book_id": draw(st.sampled_from([b["id"] for b in books])), "stars": s}
            for i, s in enumerate(draw(st.lists(st.integers(1, 5), max_size=3)), start=1)
        ]
    pins = [{"id": i, "tag_name": t["name"]} for i, t in enumerate(tags[:2], start=1)]
    return {
        "author": authors,
        "tag": tags,
        "book": books,
        "book_tag": [{"book_id": b, "tag_id": t} for b, t in links],
        "profile": [{"author_id": a, "bio": f"about {a}"} for a in profiled],
        "review": reviews,
        "pin": pins,
        # The target database: keys burnt before the load, and rows it already has.
        "burnt": draw(st.integers(0, 6)),
        "existing_tags": draw(st.lists(st.sampled_from(TAGS), max_size=3, unique=True)),
        "existing_authors": draw(st.lists(st.sampled_from(AUTHORS), max_size=3, unique=True)),
    }


def test_natural_key_dumps_load_the_same_data_under_other_keys(
    backend: Any, ns: ModuleType
) -> None:
    @settings(
        max_examples=25,
        derandomize=True,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(data=_data())
    def check(data: dict[str, Any]) -> None:
        asyncio.run(_dump_and_reload(backend.url, ns, data))

    asyncio.run(_create(backend.url, ns.metadata))
    check()


async def _create(url: str, metadata: MetaData) -> None:
    database = Database(url)
    await database.create_all(metadata)
    await database.dispose()


async def _wipe(connection: AsyncConnection, ns: ModuleType) -> None:
    """Delete every row; generated keys go on where they were (AUTOINCREMENT, sequences)."""
    await connection.execute(ns.author.update().values(mentor_id=None))
    for table in reversed(ns.metadata.sorted_tables):
        await connection.execute(table.delete())


async def _dump_and_reload(url: str, ns: ModuleType, data: dict[str, Any]) -> None:
    database = Database(url)
    try:
        async with database.connect() as connection:
            await _wipe(connection, ns)
            await _seed(connection, ns, data)
            before = await _contents(connection, ns)
        text = io.StringIO()
        await dump(database, text, models=ns.metadata, natural_primary=True, natural_foreign=True)
        async with database.connect() as connection:
            # Burn generated keys, then add rows the fixture will merge into by natural key.
            await _wipe(connection, ns)
            for i in range(data["burnt"]):
                await connection.execute(insert(ns.tag).values(name=f"burnt{i}"))
                await connection.execute(insert(ns.author).values(name=f"burnt{i}"))
            await connection.execute(ns.tag.delete())
            await connection.execute(ns.author.delete())
            for name in data["existing_tags"]:
                await connection.execute(insert(ns.tag).values(name=name))
            for name in data["existing_authors"]:
                await connection.execute(insert(ns.author).values(name=name))
        await load(database, io.BytesIO(text.getvalue().encode()), models=ns.metadata)
        async with database.connect() as connection:
            after = await _contents(connection, ns)
        extra_tags = set(data["existing_tags"]) - before["tag"]
        extra_authors = {(n, None) for n in data["existing_authors"]} - {
            (a, None) for a, _ in before["author"]
        }
        assert after["tag"] - extra_tags == before["tag"]
        assert after["author"] - extra_authors == before["author"]
        for name in ("book", "book_tag", "profile", "review", "pin"):
            assert after[name] == before[name], name
    finally:
        await database.dispose()


async def _two_books(database: Database, ns: ModuleType) -> None:
    """ann wrote x, tagged red (tag 1) and green (tag 2), and has a profile."""
    await _recreate(database, ns.metadata)
    async with database.connect() as connection:
        await _seed(
            connection,
            ns,
            {
                "author": [{"id": 1, "name": "ann", "mentor_id": None}],
                "tag": [{"id": 1, "name": "red"}, {"id": 2, "name": "green"}],
                "book": [{"id": 1, "author_id": 1, "title": "x"}],
                "book_tag": [{"book_id": 1, "tag_id": 2}],
                "profile": [{"author_id": 1, "bio": "ann's"}],
                "review": [],
                "pin": [],
            },
        )


async def _other_keys(database: Database, ns: ModuleType) -> None:
    """A fresh database where the same names hold other keys: green is 1, red is 2, bob is 1."""
    await _recreate(database, ns.metadata)
    async with database.connect() as connection:
        await connection.execute(insert(ns.tag), [{"name": "green"}, {"name": "red"}])
        await connection.execute(insert(ns.author), [{"name": "bob"}, {"name": "ann"}])
        await connection.execute(insert(ns.book).values(author_id=1, title="y"))
        await connection.execute(insert(ns.book).values(author_id=2, title="x"))


async def test_keys_inside_primary_keys_are_written_as_natural_keys(
    database: Database, ns: ModuleType
) -> None:
    await _two_books(database, ns)
    text = io.StringIO()
    await dump(database, text, models=ns.metadata, natural_primary=True)
    records = json.loads(text.getvalue())
    link = next(r for r in records if r["table"] == "book_tag")
    assert link["pk"] == {"book_id": [["ann"], "x"], "tag_id": ["green"]}
    profile = next(r for r in records if r["table"] == "profile")
    assert profile["pk"] == ["ann"]
    await _other_keys(database, ns)
    await load(database, io.BytesIO(text.getvalue().encode()), models=ns.metadata)
    async with database.connect() as connection:
        contents = await _contents(connection, ns)
    assert contents["book_tag"] == {(("ann", "x"), "green")}
    assert contents["profile"] == {("ann", "ann's")}


async def test_a_natural_foreign_dump_of_one_table_links_the_target_rows(
    database: Database, ns: ModuleType
) -> None:
    await _two_books(database, ns)
    text = io.StringIO()
    await dump(
        database,
        text,
        models=ns.metadata,
        natural_foreign=True,
        tables=["book_tag"],
        allow_dangling=True,  # the target database has the books and tags
    )
    await _other_keys(database, ns)
    await load(database, io.BytesIO(text.getvalue().encode()), models=ns.metadata)
    async with database.connect() as connection:
        contents = await _contents(connection, ns)
    assert contents["book_tag"] == {(("ann", "x"), "green")}


@pytest.mark.parametrize("option", ["natural_foreign", "natural_primary"])
async def test_a_composite_foreign_key_to_a_natural_key_table_is_refused(
    database: Database, ns: ModuleType, option: str
) -> None:
    await _recreate(database, ns.refused)
    with pytest.raises(FixtureSchemaError, match=r"slot\(room, shelf_id\) -> shelf\(room, id\)"):
        await dump(database, io.StringIO(), models=ns.refused, tables=["slot"], **{option: True})
    # without natural keys the raw keys are the data, and nothing is left out
    await dump(database, io.StringIO(), models=ns.refused, tables=["slot"])


async def test_a_natural_key_containing_itself_is_refused(
    database: Database, ns: ModuleType
) -> None:
    await _recreate(database, ns.refused)
    with pytest.raises(FixtureSchemaError, match=r"'folder'.*'parent_id'.*back to 'folder'"):
        await dump(database, io.StringIO(), models=ns.refused, natural_primary=True)


@pytest.fixture
def labels() -> tuple[MetaData, Table, Table]:
    metadata = MetaData()
    label = Table(
        "label",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("name", String(20)),  # neither unique nor NOT NULL
        info={"natural_key": ("name",)},
    )
    sticker = Table(
        "sticker",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("label_id", Integer, ForeignKey("label.id")),
    )
    return metadata, label, sticker


@pytest.mark.parametrize(
    ("label_id", "expected"),
    [
        (1, r"'sticker' field 'label_id'.*'label'.*primary key 1.*\['dup'\].*primary key 2"),
        (3, r"'sticker' field 'label_id'.*'label'.*primary key 3.*NULL"),
    ],
)
async def test_a_natural_key_that_names_no_single_row_is_refused(
    database: Database, labels: tuple[MetaData, Table, Table], label_id: int, expected: str
) -> None:
    metadata, label, sticker = labels
    await _recreate(database, metadata)
    async with database.connect() as connection:
        await connection.execute(
            insert(label),
            [{"id": 1, "name": "dup"}, {"id": 2, "name": "dup"}, {"id": 3, "name": None}],
        )
        await connection.execute(insert(sticker).values(id=1, label_id=label_id))
    with pytest.raises(UnresolvedReferenceError, match=expected):
        await dump(database, io.StringIO(), models=metadata, natural_foreign=True)
    with pytest.raises(UnresolvedReferenceError, match=r"'label' row with primary key 1"):
        await dump(database, io.StringIO(), models=metadata, natural_primary=True)
    # rows nobody points at and whose key is kept do not matter
    await dump(database, io.StringIO(), models=metadata, natural_foreign=True, tables=["label"])


async def test_a_raw_key_to_rows_given_by_natural_key_is_refused_on_load(
    database: Database, ns: ModuleType
) -> None:
    """What dumps made before this rule look like: the tag ids they hold mean nothing now."""
    await _other_keys(database, ns)
    fixture = [
        {"table": "tag", "fields": {"name": "green"}},
        {"table": "book_tag", "pk": {"book_id": [["ann"], "x"], "tag_id": 1}, "fields": {}},
    ]
    with pytest.raises(
        UnresolvedReferenceError, match=r"record 1: table 'book_tag' field 'tag_id' = 1.*'tag'"
    ):
        await load(database, io.BytesIO(json.dumps(fixture).encode()), models=ns.metadata)
    async with database.connect() as connection:
        assert (await _contents(connection, ns))["book_tag"] == set()


async def test_rows_of_two_files_are_matched_by_their_own_natural_keys(
    database: Database, tmp_path: Path
) -> None:
    """Both files' first record is record 0: each must still find its own row."""
    metadata = MetaData()
    setting = Table(
        "setting",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("name", String(20), nullable=False),  # no UNIQUE to catch a mix-up
        Column("value", String(20), nullable=False),
        info={"natural_key": ("name",)},
    )
    await _recreate(database, metadata)
    async with database.connect() as connection:
        await connection.execute(
            insert(setting), [{"name": "a", "value": "old"}, {"name": "b", "value": "old"}]
        )
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    first.write_text('[{"table": "setting", "fields": {"name": "a", "value": "new a"}}]')
    second.write_text('[{"table": "setting", "fields": {"name": "b", "value": "new b"}}]')
    await load(database, [first, second], models=metadata)
    async with database.connect() as connection:
        stored = set((await connection.execute(select(setting.c.name, setting.c.value))).all())
    assert stored == {("a", "new a"), ("b", "new b")}


@pytest.fixture
def crews() -> MetaData:
    """A cycle: crew.captain_id -> sailor, sailor.crew_id -> crew, in sailor's natural key."""
    metadata = MetaData()
    Table(
        "crew",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("name", String(20), nullable=False, unique=True),
        Column("captain_id", Integer, ForeignKey("sailor.id", use_alter=True)),
        info={"natural_key": ("name",)},
    )
    Table(
        "sailor",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("crew_id", Integer, ForeignKey("crew.id")),
        Column("email", String(20), nullable=False),
        info={"natural_key": ("crew_id", "email")},
    )
    return metadata


async def test_a_natural_key_set_only_after_the_inserts_is_refused(
    database: Database, crews: MetaData
) -> None:
    await _recreate(database, crews)
    async with database.connect() as connection:
        await connection.execute(insert(crews.tables["crew"]).values(id=1, name="red"))
        await connection.execute(insert(crews.tables["sailor"]).values(id=1, crew_id=1, email="a"))
    with pytest.raises(FixtureSchemaError, match=r"'sailor' cannot be dumped.*'crew_id'"):
        await dump(database, io.StringIO(), models=crews, natural_primary=True)
    fixture = [
        {"table": "crew", "fields": {"name": "red"}},
        {"table": "sailor", "fields": {"crew_id": ["red"], "email": "a"}},
    ]
    with pytest.raises(
        UnresolvedReferenceError, match=r"record 1: table 'sailor' record without 'pk'.*'crew_id'"
    ):
        await load(database, io.BytesIO(json.dumps(fixture).encode()), models=crews)


async def test_a_record_without_pk_and_a_null_natural_key_is_refused(
    database: Database, crews: MetaData
) -> None:
    """It would find no row, so every merge of the same fixture would add it again."""
    await _recreate(database, crews)
    fixture = [{"table": "sailor", "fields": {"crew_id": None, "email": "a"}}]
    with pytest.raises(UnresolvedReferenceError, match=r"record 0: .*NULL 'crew_id'"):
        await load(database, io.BytesIO(json.dumps(fixture).encode()), models=crews)
    async with database.connect() as connection:
        assert (await connection.execute(select(crews.tables["sailor"]))).all() == []


async def test_one_natural_key_given_with_and_without_pk_is_refused(database: Database) -> None:
    """The record without pk is looked up before the other is written: both would be inserted."""
    metadata = MetaData()
    setting = Table(
        "setting",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("name", String(20), nullable=False),  # no UNIQUE to catch a second row
        info={"natural_key": ("name",)},
    )
    await _recreate(database, metadata)
    fixture = [
        {"table": "setting", "pk": 7, "fields": {"name": "a"}},
        {"table": "setting", "fields": {"name": "a"}},
    ]
    with pytest.raises(
        DuplicateRecordError, match=r"record 1: table 'setting' natural key \['a'\]"
    ):
        await load(database, io.BytesIO(json.dumps(fixture).encode()), models=metadata)
    async with database.connect() as connection:
        assert (await connection.execute(select(setting))).all() == []
