"""Start-up tasks: work an app does before it serves, supplied by other packages.

batteries-models declares this extension point and implements no task itself: migrating belongs
to batteries-migrate and loading fixtures to batteries-fixtures, which build on batteries-models
and which batteries-models never imports. A package offers a task under the entry-point group
:data:`STARTUP_TASKS`::

    # batteries-migrate's pyproject.toml
    [project.entry-points."batteries_models.startup"]
    migrate = "batteries_migrate._startup:migrate"

:func:`batteries_models.fastapi.batteries_lifespan` runs ``migrate`` for ``migrate=True`` and
``seed`` for ``seed=[...]``; any server or test harness can do the same::

    task = load_startup_task("migrate", distribution="batteries-migrate")
    await task(registry, True)
"""

from __future__ import annotations

from collections.abc import Awaitable
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Protocol

from batteries_models.exceptions import MissingPackageError

if TYPE_CHECKING:
    from batteries_models._registry import DatabaseRegistry

__all__ = ["STARTUP_TASKS", "StartupTask", "load_startup_task"]

STARTUP_TASKS = "batteries_models.startup"
"""The entry-point group that start-up tasks are registered under."""


class StartupTask(Protocol):
    """An async start-up task: ``await task(registry, value)``.

    ``registry`` holds the app's databases and the settings they came from
    (``registry.settings``); ``value`` is what the caller asked for (``True`` for
    ``migrate=True``, the list of files for ``seed=[...]``). The task raises a
    :class:`~batteries_models.exceptions.BatteriesError` when it fails, and the app does not
    start.
    """

    def __call__(self, registry: DatabaseRegistry, value: Any, /) -> Awaitable[None]:
        """Run the task on ``registry``'s databases."""
        ...


def load_startup_task(name: str, *, distribution: str, asked_as: str | None = None) -> StartupTask:
    """Return the start-up task registered as ``name`` under :data:`STARTUP_TASKS`.

    Args:
        name: The entry point's name (``migrate``, ``seed``).
        distribution: The distribution that provides it, named in the error.
        asked_as: How the caller asked for it (``batteries_lifespan(migrate=True)``), for the
            error.

    Raises:
        MissingPackageError: No installed distribution provides the task: the message says what
            to install.
    """
    found = sorted(
        entry_points(group=STARTUP_TASKS, name=name),
        # The named distribution's own task wins over another package's of the same name.
        key=lambda point: point.dist is None or point.dist.name != distribution,
    )
    if found:
        task: StartupTask = found[0].load()
        return task
    what = asked_as or f"The start-up task {name!r}"
    msg = f"{what} needs {distribution}, which is not installed: pip install {distribution}"
    raise MissingPackageError(msg, distribution=distribution)
