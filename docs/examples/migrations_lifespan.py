# app/main.py: migrate at start-up, before the app serves a request.
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

import batteries_migrate


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Inside the running event loop the command runs in a worker thread, and on PostgreSQL an
    # advisory lock makes several workers starting at once apply each revision once.
    batteries_migrate.upgrade()
    yield


app = FastAPI(lifespan=lifespan)
