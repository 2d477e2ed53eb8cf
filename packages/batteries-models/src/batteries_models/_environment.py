"""The line between development and production: development tools refuse production."""

from __future__ import annotations

from typing import TYPE_CHECKING

from batteries_models.exceptions import RefusedInProductionError

if TYPE_CHECKING:
    from batteries_models.settings import BatteriesSettings

__all__ = ["refuse_in_production"]


def refuse_in_production(
    action: str,
    *,
    settings: BatteriesSettings | None = None,
    force: bool = False,
    override: str = "pass force=True",
) -> None:
    """Raise when ``BATTERIES_ENVIRONMENT`` is ``production``, unless ``force``.

    Development tools (the reloading server, seeding, truncating loads) call it before they
    touch anything, so that a command meant for a laptop never runs against production data by
    accident.

    Args:
        action: What would be done, for the message (``"seed the database at start-up"``).
        settings: The settings to read; ``BatteriesSettings()`` when not given.
        force: Do it anyway: the caller was told explicitly to run in production.
        override: How the user forces it, for the message (``"pass --force"``).

    Raises:
        RefusedInProductionError: The environment is ``production`` and ``force`` is false.
    """
    if force:
        return
    if settings is None:
        from batteries_models.settings import BatteriesSettings

        settings = BatteriesSettings()
    if settings.environment != "production":
        return
    msg = (
        f"Refusing to {action}: BATTERIES_ENVIRONMENT is 'production' and this is a development "
        f"tool; {override} if you really mean to do it in production"
    )
    raise RefusedInProductionError(msg, action=action)
