"""A small Django app whose tables and dumpdata files are the golden data of the Django format."""

import uuid

from django.db import models


class AuthorManager(models.Manager):
    def get_by_natural_key(self, name):
        return self.get(name=name)


class Author(models.Model):
    name = models.CharField(max_length=100, unique=True)
    born = models.DateField(null=True)
    mentor = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL)

    objects = AuthorManager()

    def natural_key(self):
        return (self.name,)


class Genre(models.Model):
    code = models.CharField(max_length=10, primary_key=True)
    label = models.CharField(max_length=50)


class Publisher(models.Model):
    name = models.CharField(max_length=100)
    country = models.CharField(max_length=2, default="GB")

    class Meta:
        db_table = "publishers"


class Book(models.Model):
    title = models.CharField(max_length=200)
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="books")
    publisher = models.ForeignKey(Publisher, null=True, on_delete=models.SET_NULL)
    genres = models.ManyToManyField(Genre, blank=True)
    published = models.DateField()
    price = models.DecimalField(max_digits=8, decimal_places=2)
    in_print = models.BooleanField(default=True)
    added_at = models.DateTimeField()
    metadata = models.JSONField(default=dict)


class Review(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    book = models.ForeignKey(Book, on_delete=models.CASCADE)
    rating = models.PositiveSmallIntegerField()
    body = models.TextField(blank=True)
