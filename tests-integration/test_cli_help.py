"""Every help text of every command line renders what its source says.

Typer renders help as Rich markup, where ``[tool.batteries]`` is a tag and vanishes
(``(default:  models; ...)``). Each command's ``--help`` is rendered here, wide enough not to
wrap, and every bracketed part of its help texts must be in the output.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from batteries_cli._app import app as fastapi_batteries
from batteries_fixtures.cli import app as batteries_fixtures

# A bracketed part, as the source writes it: "\[tool.batteries]" is Rich's escape for "[".
BRACKETED = re.compile(r"\\?\[[^\]\n]*\]")
APPS = {"fastapi-batteries": fastapi_batteries, "batteries-fixtures": batteries_fixtures}


def commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    # A group, whether it is Click's or the copy of Click that Typer vendors.
    for name, sub in getattr(command, "commands", {}).items():
        yield from commands(sub, (*path, name))


def texts(command: Any) -> list[str]:
    found = [command.help or "", command.short_help or ""]
    found += [getattr(param, "help", None) or "" for param in command.params]
    return [text for text in found if text]


def all_commands() -> Iterator[Any]:
    for name, app in APPS.items():
        for path in commands(typer.main.get_command(app)):
            yield pytest.param(name, path, id=" ".join([name, *path]))


@pytest.mark.parametrize(("program", "path"), list(all_commands()))
def test_no_help_text_loses_its_brackets(program: str, path: tuple[str, ...]) -> None:
    root = typer.main.get_command(APPS[program])
    command = root
    for name in path:
        command = command.commands[name]  # type: ignore[attr-defined]

    result = CliRunner().invoke(APPS[program], [*path, "--help"], env={"COLUMNS": "400"})

    assert result.exit_code == 0, result.output
    rendered = " ".join(result.output.replace("│", " ").split())
    for text in texts(command):
        for part in BRACKETED.findall(text):
            shown = " ".join(part.removeprefix("\\").split())
            assert shown in rendered, f"{part!r} of {text!r} is missing from {program} --help"


def test_the_models_option_shows_where_its_default_comes_from() -> None:
    result = CliRunner().invoke(fastapi_batteries, ["fixtures", "dump", "--help"])
    rendered = " ".join(result.output.replace("│", " ").split())
    assert "(default: the database's models, else [tool.batteries] models;" in rendered
