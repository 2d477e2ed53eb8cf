"""Callers that only read can keep SQLite from creating a database file that does not exist."""

from pathlib import Path

import pytest

from batteries_models import Database, DatabaseNotFoundError, require_database_file


async def test_a_reader_gets_an_error_naming_the_file_and_no_file_is_created(
    tmp_path: Path,
) -> None:
    path = tmp_path / "typo.db"
    database = Database(f"sqlite+aiosqlite:///{path}", name="reports", sqlite_create_file=False)
    try:
        for attempt in (database.ping, database.engine.connect().start):
            with pytest.raises(DatabaseNotFoundError) as raised:
                await attempt()
            assert str(raised.value).startswith(
                f"Database 'reports' is a SQLite file that does not exist: {path} "
            )
            assert raised.value.path == str(path)
            assert isinstance(raised.value, FileNotFoundError)
        with pytest.raises(DatabaseNotFoundError):
            async with database.session():
                pass
    finally:
        await database.dispose()
    assert not path.exists()


async def test_the_default_still_creates_the_file_and_readers_then_open_it(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
    for create in (True, False):
        database = Database(url, sqlite_create_file=create)
        try:
            await database.ping()
        finally:
            await database.dispose()
    assert (tmp_path / "app.db").is_file()


def test_other_databases_and_memory_have_nothing_to_check() -> None:
    require_database_file("sqlite+aiosqlite://")
    require_database_file("sqlite+aiosqlite:///:memory:")
    require_database_file("postgresql+asyncpg://u:p@h/nope")


def test_a_relative_path_says_where_it_was_looked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DatabaseNotFoundError, match=rf"a relative path starts at {tmp_path}\)"):
        require_database_file("sqlite:///app.db")
