"""Typer groups whose ``--help`` costs no more than a one-command Typer app's."""

from __future__ import annotations

from typing import Any

from typer.core import TyperGroup

__all__ = ["QuickHelpGroup"]


class QuickHelpGroup(TyperGroup):
    """A group whose ``--help`` flag is ``False``, not ``None``, when it is not given.

    Typer coerces a parameter value that is not already a bool with a pydantic ``TypeAdapter``,
    importing pydantic (about 50 ms). A group's help flag is ``None`` when a subcommand is
    called, so ``fastapi-batteries db --help`` paid that import for nothing.
    """

    def get_help_option(self, ctx: Any) -> Any:
        """Typer's help option, defaulting to ``False``."""
        option = super().get_help_option(ctx)
        if option is not None and option.default is None:
            option.default = False
        return option
