"""A schema where every reference to a natural-key table must survive a change of generated keys.

``tag`` and ``author`` have generated keys and a natural key; ``author.mentor_id`` points back at
``author`` (a self reference by natural key); ``book``'s natural key ``(author_id, title)`` nests
the author's; ``book_tag`` is an association table whose primary key is two foreign keys;
``profile``'s primary key is itself a foreign key to ``author``; ``review`` has no natural key;
``pin`` points at ``tag.name``, a unique column that is not its key.
Every generated key uses SQLite's AUTOINCREMENT, so deleted keys are not handed out again and a
second load gets other keys than the first database had.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)

from batteries_models import NAMING_CONVENTION

metadata = MetaData(naming_convention=NAMING_CONVENTION)
_AUTO: dict[str, Any] = {"sqlite_autoincrement": True}

author = Table(
    "author",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(20), nullable=False, unique=True),
    Column("mentor_id", Integer, ForeignKey("author.id"), nullable=True),
    info={"natural_key": ("name",)},
    **_AUTO,
)
tag = Table(
    "tag",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(20), nullable=False, unique=True),
    info={"natural_key": ("name",)},
    **_AUTO,
)
book = Table(
    "book",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("author_id", Integer, ForeignKey("author.id"), nullable=False),
    Column("title", String(20), nullable=False),
    UniqueConstraint("author_id", "title"),
    info={"natural_key": ("author_id", "title")},
    **_AUTO,
)
book_tag = Table(
    "book_tag",
    metadata,
    Column("book_id", Integer, ForeignKey("book.id"), primary_key=True),
    Column("tag_id", Integer, ForeignKey("tag.id"), primary_key=True),
)
profile = Table(
    "profile",
    metadata,
    Column("author_id", Integer, ForeignKey("author.id"), primary_key=True),
    Column("bio", String(40), nullable=False),
)
review = Table(
    "review",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("book_id", Integer, ForeignKey("book.id"), nullable=False),
    Column("stars", Integer, nullable=False),
    **_AUTO,
)
pin = Table(
    "pin",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("tag_name", String(20), ForeignKey("tag.name"), nullable=False),
)

# Shapes a natural key cannot express: the dump must refuse them, never write raw keys.
refused = MetaData(naming_convention=NAMING_CONVENTION)
shelf = Table(
    "shelf",
    refused,
    Column("id", Integer, primary_key=True),
    Column("room", String(20), nullable=False),
    Column("code", String(20), nullable=False),
    UniqueConstraint("room", "id"),
    info={"natural_key": ("room", "code")},
)
slot = Table(
    "slot",
    refused,
    Column("id", Integer, primary_key=True),
    Column("room", String(20), nullable=False),
    Column("shelf_id", Integer, nullable=False),
    ForeignKeyConstraint(["room", "shelf_id"], ["shelf.room", "shelf.id"]),
)
folder = Table(
    "folder",
    refused,
    Column("id", Integer, primary_key=True),
    Column("parent_id", Integer, ForeignKey("folder.id"), nullable=True),
    Column("name", String(20), nullable=False),
    info={"natural_key": ("parent_id", "name")},
)
