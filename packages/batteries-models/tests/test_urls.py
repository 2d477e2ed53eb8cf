import builtins
import importlib.util

import pytest

from batteries_models import ConfigurationError, MissingDriverError, mask_url, normalise_url


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql://bob:s3cr%40t@db:5432/app", "postgresql://bob:***@db:5432/app"),
        (
            "see postgresql+asyncpg://u:pw@h/d and mysql://a:b@c/d",
            "see postgresql+asyncpg://u:***@h/d and mysql://a:***@c/d",
        ),
        ("sqlite:///app.db", "sqlite:///app.db"),
        ("postgresql://bob@db/app", "postgresql://bob@db/app"),
    ],
)
def test_mask_url_hides_every_password(url: str, masked: str) -> None:
    assert mask_url(url) == masked


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u:p@h/d", "postgresql+asyncpg"),
        ("postgres://u:p@h/d", "postgresql+asyncpg"),
        ("postgresql+asyncpg://u:p@h/d", "postgresql+asyncpg"),
        ("sqlite:///x.db", "sqlite+aiosqlite"),
        ("sqlite+aiosqlite://", "sqlite+aiosqlite"),
    ],
)
def test_normalise_url_picks_the_async_driver(url: str, expected: str) -> None:
    assert normalise_url(url).drivername == expected


def test_sync_driver_is_refused_with_what_to_write() -> None:
    with pytest.raises(ConfigurationError) as info:
        normalise_url("postgresql+psycopg2://u:topsecret@h/d")
    message = str(info.value)
    assert "postgresql+asyncpg://u:***@h/d" in message
    assert "topsecret" not in message


def test_unknown_scheme_names_it() -> None:
    with pytest.raises(ConfigurationError, match="Unknown database scheme 'oracle'"):
        normalise_url("oracle://u:pw@h/d")


def test_unparseable_url() -> None:
    with pytest.raises(ConfigurationError, match="Cannot parse the database URL"):
        normalise_url("not a url")


def test_missing_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real_find_spec = importlib.util.find_spec

    def find_spec(name: str, *args: object) -> object:
        return None if name == "asyncpg" else real_find_spec(name, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(MissingDriverError) as info:
        normalise_url("postgresql://u:pw@h/d")
    assert info.value.extra == "fastapi-batteries[postgres]"
    assert "pip install 'fastapi-batteries[postgres]'" in str(info.value)
    assert isinstance(info.value, ImportError)
    assert builtins.issubclass(MissingDriverError, ConfigurationError)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+asyncpg://app:s3cret@db:99999/app",
        "postgresql+asyncpg://app:s3cret@db:0/app",
        "postgresql+asyncpg://app:s3cret@db:abc/app",
    ],
)
def test_a_bad_port_is_a_configuration_error(url: str) -> None:
    # Before, asyncpg raised OverflowError / make_url a bare ValueError, deep in a traceback.
    with pytest.raises(ConfigurationError) as raised:
        normalise_url(url)
    assert "s3cret" not in str(raised.value)
    assert "\n" not in str(raised.value)
