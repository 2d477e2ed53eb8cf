from typing import Any

import pytest
from pydantic import BaseModel as Schema
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field

from batteries_crud import (
    BaseCRUD,
    ConflictError,
    CRUDDefinitionError,
    CRUDError,
    InvalidFilterError,
    MultipleFoundError,
    NotFoundError,
)
from batteries_crud._conflicts import translate_integrity_error
from batteries_crud._model_info import model_info
from batteries_models import BaseModel, BatteriesError, IntIDMixin


class Owner(BaseModel, IntIDMixin, table=True):
    __tablename__ = "unit_owner"
    email: str = Field(unique=True)


class Pet(BaseModel, IntIDMixin, table=True):
    __tablename__ = "unit_pet"
    name: str
    owner_id: int | None = Field(default=None, foreign_key="unit_owner.id")


class OwnerIn(Schema):
    email: str


def test_error_hierarchy_keeps_builtins_working() -> None:
    assert issubclass(CRUDError, BatteriesError)
    assert issubclass(NotFoundError, LookupError)
    assert issubclass(MultipleFoundError, LookupError)
    assert issubclass(InvalidFilterError, ValueError)
    assert issubclass(CRUDDefinitionError, TypeError)
    assert issubclass(ConflictError, CRUDError)


def test_model_is_read_from_generics_through_an_intermediate_base() -> None:
    class Repository(BaseCRUD[Any, OwnerIn, OwnerIn]):
        pass

    class OwnerCRUD(BaseCRUD[Owner, OwnerIn, OwnerIn]):
        pass

    class AuditedOwnerCRUD(OwnerCRUD):
        pass

    assert OwnerCRUD.model is Owner
    assert AuditedOwnerCRUD.model is Owner
    with pytest.raises(CRUDDefinitionError, match="has no model"):
        Repository(session=None)  # type: ignore[arg-type]


def test_explicit_model_attribute_wins() -> None:
    class PetCRUD(BaseCRUD[Any, OwnerIn, OwnerIn]):
        model = Pet

    assert PetCRUD.model is Pet


class _FakeOrig(Exception):
    pass


def _integrity(message: str, cause: BaseException | None = None) -> IntegrityError:
    orig = _FakeOrig(message)
    orig.__cause__ = cause
    return IntegrityError("INSERT ...", {}, orig)


def test_sqlite_unique_message_names_constraint_and_columns() -> None:
    error = translate_integrity_error(
        model_info(Owner), _integrity("UNIQUE constraint failed: unit_owner.email")
    )
    assert (error.kind, error.table, error.columns) == ("unique", "unit_owner", ("email",))
    assert error.constraint == "uq_unit_owner_email"


def test_sqlite_foreign_key_message_names_the_models_keys() -> None:
    error = translate_integrity_error(model_info(Pet), _integrity("FOREIGN KEY constraint failed"))
    assert (error.kind, error.columns) == ("foreign_key", ("owner_id",))


def test_postgres_sqlstate_and_constraint_name() -> None:
    class UniqueViolation(Exception):
        sqlstate = "23505"
        constraint_name = "uq_unit_owner_email"

    error = translate_integrity_error(model_info(Owner), _integrity("dup", UniqueViolation()))
    assert (error.kind, error.constraint, error.columns) == (
        "unique",
        "uq_unit_owner_email",
        ("email",),
    )
    assert "\n" not in str(error)
    assert "email" in str(error)


def test_unknown_integrity_errors_still_become_conflicts() -> None:
    error = translate_integrity_error(model_info(Owner), _integrity("something odd"))
    assert error.kind == "unknown"
    assert error.constraint is None
