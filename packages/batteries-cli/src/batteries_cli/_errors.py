"""Errors as one line on stderr and a non-zero exit, never a traceback or a password."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer

__all__ = ["describe", "errors", "fail", "warn"]


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``Error: message`` on stderr and exit with ``code``."""
    typer.secho(f"Error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def warn(message: str) -> None:
    """Print ``Warning: message`` on stderr."""
    typer.secho(f"Warning: {message}", fg=typer.colors.YELLOW, err=True)


def describe(exc: BaseException) -> str:
    """``exc`` as one masked line: our errors as they are, others with their type."""
    from batteries_models import BatteriesError, mask_url

    if isinstance(exc, BatteriesError):
        return mask_url(str(exc))
    lines = str(exc).strip().splitlines()
    detail = f": {lines[0]}" if lines else ""
    return mask_url(f"{type(exc).__name__}{detail}")


@contextmanager
def errors() -> Iterator[None]:
    """Turn any error raised in the block into :func:`fail`'s one line."""
    try:
        yield
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:
        fail(describe(exc))
