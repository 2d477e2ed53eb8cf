import inspect

import pytest

import batteries_migrate
import batteries_migrate.testing

COMMANDS = [
    "branches",
    "check",
    "current",
    "downgrade",
    "heads",
    "history",
    "init",
    "make_migration",
    "merge",
    "show",
    "stamp",
    "upgrade",
]


def test_all_is_sorted_and_every_name_resolves() -> None:
    assert batteries_migrate.__all__ == sorted(batteries_migrate.__all__)
    for name in batteries_migrate.__all__:
        assert getattr(batteries_migrate, name) is not None
    assert dir(batteries_migrate) == sorted(batteries_migrate.__all__)


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="nope"):
        _ = batteries_migrate.nope  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_takes_a_named_database_and_settings(name: str) -> None:
    parameters = inspect.signature(getattr(batteries_migrate, name)).parameters
    assert parameters["database"].default == "default"
    assert parameters["database"].kind is inspect.Parameter.KEYWORD_ONLY
    assert parameters["settings"].default is None


def test_signatures_of_the_issue() -> None:
    make = inspect.signature(batteries_migrate.make_migration).parameters
    assert make["autogenerate"].default is True
    assert make["empty"].default is False
    upgrade = inspect.signature(batteries_migrate.upgrade).parameters
    assert upgrade["target"].default == "head"
    assert upgrade["sql"].default is False
    assert inspect.signature(batteries_migrate.downgrade).parameters["sql"].default is False


def test_errors_derive_from_the_batteries_root_and_a_builtin() -> None:
    from batteries_models.exceptions import BatteriesError

    assert issubclass(batteries_migrate.MigrationError, BatteriesError)
    assert issubclass(batteries_migrate.NotInitialisedError, FileNotFoundError)
    assert issubclass(batteries_migrate.UnknownRevisionError, LookupError)
    assert issubclass(batteries_migrate.DestructiveMigrationWarning, UserWarning)


def test_testing_helpers_are_public() -> None:
    assert batteries_migrate.testing.__all__ == sorted(batteries_migrate.testing.__all__)
    for name in batteries_migrate.testing.__all__:
        assert callable(getattr(batteries_migrate.testing, name))
