"""batteries-cli: the ``fastapi-batteries`` command line, which mounts every package's commands."""

from importlib.metadata import version as _version

__version__ = _version("batteries-cli")

__all__ = ["__version__", "main"]


def main() -> None:
    """Entry point of the ``fastapi-batteries`` command."""
    from batteries_cli._app import app  # noqa: PLC0415 - keeps --help fast

    app()
