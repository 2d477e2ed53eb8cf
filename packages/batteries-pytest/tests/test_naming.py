"""Which database a run uses: the configured name plus _test, the worker id, the refusals."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from batteries_models import ConfigurationError
from batteries_pytest._naming import database_name, url_for_tests
from batteries_pytest._options import Options

OPTIONS = Options(
    reuse_db=False,
    create_db=False,
    database="default",
    fixture_dirs=(),
    sqlite_in_memory=False,
    allow_any_name=False,
    worker=None,
    explicit_url=None,
)
PG = make_url("postgresql+asyncpg://app:s3cret@db:5432/shop")


@pytest.mark.parametrize(
    ("worker", "expected"),
    [(None, "shop_test"), ("gw0", "shop_gw0_test"), ("gw1", "shop_gw1_test")],
)
def test_postgresql_names_end_in_test_after_the_worker(worker: str | None, expected: str) -> None:
    url = url_for_tests(PG, replace(OPTIONS, worker=worker), Path("/unused"))
    assert (url.database, url.host, url.password) == (expected, "db", "s3cret")


def test_a_name_postgresql_would_cut_is_refused() -> None:
    long = PG.set(database="x" * 60)
    with pytest.raises(ConfigurationError, match="longer than PostgreSQL's 63 bytes"):
        url_for_tests(long, OPTIONS, Path("/unused"))


def test_sqlite_files_go_to_the_folder_given(tmp_path: Path) -> None:
    url = url_for_tests(make_url("sqlite+aiosqlite:///data/app.db"), OPTIONS, tmp_path)
    assert url.database == str(tmp_path / "app_test.db")
    worker = url_for_tests(
        make_url("sqlite+aiosqlite:///app.sqlite3"), replace(OPTIONS, worker="gw3"), tmp_path
    )
    assert worker.database == str(tmp_path / "app_gw3_test.sqlite3")


@pytest.mark.parametrize(
    ("configured", "memory_setting"),
    [
        ("sqlite+aiosqlite:///:memory:", False),
        ("sqlite+aiosqlite://", False),
        ("sqlite:///a.db", True),
    ],
)
def test_sqlite_in_memory_is_the_shared_cache_database(
    configured: str, memory_setting: bool, tmp_path: Path
) -> None:
    options = replace(OPTIONS, sqlite_in_memory=memory_setting)
    url = url_for_tests(make_url(configured), options, tmp_path)
    assert (url.database, dict(url.query)) == ("file::memory:", {"cache": "shared", "uri": "true"})
    assert database_name(url) == "memory_test"


def test_an_explicit_database_must_end_in_test_unless_allowed(tmp_path: Path) -> None:
    explicit = replace(OPTIONS, explicit_url="postgresql://app:s3cret@db/shop")
    with pytest.raises(ConfigurationError, match=r"Refusing to use database 'shop'") as info:
        url_for_tests(PG, explicit, tmp_path)
    assert "s3cret" not in str(info.value)
    allowed = url_for_tests(PG, replace(explicit, allow_any_name=True), tmp_path)
    assert allowed.database == "shop"
    named = replace(OPTIONS, explicit_url="postgresql://app@db/ci_test", worker="gw1")
    assert url_for_tests(PG, named, tmp_path).database == "ci_gw1_test"


def test_other_databases_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="runs tests on PostgreSQL and SQLite, not mysql"):
        url_for_tests(make_url("mysql+aiomysql://root:pw@h/app"), OPTIONS, tmp_path)
