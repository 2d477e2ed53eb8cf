"""The schema of the scale benchmark, made the SQLAlchemy way (``create_all``, plain FKs).

Per ``books`` books: ``books / 10`` authors, ``books / 40`` tags, ``1.85 * books`` book-tag
links (two tags for 17 books in 20, one for the rest) and ``2 * books`` reviews, so 4.975 rows
per book: 49,750 rows at 10,000 books, 497,500 at 100,000, 4,975,000 at 1,000,000.
Imported by name (``--models scale_models``) by the command-line runs.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from batteries_models import NAMING_CONVENTION


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Author(Base):
    __tablename__ = "scale_author"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(200))
    born_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    active: Mapped[bool] = mapped_column(Boolean)
    bio: Mapped[str | None] = mapped_column(Text)


class Tag(Base):
    __tablename__ = "scale_tag"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(50))


class Book(Base):
    __tablename__ = "scale_book"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("scale_author.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    pages: Mapped[int] = mapped_column(Integer)
    price: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    in_print: Mapped[bool] = mapped_column(Boolean)
    subtitle: Mapped[str | None] = mapped_column(Text)


class BookTag(Base):
    __tablename__ = "scale_book_tag"
    __table_args__ = (UniqueConstraint("book_id", "tag_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("scale_book.id"), index=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("scale_tag.id"))


class Review(Base):
    __tablename__ = "scale_review"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("scale_book.id"), index=True)
    rating: Mapped[int] = mapped_column(SmallInteger)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


MODELS = [Author, Tag, Book, BookTag, Review]
