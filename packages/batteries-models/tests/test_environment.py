import pytest

from batteries_models import BatteriesSettings, RefusedInProductionError, refuse_in_production


def test_development_and_test_run_development_tools() -> None:
    for environment in ("development", "test"):
        refuse_in_production("seed", settings=BatteriesSettings(environment=environment))


def test_production_refuses_with_why_and_how_to_force() -> None:
    production = BatteriesSettings(environment="production")
    with pytest.raises(RefusedInProductionError) as caught:
        refuse_in_production("seed the database", settings=production, override="pass --force")
    message = str(caught.value)
    assert message.startswith(
        "Refusing to seed the database: BATTERIES_ENVIRONMENT is 'production'"
    )
    assert "pass --force" in message
    assert isinstance(caught.value, PermissionError)
    refuse_in_production("seed the database", settings=production, force=True)
