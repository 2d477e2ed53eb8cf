"""FastAPI integration: a per-request session dependency and a lifespan that disposes engines.

Needs the ``fastapi`` extra (``pip install 'batteries-models[fastapi]'``, or
``'fastapi-batteries[fastapi]'``)::

    from fastapi import FastAPI
    from batteries_models.fastapi import SessionDep, batteries_lifespan

    app = FastAPI(lifespan=batteries_lifespan())

    @app.post("/heroes")
    async def create_hero(hero: Hero, session: SessionDep) -> Hero:
        session.add(hero)
        return hero

The session is committed when the endpoint returns and **before** the response is sent, so a
failed commit gives an error response, never a 2xx for data that was not saved.

``batteries_lifespan(migrate=True, seed=["fixtures/dev.json"])`` also upgrades the default
database to head and merges fixtures into it before the app serves (development tools: refused
where ``BATTERIES_ENVIRONMENT`` is ``production`` unless ``force=True``). The work is done by
batteries-migrate and batteries-fixtures through the start-up tasks of
:mod:`batteries_models.startup`.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Annotated, Any

try:
    from fastapi import Depends, FastAPI, Request
except ImportError as exc:  # pragma: no cover - exercised by the install-alone check
    from batteries_models._extras import extra_requirement
    from batteries_models.exceptions import MissingDriverError

    _extra = extra_requirement("batteries-models", "fastapi")
    _msg = f"batteries_models.fastapi needs FastAPI: pip install '{_extra}'"
    raise MissingDriverError(_msg, driver="fastapi", extra=_extra) from exc
from sqlmodel.ext.asyncio.session import AsyncSession

from batteries_models._database import Database
from batteries_models._environment import refuse_in_production
from batteries_models._registry import DatabaseRegistry
from batteries_models.settings import DEFAULT_DATABASE
from batteries_models.startup import StartupTask, load_startup_task

__all__ = ["SessionDep", "batteries_lifespan", "get_registry", "session_dependency"]

_STATE_KEY = "batteries_databases"
# One dependency per database name, so that it can be a key of app.dependency_overrides.
_DEPENDENCIES: dict[str, Callable[[Request], AsyncIterator[AsyncSession]]] = {}


def get_registry(request: Request) -> DatabaseRegistry:
    """Return the registry that :func:`batteries_lifespan` put on ``app.state``.

    Raises:
        RuntimeError: The app was not created with ``lifespan=batteries_lifespan(...)``.
    """
    registry = getattr(request.app.state, _STATE_KEY, None)
    if not isinstance(registry, DatabaseRegistry):
        msg = (
            "No databases on app.state: create the app with FastAPI(lifespan=batteries_lifespan())"
        )
        raise RuntimeError(msg)
    return registry


def session_dependency(
    database: str = DEFAULT_DATABASE,
) -> Callable[[Request], AsyncIterator[AsyncSession]]:
    """Return the dependency that yields one session of ``database`` per request.

    Use it for named databases (``scope="function"`` commits before the response is sent)::

        get_analytics = session_dependency("analytics")
        AnalyticsSession = Annotated[AsyncSession, Depends(get_analytics, scope="function")]

    The same name gives the same function every time, so tests can replace it:
    ``app.dependency_overrides[session_dependency("analytics")] = ...`` (``session_dependency()``
    is the one behind :data:`SessionDep`).
    """
    existing = _DEPENDENCIES.get(database)
    if existing is not None:
        return existing

    async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
        db: Database = get_registry(request).get(database)
        async with db.session() as session:
            yield session

    get_session.__name__ = f"get_{database}_session"
    _DEPENDENCIES[database] = get_session
    return get_session


SessionDep = Annotated[AsyncSession, Depends(session_dependency(), scope="function")]
"""A session of the default database, committed before the response is sent."""


def batteries_lifespan(
    registry: DatabaseRegistry | None = None,
    *,
    wraps: Callable[[FastAPI], AbstractAsyncContextManager[Any]] | None = None,
    migrate: bool = False,
    seed: Sequence[str | os.PathLike[str]] = (),
    force: bool = False,
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Return a lifespan that puts ``registry`` on ``app.state`` and disposes engines on shutdown.

    Before the app serves, it can migrate and seed the default database. The migrations run in
    a worker thread (Alembic's async ``env.py`` starts an event loop of its own) under the
    PostgreSQL advisory lock that ``upgrade`` takes, so several workers starting at once apply
    each migration exactly once. Both are development tools, refused where
    ``BATTERIES_ENVIRONMENT`` is ``production`` unless ``force=True``.

    Args:
        registry: The databases to serve; built from the settings when not given.
        wraps: The app's own lifespan, run inside this one, after migrating and seeding.
        migrate: Upgrade the default database to head at start-up (needs batteries-migrate).
        seed: Fixture files to merge into the default database at start-up, after migrating
            (needs batteries-fixtures); loading them twice changes nothing.
        force: Migrate and seed even where ``BATTERIES_ENVIRONMENT`` is ``production``.

    Raises:
        MissingPackageError: ``migrate`` or ``seed`` is asked for and the package that does it
            is not installed (raised here, when the app is created, not at its first start).
    """
    if isinstance(seed, str | os.PathLike):
        seed = [seed]  # one file, not its characters
    tasks: list[tuple[str, StartupTask, Any]] = []
    if migrate:
        task = load_startup_task(
            "migrate", distribution="batteries-migrate", asked_as="batteries_lifespan(migrate=True)"
        )
        tasks.append(("migrate the database at start-up", task, True))
    if seed:
        task = load_startup_task(
            "seed", distribution="batteries-fixtures", asked_as="batteries_lifespan(seed=...)"
        )
        tasks.append(("seed the database with fixtures at start-up", task, list(seed)))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        active = registry if registry is not None else DatabaseRegistry()
        for action, _, _ in tasks:
            refuse_in_production(
                action, settings=active.settings, force=force, override="pass force=True"
            )
        setattr(app.state, _STATE_KEY, active)
        try:
            for _, run, value in tasks:
                await run(active, value)
            if wraps is None:
                yield
            else:
                async with wraps(app):
                    yield
        finally:
            await active.dispose_all()

    return lifespan
