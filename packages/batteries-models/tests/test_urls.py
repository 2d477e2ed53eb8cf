import builtins
import importlib.util
from importlib.metadata import PackageNotFoundError

import pytest

from batteries_models import (
    ConfigurationError,
    MissingDriverError,
    _extras,
    mask_url,
    normalise_url,
)


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


@pytest.mark.parametrize(
    ("installed", "url", "requirement"),
    [
        # Only batteries-fixtures (say) and batteries-models: the meta-package's extra would
        # install every other package too; batteries-models owns the drivers.
        ({}, "postgresql://u:pw@h/d", "batteries-models[postgres]"),
        ({}, "sqlite:///app.db", "batteries-models[sqlite]"),
        (
            {"fastapi-batteries": ["postgres", "sqlite"]},
            "postgres://u@h/d",
            "fastapi-batteries[postgres]",
        ),
        ({"fastapi-batteries": ["sqlite"]}, "postgresql://u@h/d", "batteries-models[postgres]"),
    ],
)
def test_missing_driver_names_what_fits_the_installed_distributions(
    monkeypatch: pytest.MonkeyPatch, installed: dict[str, list[str]], url: str, requirement: str
) -> None:
    real_find_spec = importlib.util.find_spec

    def find_spec(name: str, *args: object) -> object:
        missing = name in ("asyncpg", "aiosqlite")
        return None if missing else real_find_spec(name, *args)  # type: ignore[arg-type]

    def metadata(name: str) -> _Metadata:
        if name not in installed:
            raise PackageNotFoundError(name)
        return _Metadata({"Provides-Extra": installed[name]})

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    monkeypatch.setattr(_extras, "metadata", metadata)
    with pytest.raises(MissingDriverError) as info:
        normalise_url(url)
    assert info.value.extra == requirement
    assert str(info.value).endswith(f"pip install '{requirement}'")
    assert isinstance(info.value, ImportError)
    assert builtins.issubclass(MissingDriverError, ConfigurationError)


class _Metadata:
    def __init__(self, fields: dict[str, list[str]]) -> None:
        self.fields = fields

    def get_all(self, name: str) -> list[str] | None:
        return self.fields.get(name)


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
