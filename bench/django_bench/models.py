"""The scale benchmark's tables as Django sees them, for ``loaddata`` / ``dumpdata``."""

from __future__ import annotations

from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=100)
    email = models.CharField(max_length=200)
    born_at = models.DateTimeField()
    active = models.BooleanField()
    bio = models.TextField(null=True)

    class Meta:
        db_table = "scale_author"
        managed = False


class Tag(models.Model):
    name = models.CharField(max_length=50)

    class Meta:
        db_table = "scale_tag"
        managed = False


class Book(models.Model):
    author = models.ForeignKey(Author, models.DO_NOTHING)
    title = models.CharField(max_length=200)
    pages = models.IntegerField()
    price = models.DecimalField(max_digits=10, decimal_places=2)
    published_at = models.DateTimeField()
    in_print = models.BooleanField()
    subtitle = models.TextField(null=True)

    class Meta:
        db_table = "scale_book"
        managed = False


class BookTag(models.Model):
    book = models.ForeignKey(Book, models.DO_NOTHING)
    tag = models.ForeignKey(Tag, models.DO_NOTHING)

    class Meta:
        db_table = "scale_book_tag"
        managed = False


class Review(models.Model):
    book = models.ForeignKey(Book, models.DO_NOTHING)
    rating = models.SmallIntegerField()
    body = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        db_table = "scale_review"
        managed = False
