from importlib.metadata import version

import pytest
from typer.testing import CliRunner

from batteries_cli._app import app, db_app
from batteries_migrate.cli import app as migrate_app


@pytest.mark.parametrize("args", [["version"], ["--version"], ["-V"]])
def test_version_lists_every_installed_package(args: list[str]) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0
    assert f"batteries-models {version('batteries-models')}" in result.output
    assert f"batteries-cli {version('batteries-cli')}" in result.output


def test_help_lists_the_commands_and_marks_development_only_ones() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("db", "fixtures", "shell", "config", "version", "--version"):
        assert command in result.output
    before, development = result.output.split("Development only", 1)
    assert " dev " in development
    assert " dev " not in before


def test_db_is_the_migrate_commands_plus_shell_and_leaves_migrate_alone() -> None:
    names = [command.name or command.callback.__name__ for command in db_app.registered_commands]  # type: ignore[union-attr]
    assert names[-1] == "shell"
    assert len(names) == len(migrate_app.registered_commands) + 1
    assert "shell" not in [c.name for c in migrate_app.registered_commands]
