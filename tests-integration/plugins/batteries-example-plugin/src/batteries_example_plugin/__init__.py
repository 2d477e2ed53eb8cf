"""A tiny fastapi-batteries plugin: a command group and a single command."""

from __future__ import annotations

import typer

app = typer.Typer(help="Example plugin commands.", no_args_is_help=True)


@app.command()
def greet(name: str) -> None:
    """Greet NAME."""
    typer.echo(f"Hello, {name}, from the example plugin")


@app.command()
def shout(words: list[str]) -> None:
    """Say WORDS loudly."""
    typer.echo(" ".join(words).upper())


def ping() -> None:
    """Answer pong."""
    typer.echo("pong")
