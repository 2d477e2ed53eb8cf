"""Commands that installed packages add through the ``fastapi_batteries.commands`` entry points.

A plugin package declares, in its ``pyproject.toml``::

    [project.entry-points."fastapi_batteries.commands"]
    search = "my_package.cli:app"      # a Typer app: `fastapi-batteries search ...`
    reindex = "my_package.cli:reindex" # a function: the command `fastapi-batteries reindex`

Plugins are loaded on demand: ``fastapi-batteries db upgrade`` imports none of them, the
top-level ``--help`` (which lists them) imports each one, and ``fastapi-batteries search``
imports only ``search``. A plugin that fails to load prints one warning line naming it, and
every other command still works.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from batteries_cli._errors import describe, warn
from batteries_cli._groups import QuickHelpGroup

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

__all__ = ["COMMANDS_GROUP", "PLUGINS_PANEL", "PluginGroup"]

COMMANDS_GROUP = "fastapi_batteries.commands"
"""The entry-point group of plugin commands."""

PLUGINS_PANEL = "Plugins"


class PluginGroup(QuickHelpGroup):
    """The top-level group: the built-in commands, then each plugin's, loaded when asked for."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self._points: dict[str, EntryPoint] | None = None
        self._loaded: dict[str, Any] = {}
        self._warned: set[str] = set()

    # Click's Context type lives in Typer's private vendored copy of Click: Any keeps us off it.
    def list_commands(self, ctx: Any) -> list[str]:
        """The built-in commands, then the plugins' (a plugin cannot replace a built-in)."""
        names = super().list_commands(ctx)
        for name, point in self._entry_points().items():
            if name in self.commands:
                self._warn(name, f"{_plugin(point)} is not mounted: {name!r} is a built-in command")
            else:
                names.append(name)
        return names

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        """A built-in command, else the plugin of that name, loaded now."""
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            return command
        point = self._entry_points().get(cmd_name)
        if point is None:
            return None
        if cmd_name not in self._loaded:
            self._loaded[cmd_name] = self._load(cmd_name, point)
        return self._loaded[cmd_name]

    def _entry_points(self) -> dict[str, EntryPoint]:
        if self._points is None:
            from importlib.metadata import entry_points

            self._points = {point.name: point for point in entry_points(group=COMMANDS_GROUP)}
        return self._points

    def _load(self, name: str, point: EntryPoint) -> Any:
        """The Click command of one plugin, or ``None`` (after a warning line) if it fails."""
        try:
            target = point.load()
        except Exception as exc:
            self._warn(name, f"{_plugin(point)} failed to load: {describe(exc)}")
            return None
        if isinstance(target, typer.Typer):
            command = typer.main.get_command(target)
        elif callable(target):
            single = typer.Typer()
            single.command(name=name)(target)
            command = typer.main.get_command(single)
        else:
            kind = type(target).__name__
            self._warn(name, f"{_plugin(point)} is a {kind}, not a Typer app or a function")
            return None
        command.name = name
        command.rich_help_panel = PLUGINS_PANEL  # type: ignore[attr-defined]  # Typer's have it
        return command

    def _warn(self, name: str, message: str) -> None:
        if name not in self._warned:
            self._warned.add(name)
            warn(f"{message}; the other commands work")


def _plugin(point: EntryPoint) -> str:
    dist = point.dist
    source = f" from {dist.name} {dist.version}" if dist is not None else ""
    return f"plugin {point.name!r} ({point.value}{source})"
