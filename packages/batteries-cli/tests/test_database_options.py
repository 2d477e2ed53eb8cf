"""Every command that talks to a database takes the fixtures commands' database options."""

from typing import Any

import pytest
import typer

from batteries_cli._app import app

TALK_TO_A_DATABASE = [
    "db makemigrations",
    "db upgrade",
    "db downgrade",
    "db current",
    "db stamp",
    "db show",
    "db check",
    "fixtures dump",
    "fixtures load",
    "dev",
    "shell",
    "config check",
]


def command(path: str) -> Any:
    found: Any = typer.main.get_command(app)
    for name in path.split():
        found = found.get_command(None, name)
    return found


def options(path: str) -> dict[str, str]:
    return {
        name: parameter.help or ""
        for parameter in command(path).params
        for name in parameter.opts
        if name.startswith("--")
    }


@pytest.mark.parametrize("path", [*TALK_TO_A_DATABASE, "db shell"])
def test_same_names_and_help_as_the_fixtures_commands(path: str) -> None:
    reference = options("fixtures load")
    found = options(path)
    assert found["--database"] == reference["--database"]
    assert found["--database-url"] == reference["--database-url"]
    if path != "db shell":  # the client needs no models
        assert found["--models"].startswith(reference["--models"].split(";")[0])
