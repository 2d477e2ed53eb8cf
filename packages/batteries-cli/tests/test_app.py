from importlib.metadata import version

from typer.testing import CliRunner

from batteries_cli._app import app


def test_version_lists_every_installed_package() -> None:
    result = CliRunner().invoke(app, ["version"])
    assert result.exit_code == 0
    assert f"batteries-models {version('batteries-models')}" in result.output
    assert f"batteries-cli {version('batteries-cli')}" in result.output


def test_help_lists_the_commands() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "version" in result.output
