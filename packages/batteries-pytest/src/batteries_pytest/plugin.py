"""The pytest plugin, registered as ``batteries`` through the ``pytest11`` entry point.

Inert until used: importing it imports neither SQLAlchemy nor the project, and no fixture is
autouse. A test that asks for ``db_session``, ``db_connection`` or ``client``, or carries a
``fixtures`` or ``batteries_db`` marker, gets the run's test database (made on first use).

Each async fixture runs in the event loop of the test that asked for it, whatever its
pytest-asyncio ``loop_scope``: behind every public fixture sits one variant per loop scope
(``_batteries_test_module``...), and the public fixture picks the test's.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from typing import TYPE_CHECKING, Any

import pytest
import pytest_asyncio

from batteries_pytest._database import DatabaseUnderTest
from batteries_pytest._options import add_options, options_of

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncTransaction
    from sqlmodel.ext.asyncio.session import AsyncSession

    from batteries_models import Database
    from batteries_pytest._isolation import ModuleData, TestIsolation

__all__ = ["app", "batteries_test_database", "client", "db_connection", "db_session"]

_LOOP_SCOPES = ("function", "class", "module", "package", "session")
# Loops that outlive a test: module fixtures can stay loaded on one of their connections, and a
# pool of connections pays off.
_SHARED_LOOP_SCOPES = ("module", "package", "session")
_MARKERS = (
    "fixtures(*files, scope='function'): load fixture files (batteries-fixtures) before the "
    "test, inside its transaction; scope='module' (in pytestmark) loads them once per module",
    "batteries_db(transaction=False, reset_sequences=False): use the test database; "
    "transaction=True lets the test commit for real (every table is emptied after it)",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--reuse-db``, ``--create-db`` and the ``batteries_*`` ini options."""
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers, so that ``--strict-markers`` knows them."""
    for line in _MARKERS:
        config.addinivalue_line("markers", line)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Give a test marked ``fixtures`` or ``batteries_db`` the test database."""
    marked = any(m.name in ("fixtures", "batteries_db") for m in metafunc.definition.iter_markers())
    if marked and "db_connection" not in metafunc.fixturenames:
        metafunc.fixturenames.append("db_connection")


# ---------------------------------------------------------------- public fixtures


@pytest.fixture(scope="session")
def batteries_test_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DatabaseUnderTest]:
    """The run's test database: created (or reused) on first use, dropped after the run.

    While it exists, the settings of the process (``BATTERIES_DATABASE_URL``, or
    ``BATTERIES_DATABASES__<NAME>__URL``) point at it, so code that reads them finds it.
    """
    from batteries_pytest._lifecycle import TestRun, environment_variable

    options = options_of(request.config)
    cache = getattr(request.config, "cache", None)
    # One place for a SQLite test database across runs, so that --reuse-db finds it and a run
    # without it drops it, as on PostgreSQL; pytest's tmp folder without the cache provider.
    folder = tmp_path_factory.getbasetemp() if cache is None else cache.mkdir("batteries-pytest")
    run = TestRun(options, folder, cache)
    try:
        with _one_line():
            under_test = run.start()
    except BaseException:
        run.finish()
        raise
    patch = pytest.MonkeyPatch()
    variable = environment_variable(under_test.name, under_test.settings)
    patch.setenv(variable, under_test.url.render_as_string(hide_password=False))
    try:
        yield under_test
    finally:
        patch.undo()
        run.finish()


@pytest.fixture
def db_connection(request: pytest.FixtureRequest) -> AsyncConnection:
    """The test's ``AsyncConnection``, in the transaction rolled back after the test."""
    return _isolation(request).connection


@pytest.fixture
def db_session(request: pytest.FixtureRequest) -> AsyncSession:
    """An ``AsyncSession`` in the test's transaction; its ``commit()`` releases a SAVEPOINT."""
    return _isolation(request).session


@pytest.fixture
def app(batteries_test_database: DatabaseUnderTest) -> FastAPI:
    """The FastAPI app of ``[tool.batteries] app``; define your own ``app`` fixture to replace it.

    Imported after the settings point at the test database.
    """
    from batteries_pytest._client import import_app

    with _one_line():
        return import_app(batteries_test_database.settings)


@pytest.fixture
def client(request: pytest.FixtureRequest) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` on ``app``, lifespan run, in the test's transaction.

    Every request's session (``SessionDep``, ``session_dependency(name)``) is a session of the
    test's connection, so what an endpoint commits is rolled back after the test.
    """
    client: httpx.AsyncClient = request.getfixturevalue(f"_batteries_client_{_loop_scope(request)}")
    return client


# ---------------------------------------------------------------- one variant per loop scope


def _loop_scope(request: pytest.FixtureRequest) -> str:
    """The pytest-asyncio loop scope the test runs in: its marker's, else the ini default."""
    marker = request.node.get_closest_marker("asyncio")
    scope = None
    if marker is not None:
        scope = marker.kwargs.get("loop_scope") or marker.kwargs.get("scope")
    default = request.config.getini("asyncio_default_test_loop_scope")
    return str(scope or default or "function")


def _isolation(request: pytest.FixtureRequest) -> TestIsolation:
    isolation: TestIsolation = request.getfixturevalue(f"_batteries_test_{_loop_scope(request)}")
    return isolation


@contextmanager
def _one_line() -> Iterator[None]:
    """Report the plugin's and the packages' errors as their one-line message."""
    from batteries_models import BatteriesError

    try:
        yield
    except BatteriesError as exc:
        # The message alone: no traceback, and not the exception it replaces a second time.
        raise pytest.fail.Exception(str(exc), pytrace=False) from None


@asynccontextmanager
async def _engine(under_test: DatabaseUnderTest) -> AsyncIterator[Database]:
    database = under_test.open()
    try:
        yield database
    finally:
        await database.dispose()


@asynccontextmanager
async def _module_data(
    request: pytest.FixtureRequest, under_test: DatabaseUnderTest, database: Database
) -> AsyncIterator[ModuleData | None]:
    from batteries_pytest._isolation import ModuleData, load_files, open_connection
    from batteries_pytest._marks import module_fixture_files

    module = request.node
    with _one_line():
        files = module_fixture_files(module, options_of(request.config).fixture_dirs)
    if not files:
        yield None
        return
    connection = await open_connection(
        database, module.nodeid, _loop_scope(request), rolled_back=True
    )
    data = ModuleData(connection, await connection.begin())
    try:
        with _one_line():
            await load_files(under_test, connection, files)
        yield data
    finally:
        await data.close()


def _refuse_module_fixtures(module: pytest.Module, loop_scope: str) -> None:
    from batteries_pytest._marks import has_module_fixtures

    if has_module_fixtures(module):
        pytest.fail(
            f"{module.nodeid}: fixtures(..., scope='module') stay loaded on one connection "
            f"between tests, which needs one event loop for the module, but its tests run with "
            f"loop_scope={loop_scope!r}: add pytestmark = [pytest.mark.asyncio(loop_scope="
            "'module'), ...] to the module (or set asyncio_default_test_loop_scope)",
            pytrace=False,
        )


@asynccontextmanager
async def _isolation_of(
    request: pytest.FixtureRequest,
    under_test: DatabaseUnderTest,
    database: Database,
    module_data: ModuleData | None = None,
) -> AsyncIterator[TestIsolation]:
    from batteries_pytest._isolation import TestIsolation, open_connection
    from batteries_pytest._marks import database_mark, fixture_files

    item = request.node
    loop_scope = _loop_scope(request)
    options = options_of(request.config)
    with _one_line():
        mark = database_mark(item)
        files = fixture_files(item, options.fixture_dirs)
    module = item.getparent(pytest.Module)
    if loop_scope not in _SHARED_LOOP_SCOPES and module is not None:
        _refuse_module_fixtures(module, loop_scope)
    if mark.transaction and module_data is not None:
        pytest.fail(
            f"{item.nodeid}: transaction=True cannot commit beside fixtures loaded once for the "
            "module (they stay in an open transaction): move the test to another module",
            pytrace=False,
        )
    transaction: AsyncTransaction | None
    if module_data is not None:
        connection, owns = module_data.connection, False
        transaction = await connection.begin_nested()
    else:
        connection = await open_connection(
            database, item.nodeid, loop_scope, rolled_back=not mark.transaction
        )
        owns = True
        transaction = None if mark.transaction else await connection.begin()
    state = TestIsolation(under_test, database, connection, transaction, owns_connection=owns)
    try:
        with _one_line():
            if mark.reset_sequences:
                await state.reset_sequences()
            await state.load(files)
        yield state
    finally:
        await state.close()


@asynccontextmanager
async def _client_of(
    app: FastAPI, under_test: DatabaseUnderTest, isolation: TestIsolation
) -> AsyncIterator[httpx.AsyncClient]:
    from batteries_pytest._client import open_client

    async with open_client(app, under_test.name, isolation.sessions) as opened:
        yield opened


def _variant(
    name: str,
    body: Callable[..., AbstractAsyncContextManager[Any]],
    *,
    scope: str,
    loop_scope: str,
    **arguments: str,
) -> Any:
    """An async fixture ``name`` in ``loop_scope``'s loop that yields what ``body`` yields.

    ``arguments`` maps each keyword of ``body`` to the fixture that fills it: the fixture's
    signature names them, as pytest reads fixture arguments off the signature.
    """

    async def fixture(**values: Any) -> AsyncIterator[Any]:
        async with body(**{keyword: values[source] for keyword, source in arguments.items()}) as v:
            yield v

    fixture.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(source, inspect.Parameter.KEYWORD_ONLY) for source in arguments.values()]
    )
    fixture.__name__ = fixture.__qualname__ = name
    return pytest_asyncio.fixture(fixture, scope=scope, loop_scope=loop_scope, name=name)  # type: ignore[call-overload]


@pytest.fixture(scope="session")
def _batteries_engine_unpooled(batteries_test_database: DatabaseUnderTest) -> Iterator[Database]:
    """One ``Database`` without a pool for the tests whose loop lives one test (or class) long.

    An engine per such loop would pay SQLAlchemy's first-connection set-up (a few queries) for
    every test; without a pool, no connection outlives the loop that opened it.
    """
    from batteries_pytest._lifecycle import in_thread

    database = batteries_test_database.open(pooled=False)
    yield database
    in_thread(lambda: asyncio.run(database.dispose()))


for _scope in _LOOP_SCOPES:
    _engine_name = "_batteries_engine_unpooled"
    if _scope in _SHARED_LOOP_SCOPES:
        _engine_name = f"_batteries_engine_{_scope}"
        globals()[_engine_name] = _variant(
            _engine_name,
            _engine,
            scope=_scope,
            loop_scope=_scope,
            under_test="batteries_test_database",
        )
    _dependencies = {
        "request": "request",
        "under_test": "batteries_test_database",
        "database": _engine_name,
    }
    if _scope in _SHARED_LOOP_SCOPES:
        globals()[f"_batteries_module_{_scope}"] = _variant(
            f"_batteries_module_{_scope}",
            _module_data,
            scope="module",
            loop_scope=_scope,
            **_dependencies,
        )
        _dependencies["module_data"] = f"_batteries_module_{_scope}"
    globals()[f"_batteries_test_{_scope}"] = _variant(
        f"_batteries_test_{_scope}",
        _isolation_of,
        scope="function",
        loop_scope=_scope,
        **_dependencies,
    )
    globals()[f"_batteries_client_{_scope}"] = _variant(
        f"_batteries_client_{_scope}",
        _client_of,
        scope="function",
        loop_scope=_scope,
        app="app",
        under_test="batteries_test_database",
        isolation=f"_batteries_test_{_scope}",
    )
