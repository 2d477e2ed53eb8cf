"""No command ever prints a database password, whatever it holds and however the URL fails.

The commands run as users run them (console scripts in a subprocess, and in-process through
CliRunner for the fuzzing), with ``DATABASE_URL`` holding a password full of characters that
URLs give a meaning to: once against a port nothing listens on, once against the real PostgreSQL
server with a role that exists and a database that does not. No piece of four characters or more
of the password, as written or percent-decoded, may appear on stdout, on stderr, in a log record
or in a warning.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from batteries_cli._app import app

BIN = Path(sys.executable).parent
UNREACHABLE = "127.0.0.1:1"
TRICKY = "p@ss#w0rd/:?%& \"'ü@@x%41"
URL_SPECIALS = ":/?#[]@!$&'()*+,;=%\"<>\\^`{|}~ "
PASSWORDS = st.text(
    alphabet=st.sampled_from(URL_SPECIALS)
    # NUL is left out: no environment variable can hold it.
    | st.characters(codec="utf-8", exclude_categories=["Cs"], exclude_characters="\x00"),
    min_size=6,
    max_size=20,
)


def fragments(secret: str, size: int = 4) -> set[str]:
    return {secret[i : i + size] for i in range(max(1, len(secret) - size + 1))}


def assert_hidden(password: str, output: str, visible: str) -> None:
    """No 4-character piece of the password (or its decoded form) is in ``output``.

    ``visible`` is what the command prints for a harmless password: a piece found there too
    (a password holding "host" or "Error") is not a leak.
    """
    pieces = fragments(password) | fragments(unquote(password))
    leaked = {p for p in pieces if p in output and p not in visible}
    assert not leaked, f"{leaked} of {password!r} printed:\n{output}"


def url_for(password: str, where: str, user: str = "app", database: str = "shop") -> str:
    return f"postgresql://{user}:{password}@{where}/{database}"


COMMANDS = {
    "db current": ["db", "current"],
    "fixtures dump": ["fixtures", "dump", "--quiet"],
    "fixtures load": ["fixtures", "load", "{fixture}", "--quiet"],
    "config check": ["config", "check"],
    "shell -c": ["shell", "-c", "await db.ping()"],
}


@pytest.fixture(scope="session")
def pycache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bytecode cache for the subprocesses: without one each recompiles every import."""
    return tmp_path_factory.mktemp("pycache")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project with a migrations folder and an empty fixture, and no URL in the environment."""
    import batteries_migrate

    (tmp_path / "empty.json").write_text("[]", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    for name in ("DATABASE_URL", "BATTERIES_DATABASE_URL", "BATTERIES_MODELS"):
        monkeypatch.delenv(name, raising=False)
    batteries_migrate.init()  # so that `db current` gets as far as connecting
    return tmp_path


def command_args(command: str, project: Path) -> list[str]:
    return [a.format(fixture=project / "empty.json") for a in COMMANDS[command]]


def run_script(script: str, args: list[str], url: str, cwd: Path, pycache: Path) -> str:
    skip = ("BATTERIES_", "DATABASE_URL", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if not k.startswith(skip)}
    env |= {"DATABASE_URL": url, "PYTHONPYCACHEPREFIX": str(pycache)}
    done = subprocess.run(
        [str(BIN / script), *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    return f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"


def run_in_process(args: list[str], url: str, caplog: pytest.LogCaptureFixture) -> str:
    """Run a command in this process: its output, log records and warnings, as one text."""
    caplog.clear()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = CliRunner().invoke(app, args, env={"DATABASE_URL": url})
    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    shown = "\n".join(str(w.message) for w in caught)
    return f"exit {result.exit_code}\n{result.stdout}\n{result.stderr}\n{logged}\n{shown}"


@pytest.fixture(scope="module")
def tricky_role() -> Iterator[tuple[str, str]]:
    """A PostgreSQL role whose password is TRICKY (a trusting server does not ask for it)."""
    from conftest import POSTGRES_URL  # the admin URL the suite already uses

    admin_url = make_url(POSTGRES_URL)
    name = f"batteries_pw_test_{uuid.uuid4().hex[:8]}"
    literal = TRICKY.replace("'", "''")

    async def admin(sql: str) -> None:
        import asyncpg

        conn = await asyncpg.connect(
            host=admin_url.host,
            port=admin_url.port or 5432,
            user=admin_url.username,
            password=admin_url.password,
            database=admin_url.database or "postgres",
            timeout=5,
        )
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    try:
        asyncio.run(admin(f"CREATE ROLE {name} LOGIN PASSWORD '{literal}'"))
    except Exception as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is unreachable: {exc}")
        pytest.skip(f"PostgreSQL is unreachable: {exc}")
    yield name, f"{admin_url.host}:{admin_url.port or 5432}"
    asyncio.run(admin(f"DROP ROLE IF EXISTS {name}"))


@pytest.mark.parametrize(
    ("script", "command", "encoded"),
    [
        ("fastapi-batteries", "db current", False),
        ("fastapi-batteries", "db current", True),
        ("fastapi-batteries", "fixtures dump", True),
        ("batteries-fixtures", "fixtures load", True),
    ],
)
def test_console_scripts_hide_the_password_of_an_unreachable_server(
    project: Path, pycache: Path, script: str, command: str, encoded: bool
) -> None:
    password = quote(TRICKY, safe="") if encoded else TRICKY
    args = command_args(command, project)
    if script == "batteries-fixtures":
        args = args[1:]
    output = run_script(script, args, url_for(password, UNREACHABLE), project, pycache)
    assert output.startswith("exit 1"), output
    # The raw password holds `@`: that URL is refused before connecting; the other connects.
    assert ("percent-encode" if not encoded else "Cannot connect") in output, output
    assert_hidden(TRICKY, output, "")
    assert_hidden(quote(TRICKY, safe=""), output, "")


@pytest.mark.postgres
def test_commands_hide_the_password_given_to_the_real_server(
    project: Path, pycache: Path, caplog: pytest.LogCaptureFixture, tricky_role: tuple[str, str]
) -> None:
    role, where = tricky_role
    missing = f"no_such_db_{uuid.uuid4().hex[:8]}"
    url = url_for(quote(TRICKY, safe=""), where, user=role, database=missing)
    outputs = [run_in_process(command_args(c, project), url, caplog) for c in COMMANDS]
    outputs.append(
        run_script(
            "fastapi-batteries", command_args("fixtures dump", project), url, project, pycache
        )
    )
    for output in outputs:
        assert output.startswith("exit 1"), output
        assert missing in output, output  # the server's complaint got through, minus the password
        assert_hidden(TRICKY, output, "")
        assert_hidden(quote(TRICKY, safe=""), output, "")


def test_version_shows_no_url(project: Path, caplog: pytest.LogCaptureFixture) -> None:
    output = run_in_process(["version"], url_for(TRICKY, UNREACHABLE), caplog)
    assert output.startswith("exit 0"), output
    assert_hidden(TRICKY, output, "")


@settings(
    max_examples=15,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(password=PASSWORDS, encoded=st.booleans(), command=st.sampled_from(list(COMMANDS)))
def test_fuzzed_passwords_never_reach_any_output(
    project: Path, caplog: pytest.LogCaptureFixture, password: str, encoded: bool, command: str
) -> None:
    caplog.set_level(logging.DEBUG, logger="sqlalchemy")
    written = quote(password, safe="") if encoded else password
    args = command_args(command, project)
    output = run_in_process(args, url_for(written, UNREACHABLE), caplog)
    visible = run_in_process(args, url_for("harmless", UNREACHABLE), caplog)
    assert output.startswith("exit 1"), output
    assert_hidden(password, output, visible)
    assert_hidden(quote(password, safe=""), output, visible)
