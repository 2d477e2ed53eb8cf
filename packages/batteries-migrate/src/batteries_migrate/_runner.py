"""Run one Alembic command at a time, off the event loop, and translate its errors."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

from alembic.script.revision import MultipleHeads, ResolutionError, RevisionError
from alembic.util import CommandError

from batteries_migrate._project import MigrationTarget
from batteries_migrate.exceptions import (
    MigrationError,
    MultipleHeadsError,
    NotUpToDateError,
    OfflineBatchError,
    UnknownRevisionError,
)

__all__ = ["run_alembic", "translate_errors"]

T = TypeVar("T")

# Alembic keeps the running environment in module globals (alembic.context, alembic.op), so two
# commands in one process, even in two threads, would trample each other.
_LOCK = threading.RLock()


def run_alembic(work: Callable[[], T]) -> T:
    """Run ``work`` under the process-wide lock; in a worker thread if an event loop is running.

    The generated ``env.py`` calls ``asyncio.run``, which refuses to start inside a running loop
    (a FastAPI lifespan, an async test): there it runs in a thread of its own (alembic #1353).
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        with _LOCK:
            return work()

    def locked() -> T:
        with _LOCK:
            return work()

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="batteries-migrate") as pool:
        return pool.submit(locked).result()


@contextmanager
def translate_errors(target: MigrationTarget, revision: str | None = None) -> Iterator[None]:
    """Turn Alembic's errors into one-line :class:`MigrationError` subclasses."""
    try:
        yield
    except MigrationError:
        raise
    except MultipleHeads as exc:
        raise multiple_heads(target, list(exc.heads)) from exc
    except ResolutionError as exc:
        raise unknown_revision(target, exc.argument or revision or "?") from exc
    except (CommandError, RevisionError) as exc:
        raise _from_message(target, str(exc), revision) from exc
    except NotImplementedError as exc:
        if target.dialect == "sqlite" and "offline" in str(exc).lower():
            raise offline_batch(target) from exc
        raise


def _from_message(target: MigrationTarget, text: str, revision: str | None) -> MigrationError:
    first = text.strip().splitlines()[0] if text.strip() else "Alembic failed"
    if "Multiple head" in first:
        return multiple_heads(target, [])
    if "Can't locate revision" in first or "No such revision" in first:
        return unknown_revision(target, revision or _quoted(first) or "?")
    if "Target database is not up to date" in first:
        msg = (
            f"Database {target.database!r} is not at the head revision: run upgrade before "
            "writing or checking migrations"
        )
        return NotUpToDateError(msg, database=target.database, current=(), heads=())
    return MigrationError(f"{first} (database {target.database!r})", database=target.database)


def _quoted(text: str) -> str | None:
    parts = text.split("'")
    return parts[1] if len(parts) >= 3 else None


def unknown_revision(target: MigrationTarget, revision: str) -> UnknownRevisionError:
    """The error for a revision that is not in the migrations folder."""
    msg = (
        f"Unknown revision {revision!r} for database {target.database!r}: "
        "list the revisions with `fastapi-batteries db history`"
    )
    return UnknownRevisionError(msg, database=target.database, revision=revision)


def multiple_heads(target: MigrationTarget, heads: list[str]) -> MultipleHeadsError:
    """The error for an ambiguous ``head``: it names the heads and offers ``merge``."""
    listed = f" ({', '.join(heads)})" if heads else ""
    msg = (
        f"The migrations of database {target.database!r} have {len(heads) or 'several'} heads"
        f"{listed}: join them with `fastapi-batteries db merge`, then upgrade"
    )
    return MultipleHeadsError(msg, database=target.database, heads=heads)


def offline_batch(target: MigrationTarget) -> OfflineBatchError:
    """The error for a SQLite batch operation in ``--sql`` mode."""
    msg = (
        f"SQLite cannot print batch operations (ALTER by table copy) without a database "
        f"(database {target.database!r}): run the upgrade on a copy of the database file instead"
    )
    return OfflineBatchError(msg, database=target.database)
