"""Soft delete and hooks: python docs/examples/crud_soft_delete_and_hooks.py [DATABASE_URL]."""

import asyncio
import sys
from typing import Any

from pydantic import BaseModel as Schema
from sqlmodel import Field

from batteries_crud import BaseCRUD
from batteries_models import BaseModel, Database, SoftDeleteMixin, UUIDMixin


class Article(BaseModel, UUIDMixin, SoftDeleteMixin, table=True):
    slug: str = Field(unique=True)
    title: str


class ArticleIn(Schema):
    title: str
    slug: str = ""


class ArticleCRUD(BaseCRUD[Article, ArticleIn, ArticleIn]):
    async def before_create(self, obj: Article) -> None:
        # Hooks change behaviour without rewriting create(): derive the slug.
        obj.slug = obj.slug or obj.title.lower().replace(" ", "-")

    async def before_update(self, obj: Article, values: dict[str, Any]) -> None:
        values.pop("slug", None)  # slugs never change once published


async def main(url: str) -> None:
    db = Database(url)
    await db.create_all()
    async with db.session() as session:
        articles = ArticleCRUD(session)
        hello = await articles.create(ArticleIn(title="Hello World"))
        assert hello.slug == "hello-world"
        await articles.update(hello, {"slug": "other", "title": "Hello, World"})
        assert (hello.slug, hello.title) == ("hello-world", "Hello, World")

        await articles.delete(hello.id)  # sets deleted_at
        assert await articles.get(hello.id) is None
        assert await articles.count() == 0
        assert await articles.count(with_deleted=True) == 1

        await articles.delete(hello.id, hard=True)  # a real DELETE
        assert await articles.count(with_deleted=True) == 0
    await db.drop_all()
    await db.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "sqlite+aiosqlite:///articles.db"))
