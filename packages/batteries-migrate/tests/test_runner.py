import asyncio
import threading
from pathlib import Path

from alembic.script.revision import MultipleHeads, ResolutionError
from alembic.util import CommandError
from sqlalchemy.engine import make_url

from batteries_migrate._project import MigrationTarget
from batteries_migrate._runner import run_alembic, translate_errors
from batteries_migrate.exceptions import (
    MigrationError,
    MultipleHeadsError,
    OfflineBatchError,
    UnknownRevisionError,
)

# make_url, not normalise_url: these tests must not need a driver installed.
TARGET = MigrationTarget(
    "default", make_url("sqlite+aiosqlite:///x.db"), Path("migrations"), "alembic_version", None
)


def test_without_a_loop_the_command_runs_in_the_calling_thread() -> None:
    assert run_alembic(threading.get_ident) == threading.get_ident()


async def test_inside_a_running_loop_the_command_runs_in_a_worker_thread() -> None:
    def uses_asyncio_run() -> str:
        return asyncio.run(asyncio.sleep(0, result="ran"))

    assert run_alembic(threading.get_ident) != threading.get_ident()
    assert run_alembic(uses_asyncio_run) == "ran"


def translated(exc: Exception) -> Exception:
    """What translate_errors turns ``exc`` into."""
    try:
        with translate_errors(TARGET):
            raise exc
    except Exception as caught:
        return caught
    raise AssertionError  # pragma: no cover


def test_multiple_heads_names_the_heads_and_offers_merge() -> None:
    error = translated(MultipleHeads(["a1", "b2"], "head"))

    assert isinstance(error, MultipleHeadsError)
    assert error.heads == ("a1", "b2")
    assert "2 heads (a1, b2)" in str(error)
    assert "db merge" in str(error)


def test_unknown_revision_is_one_line() -> None:
    error = translated(ResolutionError("No such revision or branch 'zz'", "zz"))

    assert isinstance(error, UnknownRevisionError)
    assert error.revision == "zz"
    assert "\n" not in str(error)


def test_offline_batch_message() -> None:
    text = (
        "This operation cannot proceed in --sql mode; batch mode with dialect sqlite requires "
        "a live database connection\nmore"
    )
    error = translated(CommandError(text))

    assert isinstance(error, OfflineBatchError)
    assert "copy the database file" in str(error)


def test_other_alembic_errors_keep_their_first_line() -> None:
    error = translated(CommandError("Something odd\nsecond line"))

    assert type(error) is MigrationError
    assert str(error) == "Something odd (database 'default')"
