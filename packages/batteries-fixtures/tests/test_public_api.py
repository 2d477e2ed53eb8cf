from __future__ import annotations

import inspect

import batteries_fixtures
from batteries_fixtures import cli


def test_all_lists_exactly_the_public_names() -> None:
    public = {n for n in vars(batteries_fixtures) if not n.startswith("_")} - {
        "cli",
        "exceptions",
    }
    assert set(batteries_fixtures.__all__) == public | {"__version__"}
    assert batteries_fixtures.__all__ == sorted(batteries_fixtures.__all__)


def test_signatures_of_the_commands() -> None:
    dump = inspect.signature(batteries_fixtures.dump)
    load = inspect.signature(batteries_fixtures.load)
    assert list(dump.parameters) == [
        "database",
        "output",
        "tables",
        "exclude",
        "format",
        "indent",
        "natural_foreign",
        "natural_primary",
        "models",
        "progress",
    ]
    assert list(load.parameters) == [
        "database",
        "sources",
        "mode",
        "dry_run",
        "ignore_unknown",
        "models",
        "progress",
    ]
    assert inspect.iscoroutinefunction(batteries_fixtures.dump)
    assert inspect.iscoroutinefunction(batteries_fixtures.load)


def test_every_error_is_a_batteries_error_and_a_builtin() -> None:
    from batteries_models import BatteriesError

    for name in batteries_fixtures.__all__:
        value = getattr(batteries_fixtures, name)
        if isinstance(value, type) and issubclass(value, Exception):
            assert issubclass(value, BatteriesError)
            if value is not batteries_fixtures.FixtureError:
                assert len(value.__mro__) > 4, name


def test_cli_exports_app_and_main() -> None:
    assert cli.__all__ == ["app", "main"]
