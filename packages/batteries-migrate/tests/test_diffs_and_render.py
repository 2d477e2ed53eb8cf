from types import SimpleNamespace

import sqlalchemy as sa
from sqlmodel.sql.sqltypes import AutoString

from batteries_migrate._diffs import describe
from batteries_migrate.environment import render_item


def test_differences_read_as_one_line_each() -> None:
    metadata = sa.MetaData()
    table = sa.Table("hero", metadata, sa.Column("id", sa.Integer, primary_key=True))
    column = sa.Column("age", sa.Integer, nullable=True)
    index = sa.Index("ix_hero_id", table.c.id)
    diffs = [
        ("add_table", table),
        ("remove_column", None, "hero", column),
        ("add_index", index),
        [("modify_nullable", None, "hero", "name", {}, False, True)],
        [("modify_type", None, "hero", "name", {}, sa.String(50), sa.String(200))],
    ]

    assert describe(diffs) == [
        "add table hero",
        "remove column hero.age (INTEGER, nullable)",
        "add index ix_hero_id on hero",
        "change nullable of hero.name: False -> True",
        "change type of hero.name: VARCHAR(50) -> VARCHAR(200)",
    ]


def test_render_item_imports_the_module_of_non_sqlalchemy_types() -> None:
    context = SimpleNamespace(imports=set())

    assert render_item("type", AutoString(), context) is False  # type: ignore[arg-type]
    assert render_item("type", sa.Integer(), context) is False  # type: ignore[arg-type]

    assert context.imports == {"import sqlmodel.sql.sqltypes"}
