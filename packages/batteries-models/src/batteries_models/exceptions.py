"""Errors raised by FastAPI Batteries.

Every error of every batteries package derives from :class:`BatteriesError`, and each narrow error
also inherits the builtin that fits, so ``except LookupError`` keeps working::

    BatteriesError
    ├── ConfigurationError (ValueError)
    │   ├── MissingDriverError (ImportError)
    │   └── MissingPackageError (ImportError)
    ├── DatabaseUnreachableError (ConnectionError)
    │   └── DatabaseNotFoundError (FileNotFoundError)
    ├── DatabaseBusyError (TimeoutError)
    ├── ModelDiscoveryError (ImportError)
    ├── AppDiscoveryError (ImportError)
    └── RefusedInProductionError (PermissionError)

    BatteriesWarning (UserWarning)
    └── UnknownSettingWarning

Messages are one line: what is wrong and what to do. URLs in messages are always masked.
"""

from __future__ import annotations

__all__ = [
    "AppDiscoveryError",
    "BatteriesError",
    "BatteriesWarning",
    "ConfigurationError",
    "DatabaseBusyError",
    "DatabaseNotFoundError",
    "DatabaseUnreachableError",
    "MissingDriverError",
    "MissingPackageError",
    "ModelDiscoveryError",
    "RefusedInProductionError",
    "UnknownSettingWarning",
]


class BatteriesError(Exception):
    """Root of every error raised by a FastAPI Batteries package."""


class ConfigurationError(BatteriesError, ValueError):
    """The settings, a URL or ``[tool.batteries]`` are wrong or incomplete."""


class MissingDriverError(ConfigurationError, ImportError):
    """The database driver a URL needs is not installed.

    Attributes:
        driver: The import name of the missing driver (``asyncpg``, ``aiosqlite``).
        extra: The requirement that installs it here: ``batteries-models[postgres]``, or
            ``fastapi-batteries[postgres]`` when the meta-package is installed.
    """

    def __init__(self, message: str, *, driver: str, extra: str) -> None:
        super().__init__(message)
        self.driver = driver
        self.extra = extra


class DatabaseUnreachableError(BatteriesError, ConnectionError):
    """The database server could not be reached.

    Attributes:
        url: The database URL with its password masked.
        host: The host that was tried, when the URL names one.
        port: The port that was tried, when the URL names one.
    """

    def __init__(self, message: str, *, url: str, host: str | None, port: int | None) -> None:
        super().__init__(message)
        self.url = url
        self.host = host
        self.port = port


class DatabaseNotFoundError(DatabaseUnreachableError, FileNotFoundError):
    """A SQLite database file does not exist, and the caller only reads: it is not created.

    Attributes:
        url: The database URL with its password masked.
        path: The absolute path of the missing file.
    """

    def __init__(self, message: str, *, url: str, path: str) -> None:
        super().__init__(message, url=url, host=None, port=None)
        self.path = path


class DatabaseBusyError(BatteriesError, TimeoutError):
    """A SQLite transaction could not take the file's lock within the busy timeout.

    Another connection (in this process or another) held SQLite's write lock longer than
    ``sqlite_busy_timeout``: raise the timeout, or shorten the transactions that hold it.

    Attributes:
        url: The database URL with its password masked.
        timeout: The busy timeout that ran out, in seconds.
    """

    def __init__(self, message: str, *, url: str, timeout: float) -> None:
        super().__init__(message)
        self.url = url
        self.timeout = timeout


class ModelDiscoveryError(BatteriesError, ImportError):
    """A models module could not be imported.

    Attributes:
        path: The dotted module path that was given.
        file: The file whose code failed (a ``SyntaxError``'s file, or the deepest frame of the
            project's code), when known.
        line: The line of ``file`` that failed, when known.
    """

    def __init__(
        self, message: str, *, path: str, file: str | None = None, line: int | None = None
    ) -> None:
        super().__init__(message)
        self.path = path
        self.file = file
        self.line = line


class AppDiscoveryError(BatteriesError, ImportError):
    """The project's FastAPI app could not be found or imported.

    Attributes:
        path: What was asked for (``module:attribute``), or ``""`` when nothing was found.
        looked: Where discovery looked, in order, each with what it found there.
        file: The file whose code failed to import, when known.
        line: The line of ``file`` that failed, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str,
        looked: tuple[str, ...] = (),
        file: str | None = None,
        line: int | None = None,
    ) -> None:
        super().__init__(message)
        self.path = path
        self.looked = looked
        self.file = file
        self.line = line


class MissingPackageError(ConfigurationError, ImportError):
    """A feature that was asked for needs a FastAPI Batteries package that is not installed.

    Attributes:
        distribution: The distribution to install (``batteries-migrate``).
    """

    def __init__(self, message: str, *, distribution: str) -> None:
        super().__init__(message)
        self.distribution = distribution


class RefusedInProductionError(BatteriesError, PermissionError):
    """A development tool was asked to run where ``BATTERIES_ENVIRONMENT`` is ``production``.

    Attributes:
        action: What was refused (``seed the database``).
    """

    def __init__(self, message: str, *, action: str) -> None:
        super().__init__(message)
        self.action = action


class BatteriesWarning(UserWarning):
    """Root of every warning issued by a FastAPI Batteries package.

    The command lines show these as one line each, without Python's source location.
    """


class UnknownSettingWarning(BatteriesWarning):
    """A ``[tool.batteries]`` key or a ``BATTERIES_`` variable of a ``.env`` names no setting.

    Attributes:
        key: The key or variable as written.
        path: The file that holds it.
        suggestion: The closest known key, if one is close.
    """

    def __init__(self, message: str, *, key: str, path: str, suggestion: str | None) -> None:
        super().__init__(message)
        self.key = key
        self.path = path
        self.suggestion = suggestion
