"""batteries-cli: the ``fastapi-batteries`` command line, which mounts every package's commands."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    __version__: str

__all__ = ["__version__", "main"]


def main() -> None:
    """Entry point of the ``fastapi-batteries`` command."""
    from batteries_cli._app import app

    app()


def __getattr__(name: str) -> Any:
    # Read on first use: importing importlib.metadata would slow every `--help` down.
    if name == "__version__":
        from importlib.metadata import version

        globals()[name] = version("batteries-cli")
        return globals()[name]
    msg = f"module 'batteries_cli' has no attribute {name!r}"
    raise AttributeError(msg)
