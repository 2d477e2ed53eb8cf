"""Refresh staging from production, scrubbed: a subset, personal data replaced, into staging.

Run it as ``python docs/examples/fixtures_scrub.py``. ``DATABASE_URL`` is "production" and
``STAGING_URL`` is "staging" (temporary SQLite files by default). In a project, the rules below
live in ``pyproject.toml`` (``[tool.batteries.fixtures.transforms]``) and the key in the
environment (``BATTERIES_SCRUB_KEY``); here they are passed as settings so the example is whole.
"""

import asyncio
import os
import secrets
import tempfile
from datetime import date
from pathlib import Path
from typing import ClassVar

from sqlmodel import Field, select

from batteries_fixtures import FixtureSchemaError, dump, load
from batteries_fixtures.transforms import FixtureRecord, transform
from batteries_models import BaseModel, BatteriesSettings, Database, DatabaseSettings, IntIDMixin


class Customer(BaseModel, IntIDMixin, table=True):
    __tablename__ = "docs_customer"
    __natural_key__ = ("email",)
    # Rules can sit on the model, too: ``pyproject.toml`` wins where both name a column.
    __fixture_transforms__: ClassVar[dict[str, str]] = {"full_name": "name"}
    email: str = Field(unique=True, max_length=120)
    full_name: str
    phone: str | None = None
    born_on: date | None = None
    country: str = Field(max_length=2)


class Order(BaseModel, IntIDMixin, table=True):
    __tablename__ = "docs_order"
    customer_id: int = Field(foreign_key="docs_customer.id")
    placed_on: date
    status: str
    total_cents: int


@transform("docs_order")
def no_cancelled_orders(record: FixtureRecord) -> FixtureRecord | None:
    """A record transform: ``None`` drops the record."""
    return None if record.fields["status"] == "cancelled" else record


RULES = {
    "docs_customer.email": "email",
    "docs_customer.born_on": {"scrub": "date_shift", "days": 60},
    "docs_customer.country": "keep",  # reviewed: not personal
    # "docs_customer.phone" is left out at first: the leak guard stops the dump.
}


async def main(production_url: str, staging_url: str, folder: Path) -> None:
    key = os.environ.get("BATTERIES_SCRUB_KEY") or secrets.token_hex(32)

    def project_settings(rules: dict[str, object]) -> BatteriesSettings:
        return BatteriesSettings(
            databases={
                "production": DatabaseSettings(url=production_url),
                "staging": DatabaseSettings(url=staging_url),
            },
            fixtures={"transforms": rules},
            scrub_key=key,
        )

    settings = project_settings(RULES)
    for name in ("production", "staging"):
        database = Database.from_settings(settings.database(name), name=name)
        await database.create_all()
        if name == "production":
            async with database.session() as session:
                ann = Customer(
                    email="ann@corp.example",
                    full_name="Ann Lee",
                    phone="+33 6 12 34 56 78",
                    born_on=date(1990, 5, 17),
                    country="FR",
                )
                bob = Customer(email="bob@corp.example", full_name="Bob Stone", country="FR")
                cyd = Customer(email="cyd@corp.example", full_name="Cyd Ray", country="US")
                session.add_all([ann, bob, cyd])
                await session.flush()
                session.add_all(
                    [
                        Order(
                            customer_id=ann.id,
                            placed_on=date(2024, 3, 1),
                            status="paid",
                            total_cents=1250,
                        ),
                        Order(
                            customer_id=bob.id,
                            placed_on=date(2024, 4, 2),
                            status="cancelled",
                            total_cents=900,
                        ),
                        Order(
                            customer_id=cyd.id,
                            placed_on=date(2024, 5, 3),
                            status="paid",
                            total_cents=4000,
                        ),
                    ]
                )
        await database.dispose()

    subset = folder / "staging.json"
    models = [Customer, Order]
    options = {
        "tables": ["docs_order"],
        "where": {
            "docs_order": "docs_order.customer_id IN "
            "(SELECT id FROM docs_customer WHERE country = 'FR')"
        },
        "with_related": True,  # the customers of those orders come along
        "natural_foreign": True,  # orders point at customers by (scrubbed) e-mail
        "scrub": True,
        "models": models,
    }
    try:
        await dump("production", subset, settings=settings, **options)
    except FixtureSchemaError as exc:
        print(f"refused: {exc}")
    settings = project_settings({**RULES, "docs_customer.phone": "phone"})
    print((await dump("production", subset, settings=settings, **options)).summary())
    print((await load("staging", subset, models=models, settings=settings)).summary())

    staging = Database.from_settings(settings.database("staging"), name="staging")
    async with staging.session() as session:
        rows = await session.exec(
            select(Order.total_cents, Customer.email).join(Customer).order_by(Order.total_cents)
        )
        for total, email in rows:
            print(f"staging order of {total} cents by {email}")
    await staging.dispose()
    print(subset.read_text(encoding="utf-8"))


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        production = os.environ.get(
            "DATABASE_URL", f"sqlite+aiosqlite:///{folder / 'production.db'}"
        )
        staging = os.environ.get("STAGING_URL", f"sqlite+aiosqlite:///{folder / 'staging.db'}")
        asyncio.run(main(production, staging, folder))
