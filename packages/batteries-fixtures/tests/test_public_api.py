from __future__ import annotations

import inspect
import subprocess
import sys

import pytest

import batteries_fixtures
from batteries_fixtures import cli


def test_all_lists_exactly_the_public_names() -> None:
    for name in batteries_fixtures.__all__:
        assert getattr(batteries_fixtures, name) is not None
    modules = {
        "annotations",
        "cli",
        "exceptions",
        "formats",
        "transforms",
        "importlib",
        "TYPE_CHECKING",
        "Any",
    }
    public = {n for n in dir(batteries_fixtures) if not n.startswith("_")} - modules
    assert public == set(batteries_fixtures.__all__) - {"__version__"}
    assert batteries_fixtures.__all__ == sorted(batteries_fixtures.__all__)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = batteries_fixtures.nope  # type: ignore[attr-defined]


def test_the_command_line_imports_no_sqlalchemy() -> None:
    code = "import sys, batteries_fixtures.cli; print('sqlalchemy' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


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
        "split",
        "jobs",
        "allow_dangling",
        "where",
        "with_related",
        "scrub",
        "transforms",
        "models",
        "schemas",
        "settings",
        "progress",
    ]
    assert list(load.parameters) == [
        "database",
        "sources",
        "mode",
        "format",
        "dry_run",
        "ignore_unknown",
        "scrub",
        "transforms",
        "models",
        "schemas",
        "settings",
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


def test_cli_exports_app_main_and_the_shared_database_options() -> None:
    assert cli.__all__ == ["DatabaseName", "DatabaseUrl", "ModelsOption", "app", "main"]


@pytest.mark.parametrize("module", ["batteries_fixtures", "batteries_fixtures.cli"])
def test_python_dash_m_runs_the_command(module: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", module, "dump", "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "Usage: batteries-fixtures dump" in result.stdout
    assert "--schema" in result.stdout
