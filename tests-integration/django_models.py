"""Models of the tables Django created for django_golden/library (what a user moving off Django
writes): the column types Django's fields store, which reflection of SQLite cannot see (a
``UUIDField`` is ``char(32)``, a ``JSONField`` ``text``, a ``DecimalField`` ``decimal``).
``library_author`` declares its natural key, the ``natural_key()`` of Django's ``Author``.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()

# BigInteger on PostgreSQL (Django's BigAutoField), Integer on SQLite (its rowid alias).
_ID = BigInteger().with_variant(Integer(), "sqlite")

Table(
    "library_genre",
    metadata,
    Column("code", String(10), primary_key=True),
    Column("label", String(50), nullable=False),
)
Table(
    "publishers",
    metadata,
    Column("id", _ID, primary_key=True),
    Column("name", String(100), nullable=False),
    Column("country", String(2), nullable=False),
)
Table(
    "library_author",
    metadata,
    Column("id", _ID, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("born", Date),
    Column("mentor_id", BigInteger, ForeignKey("library_author.id")),
    info={"natural_key": ("name",)},
)
Table(
    "library_book",
    metadata,
    Column("id", _ID, primary_key=True),
    Column("title", String(200), nullable=False),
    Column("published", Date, nullable=False),
    Column("price", Numeric(8, 2), nullable=False),
    Column("in_print", Boolean, nullable=False),
    Column("added_at", DateTime(timezone=True), nullable=False),
    Column("metadata", JSON().with_variant(JSONB(), "postgresql"), nullable=False),
    Column("author_id", BigInteger, ForeignKey("library_author.id"), nullable=False),
    Column("publisher_id", BigInteger, ForeignKey("publishers.id")),
)
Table(
    "library_book_genres",
    metadata,
    Column("id", _ID, primary_key=True),
    Column("book_id", BigInteger, ForeignKey("library_book.id"), nullable=False),
    Column("genre_id", String(10), ForeignKey("library_genre.code"), nullable=False),
)
Table(
    "library_review",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("rating", SmallInteger, nullable=False),
    Column("body", Text, nullable=False),
    Column("book_id", BigInteger, ForeignKey("library_book.id"), nullable=False),
)
