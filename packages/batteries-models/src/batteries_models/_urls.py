"""Database URL handling: masking, async-driver normalisation and driver checks."""

from __future__ import annotations

import importlib.util
import re
from urllib.parse import quote, quote_plus

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from batteries_models._extras import extra_requirement
from batteries_models.exceptions import ConfigurationError, MissingDriverError

__all__ = ["mask_url", "normalise_url"]

_MASK = "***"
# A scheme as RFC 3986 writes it; SQLAlchemy's own parser accepts a subset ([\w+]+).
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")
# Where a URL in free text starts a new one: after whitespace, a quote, a bracket or `=`.
_URL_START_AFTER = frozenset(" \t\r\n'\"(<[{=,;")
# The user name as SQLAlchemy's make_url reads it ([^:/]*), then the colon before the password.
_USER_THEN_COLON = re.compile(r"[^:/\s]*:")
# Query parameters that carry a secret (`?password=...` is how asyncpg and psycopg take one too).
_SECRET_PARAMS = r"password|passwd|pwd|pass|secret|sslpassword|sslkey_password|token"
# A query value ends where the next `&name=` starts; free text also ends it at a space or quote.
_QUERY_SECRET_IN_URL = re.compile(rf"(?i)([?&;](?:{_SECRET_PARAMS})=)(?:[^&]|&(?![\w.\-]+=))*")
_QUERY_SECRET_IN_TEXT = re.compile(
    rf"(?i)([?&;](?:{_SECRET_PARAMS})=)(?:[^&\s'\"]|&(?![\w.\-]+=))*"
)
# Shorter passwords are not replaced where they stand alone in a message: they would turn every
# matching letter of the message into ***, and offer no protection worth having anyway.
_MIN_LITERAL = 3

# Async drivers we know, per backend: (driver import name, our extra that installs it, or else
# the requirement to pip install).
_ASYNC_DRIVERS: dict[str, dict[str, tuple[str, str]]] = {
    "postgresql": {
        "asyncpg": ("asyncpg", "postgres"),
        "psycopg": ("psycopg", "psycopg[binary]"),
    },
    "sqlite": {"aiosqlite": ("aiosqlite", "sqlite")},
    "mysql": {
        "aiomysql": ("aiomysql", "aiomysql"),
        "asyncmy": ("asyncmy", "asyncmy"),
    },
}
_OUR_EXTRAS = frozenset({"postgres", "sqlite"})
_DEFAULT_DRIVER = {"postgresql": "asyncpg", "sqlite": "aiosqlite", "mysql": "aiomysql"}
_BACKEND_ALIASES = {"postgres": "postgresql", "mariadb": "mysql"}


def mask_url(url: str | URL, *, password: str | None = None) -> str:
    """Return ``url`` as text with every password in it replaced by ``***``.

    Works on SQLAlchemy ``URL`` objects and on any text that holds URLs (an error message), so it
    is safe to call on whatever is about to be printed or logged. When in doubt it hides more:
    a password may hold an unencoded ``@``, ``/``, ``?``, ``#``, quote or space, so it is taken
    to run from the colon after the user name to the **last** ``@`` of the URL (of the whole text
    when the text is one URL, else up to the next URL). Secrets passed as query parameters
    (``?password=...``) are hidden too.

    Args:
        url: A URL, or text holding URLs.
        password: A password known to belong to these URLs. It is also hidden wherever else it
            appears in the text (as written, percent-encoded, or escaped by ``repr``), such as
            in a driver's error message.
    """
    text = url.render_as_string(hide_password=True) if isinstance(url, URL) else url
    return _mask_urls(_hide_literal(text, password))


def _hide_literal(text: str, password: str | None) -> str:
    if not password or len(password) < _MIN_LITERAL:
        return text
    forms = {
        password,
        quote(password, safe=""),
        quote_plus(password, safe=""),
        quote(password),
        repr(password)[1:-1],
        password.encode("unicode_escape").decode("ascii"),
    }
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, _MASK)
    return text


def _mask_urls(text: str) -> str:
    first = _SCHEME.search(text)
    if first is None:
        return text
    one_url = not text[: first.start()].strip()
    parts: list[str] = []
    done = 0
    for match in _SCHEME.finditer(text):
        if match.start() < done:
            continue  # inside a password hidden already
        # Text that is one URL is read as one URL, however many `://` its password holds.
        end = len(text) if one_url else _next_url_start(text, match.end())
        span = _password_span(text, match.end(), end, free_text=not one_url)
        if span is not None:
            parts += [text[done : span[0]], _MASK]
            done = span[1]
        if one_url:
            break
    parts.append(text[done:])
    query = _QUERY_SECRET_IN_URL if one_url else _QUERY_SECRET_IN_TEXT
    return query.sub(rf"\g<1>{_MASK}", "".join(parts))


def _next_url_start(text: str, after: int) -> int:
    for match in _SCHEME.finditer(text, after):
        if text[match.start() - 1] in _URL_START_AFTER:
            return match.start()
    return len(text)


def _password_span(text: str, begin: int, end: int, *, free_text: bool) -> tuple[int, int] | None:
    """Where the password of the URL whose user name starts at ``begin`` is, if it has one.

    It runs from the colon after the user name to the last ``@`` before ``end``: SQLAlchemy
    stops at the first ``@``, which leaves the rest of a password holding ``@`` in the host.
    """
    colon = text.find(":", begin, end)
    if colon < 0 or (free_text and any(c.isspace() for c in text[begin:colon])):
        return None
    last_at = text.rfind("@", colon + 1, end)
    if last_at < 0 and free_text:
        # No `@` before the next URL: that "URL" may be part of this one's password.
        last_at = text.rfind("@", colon + 1)
    return None if last_at < 0 else (colon + 1, last_at)


def normalise_url(url: str | URL) -> URL:
    """Parse ``url`` and make it use an async driver.

    ``postgresql://`` and ``postgres://`` become ``postgresql+asyncpg://``, ``sqlite://`` becomes
    ``sqlite+aiosqlite://``. A sync driver (``postgresql+psycopg2``) is refused with a message that
    says what to write instead. The driver must be importable.

    Raises:
        ConfigurationError: The URL cannot be parsed, has an unencoded ``@`` in its password,
            names an unknown backend or a sync driver.
        MissingDriverError: The async driver is not installed.
    """
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        # Neither the text nor the parser's error is shown, not even as the chained cause: a URL
        # that does not parse has no password we can find and hide, and the error of `int()` on
        # a "port" quotes part of the password (u:p@ss:w0rd@host).
        msg = (
            "Cannot parse the database URL: write it as scheme://user:password@host:port/name, "
            "with special characters of the password percent-encoded"
        )
        raise ConfigurationError(msg) from None
    if isinstance(url, str) and _password_holds_at(url, parsed):
        # The URL goes last: text after it holding an `@` would be masked along with it.
        msg = (
            "The database URL's password holds an unencoded '@', so the rest of it would be "
            "read as the host: percent-encode the password (urllib.parse.quote(password, "
            f"safe='') writes '@' as %40) in {mask_url(url)}"
        )
        raise ConfigurationError(msg)
    if parsed.port is not None and not 0 < parsed.port < 65536:
        # Checked here: the drivers raise OverflowError from deep inside connect().
        msg = f"Port {parsed.port} in database URL {mask_url(parsed)} is not a port: use 1-65535"
        raise ConfigurationError(msg)
    backend, _, driver = parsed.drivername.partition("+")
    backend = _BACKEND_ALIASES.get(backend, backend)
    drivers = _ASYNC_DRIVERS.get(backend)
    if drivers is None:
        known = ", ".join(f"{b}+{d}://" for b, d in _DEFAULT_DRIVER.items())
        msg = (
            f"Unknown database scheme {parsed.drivername!r} in {mask_url(parsed)}: "
            f"use one of {known}"
        )
        raise ConfigurationError(msg)
    if not driver:
        driver = _DEFAULT_DRIVER[backend]
    if driver not in drivers:
        suggestion = parsed.set(drivername=f"{backend}+{_DEFAULT_DRIVER[backend]}")
        msg = (
            f"{parsed.drivername!r} is not an async driver (in {mask_url(parsed)}): "
            f"write {mask_url(suggestion)} instead"
        )
        raise ConfigurationError(msg)
    module, extra = drivers[driver]
    if importlib.util.find_spec(module) is None:
        if extra in _OUR_EXTRAS:
            extra = extra_requirement("batteries-models", extra)
        msg = (
            f"The {backend} driver {module!r} is not installed, but {mask_url(parsed)} needs it: "
            f"pip install '{extra}'"
        )
        raise MissingDriverError(msg, driver=module, extra=extra)
    return parsed.set(drivername=f"{backend}+{driver}")


def _password_holds_at(text: str, parsed: URL) -> bool:
    """Whether SQLAlchemy read part of the password as the host, port, database or query.

    make_url ends the password at its first ``@``; one more ``@`` after the user name's colon
    (``u:p@ss@host``) means the password went on. An ``@`` in the user name is fine (Azure's
    ``user@server:password@host``).
    """
    if parsed.password is None:
        return False
    after_scheme = text.find("://") + 3
    colon = text.find(":", after_scheme)
    return text.count("@", colon + 1) > 1 or "@" in (parsed.host or "")
