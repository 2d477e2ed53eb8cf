"""``fastapi-batteries db shell``: the database's own command-line client.

The connection parameters, the password above all, go to the client through its environment
variables (``PGPASSWORD``...), never on its command line, where any user of the machine can read
them (``ps``, ``/proc/<pid>/cmdline``).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from typing import TYPE_CHECKING, Annotated

import typer

from batteries_cli._errors import errors, fail
from batteries_cli._options import DatabaseName, DatabaseUrl, resolve_settings

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

__all__ = ["client_command", "db_shell"]

_INSTALL = {
    "psql": "install the PostgreSQL client (apt install postgresql-client, brew install libpq)",
    "sqlite3": "install the SQLite command-line shell (apt install sqlite3, brew install sqlite)",
}
# libpq reads these; the URL's query parameters of the same meaning become them.
_PG_QUERY_VARIABLES = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "application_name": "PGAPPNAME",
    "host": "PGHOST",  # a Unix socket folder: postgresql://u@/db?host=/var/run/postgresql
}


def db_shell(
    arguments: Annotated[
        list[str] | None,
        typer.Argument(help="Passed on to the client, after --: db shell -- -c 'select 1'."),
    ] = None,
    database: DatabaseName = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Open the database's own client (psql, sqlite3) on the configured database."""
    name, settings = resolve_settings(database, database_url, None)
    with errors():
        from sqlalchemy.engine import make_url

        url = make_url(settings.database(name).url)
    argv, environment = client_command(url, arguments or [])
    executable = shutil.which(argv[0])
    if executable is None:
        fail(f"{argv[0]} is not installed or not on PATH: {_INSTALL[argv[0]]}")
    # Ctrl-C belongs to the client (it cancels a query in psql), not to us.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        completed = subprocess.run([executable, *argv[1:]], env=environment, check=False)
    finally:
        signal.signal(signal.SIGINT, previous)
    raise typer.Exit(completed.returncode)


def client_command(url: URL, arguments: list[str]) -> tuple[list[str], dict[str, str]]:
    """The client's command line and environment for ``url``.

    Raises:
        typer.Exit: The backend has no supported client, or the URL names no database file.
    """
    backend = url.get_backend_name()
    environment = dict(os.environ)
    if backend == "postgresql":
        given = {
            "PGHOST": url.host,
            "PGPORT": str(url.port) if url.port else None,
            "PGUSER": url.username,
            "PGPASSWORD": url.password if isinstance(url.password, str) else None,
            "PGDATABASE": url.database,
        }
        for key, variable in _PG_QUERY_VARIABLES.items():
            value = url.query.get(key)
            if isinstance(value, str):
                given[variable] = value
        environment.update({key: value for key, value in given.items() if value})
        return ["psql", *arguments], environment
    if backend == "sqlite":
        path = url.database or ""
        if path in ("", ":memory:") or path.startswith("file::memory:"):
            fail("The database is in memory, so no client can open it: configure a file database")
        return ["sqlite3", path, *arguments], environment
    fail(f"db shell supports PostgreSQL (psql) and SQLite (sqlite3), not {backend}")
