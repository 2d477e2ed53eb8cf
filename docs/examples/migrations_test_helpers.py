# tests/test_migrations.py: check the project's migrations in its own test suite.
import os
from pathlib import Path

import pytest

from batteries_migrate.testing import assert_migrations_healthy


@pytest.fixture
def empty_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The checks upgrade and downgrade: give them a throwaway, empty database.
    default = f"sqlite+aiosqlite:///{tmp_path / 'migrations.sqlite3'}"
    monkeypatch.setenv("BATTERIES_DATABASE_URL", os.environ.get("TEST_DATABASE_URL", default))


def test_migrations_are_healthy(empty_database: None) -> None:
    # One head; base -> head one revision at a time; every downgrade then up again;
    # the models match the schema the migrations build.
    assert_migrations_healthy()
