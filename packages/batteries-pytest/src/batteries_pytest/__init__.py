"""batteries-pytest: a pytest plugin for FastAPI Batteries projects.

Installed, it registers itself with pytest (the ``pytest11`` entry point) and stays inert until a
test asks for one of its fixtures or markers: no connection, no database, no autouse fixture.

Fixtures: ``db_session`` (an ``AsyncSession`` in a transaction rolled back after the test),
``db_connection``, ``client`` (an ``httpx.AsyncClient`` on the app, whose session dependency
is the test's), ``app`` and ``batteries_test_database``. Markers:
``@pytest.mark.fixtures("heroes.json", scope="function" | "module")`` and
``@pytest.mark.batteries_db(transaction=False, reset_sequences=False)``. Options:
``--reuse-db`` and ``--create-db``. Example::

    @pytest.mark.fixtures("heroes.json")
    async def test_list(client: httpx.AsyncClient) -> None:
        assert (await client.get("/heroes")).status_code == 200

The test database is named after the configured one with ``_test`` (and the xdist worker id),
created for the run and dropped after it.
"""

from importlib.metadata import version as _version

from batteries_pytest._database import DatabaseUnderTest

__version__ = _version("batteries-pytest")

__all__ = ["DatabaseUnderTest", "__version__"]
