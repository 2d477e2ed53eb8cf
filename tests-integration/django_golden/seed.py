"""The rows of the golden dump, created through Django's ORM (run by regenerate.sh)."""

import datetime as dt
import uuid
from decimal import Decimal

from library.models import Author, Book, Genre, Publisher, Review

UTC = dt.UTC
Genre.objects.bulk_create(
    [
        Genre(code="sf", label="Science fiction"),
        Genre(code="fant", label="Fantasy"),
        Genre(code="poe", label="Poésie"),
    ]
)
gollancz = Publisher.objects.create(name="Gollancz")
seuil = Publisher.objects.create(name="Éditions du Seuil", country="FR")
le_guin = Author.objects.create(name="Ursula K. Le Guin", born=dt.date(1929, 10, 21))
banks = Author.objects.create(name="Iain M. Banks", born=dt.date(1954, 2, 16))
shelley = Author.objects.create(name="Mary Shelley", born=dt.date(1797, 8, 30))
le_guin.mentor = shelley  # a forward reference: author 1 points at author 3
le_guin.save()
banks.mentor = le_guin
banks.save()
dispossessed = Book.objects.create(
    title="The Dispossessed",
    author=le_guin,
    publisher=gollancz,
    published=dt.date(1974, 5, 1),
    price=Decimal("9.99"),
    added_at=dt.datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
    metadata={"pages": 387, "awards": ["Hugo", "Nebula"], "series": None},
)
phlebas = Book.objects.create(
    title="Consider Phlebas",
    author=banks,
    publisher=None,
    published=dt.date(1987, 4, 23),
    price=Decimal("12.50"),
    in_print=False,
    added_at=dt.datetime(2024, 6, 30, 23, 59, 59, tzinfo=UTC),
    metadata={},
)
frankenstein = Book.objects.create(
    title="Frankenstein; or, The Modern Prometheus",
    author=shelley,
    publisher=seuil,
    published=dt.date(1818, 1, 1),
    price=Decimal("0.00"),
    added_at=dt.datetime(2025, 12, 31, 12, 0, tzinfo=UTC),
    metadata={"note": "«première» édition", "ratio": 0.1},
)
dispossessed.genres.set(["sf"])
phlebas.genres.set(["sf", "fant"])
frankenstein.genres.set(["fant", "poe"])
Review.objects.create(
    id=uuid.UUID("0190f5a2-7c1d-7e3a-9b2c-4d5e6f708192"),
    book=dispossessed,
    rating=5,
    body="Ambiguous utopia.\nSecond line.",
)
Review.objects.create(
    id=uuid.UUID("0190f5a2-7c1d-7e3a-9b2c-4d5e6f708193"), book=frankenstein, rating=4, body=""
)
