import json
import uuid
from datetime import UTC, datetime

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import CreateTable
from sqlmodel import Field

from batteries_models import BaseModel, IntIDMixin, SoftDeleteMixin, TimestampMixin, UUIDMixin


class Gadget(BaseModel, UUIDMixin, TimestampMixin, SoftDeleteMixin, table=True):
    __table_args__ = (
        UniqueConstraint("name"),
        CheckConstraint("price >= 0", name="price_positive"),
    )
    name: str
    price: int = 0
    owner_id: int | None = Field(default=None, foreign_key="owner.id")


class Owner(BaseModel, IntIDMixin, table=True):
    name: str = "x" * 100


def test_constraints_get_conventional_names() -> None:
    ddl = str(CreateTable(Gadget.__table__).compile(dialect=postgresql.dialect()))  # type: ignore[attr-defined]
    assert "CONSTRAINT pk_gadget PRIMARY KEY" in ddl
    assert "CONSTRAINT uq_gadget_name UNIQUE" in ddl
    assert "CONSTRAINT ck_gadget_price_positive CHECK" in ddl
    assert "CONSTRAINT fk_gadget_owner_id_owner FOREIGN KEY" in ddl
    assert {i.name for i in Gadget.__table__.indexes} == {"ix_gadget_deleted_at"}  # type: ignore[attr-defined]


def test_uuid_and_timestamps_are_set_on_construction() -> None:
    gadget = Gadget(name="lamp")
    assert isinstance(gadget.id, uuid.UUID)
    assert gadget.id.version == 7
    assert gadget.created_at.tzinfo is UTC
    assert gadget.identity == (gadget.id,)


def test_repr_puts_the_key_first_and_shortens_long_values() -> None:
    text = repr(Owner(id=3))
    assert text.startswith("Owner(id=3, name='xxxx")
    assert "..." in text
    assert len(text) < 80


def test_to_dict_holds_columns_only() -> None:
    gadget = Gadget(name="lamp", price=3)
    assert set(gadget.to_dict()) == {
        "id",
        "name",
        "price",
        "owner_id",
        "created_at",
        "updated_at",
        "deleted_at",
    }


def test_soft_delete_helpers() -> None:
    gadget = Gadget(name="lamp")
    assert not gadget.is_deleted
    gadget.soft_delete()
    assert gadget.is_deleted
    gadget.restore()
    assert gadget.deleted_at is None
    assert str(Gadget.not_deleted()) == "gadget.deleted_at IS NULL"


ORDER = ["id", "name", "price", "owner_id", "created_at", "updated_at", "deleted_at"]


def test_key_first_own_fields_next_bookkeeping_last() -> None:
    assert [column.name for column in Gadget.__table__.columns] == ORDER  # type: ignore[attr-defined]
    assert list(Gadget.model_fields) == ORDER
    # A table model's values sit in __dict__ in the order they were set: JSON follows the fields.
    gadget = Gadget(price=3, name="lamp")
    assert list(json.loads(gadget.model_dump_json())) == ORDER
    assert list(gadget.model_dump(exclude={"price"})) == [n for n in ORDER if n != "price"]


def test_a_schema_from_the_mixins_and_a_redeclared_field_keep_their_place() -> None:
    class GadgetRead(BaseModel, IntIDMixin, TimestampMixin):
        name: str
        created_at: datetime  # declared by the model itself: the model decides where

    assert list(GadgetRead.model_fields) == ["id", "created_at", "name", "updated_at"]
    assert list(GadgetRead(name="x", created_at=datetime.now(UTC)).model_dump()) == [
        "id",
        "created_at",
        "name",
        "updated_at",
    ]
