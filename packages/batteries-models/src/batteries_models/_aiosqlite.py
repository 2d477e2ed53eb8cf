"""Open aiosqlite connections so that a failed open leaves no worker thread behind.

aiosqlite runs each connection in a worker thread that hands every result back to the event
loop. When opening the file fails, it queues the thread's stop without waiting for it
(omnilib/aiosqlite#389, open): if the loop closes before the thread gets to run (a short
``asyncio.run``, a test's loop, a busy machine), the thread raises ``RuntimeError: Event loop is
closed`` as an unhandled exception in the middle of whatever runs next. Waiting for the thread
after a failed open, before the error reaches the caller, closes that window.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["wait_for_failed_opens"]

# The worker has nothing left to do but close nothing and post one callback; this bound only
# guards against a connector that hangs, so a failure is never turned into a hang.
_WORKER_EXIT_TIMEOUT = 5.0


def wait_for_failed_opens(engine: AsyncEngine) -> None:
    """Open ``engine``'s aiosqlite connections through :func:`_open`.

    ``do_connect`` hands SQLAlchemy a connection made from the very arguments it computed from
    the URL, so nothing about how the file is opened changes. An engine given its own
    ``creator``/``async_creator`` never fires ``do_connect`` and is left as it is.
    """

    @event.listens_for(engine.sync_engine, "do_connect")
    def _connect(dialect: Any, _record: Any, cargs: list[Any], cparams: dict[str, Any]) -> Any:
        return dialect.loaded_dbapi.connect(*cargs, async_creator_fn=_open, **cparams)


async def _open(*args: Any, **kwargs: Any) -> Any:
    import aiosqlite

    connection = aiosqlite.connect(*args, **kwargs)
    # SQLAlchemy makes the worker a daemon on its own path too, so it never holds up exit.
    worker = getattr(connection, "_thread", None)
    if isinstance(worker, threading.Thread):
        worker.daemon = True
    try:
        return await connection
    except BaseException:
        if isinstance(worker, threading.Thread) and worker.is_alive():
            worker.join(_WORKER_EXIT_TIMEOUT)
        raise
