"""Where the settings are read from, and a record of what each place gave.

The project root is the folder of the ``pyproject.toml`` found in the working folder or up to
four folders above it (the rule pydantic-settings applies with ``pyproject_toml_depth=4``). Its
``.env`` is read as well as the working folder's, which wins. Each source is wrapped so that what
it returned is kept: :class:`SettingsReport` is built from those records, never by reading the
files a second time.
"""

from __future__ import annotations

import difflib
import os
import warnings
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import AliasChoices, SecretStr, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import (
    DotEnvSettingsSource,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    PyprojectTomlConfigSettingsSource,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from batteries_models._urls import mask_url
from batteries_models.exceptions import ConfigurationError, UnknownSettingWarning

if TYPE_CHECKING:
    from pydantic_settings import BaseSettings

__all__ = [
    "PYPROJECT_DEPTH",
    "SettingOrigin",
    "SettingSource",
    "SettingsReport",
    "build_sources",
    "find_pyproject",
    "invalid_settings",
    "take_recording",
]

PYPROJECT_DEPTH = 4
"""How many folders above the working folder ``pyproject.toml`` is looked for."""

SettingOrigin = Literal["argument", "environment", "dotenv", "pyproject", "secrets", "default"]
"""Where a setting came from, highest precedence first."""

_ORIGIN_NAMES: dict[str, str] = {
    "argument": "argument",
    "environment": "environment",
    "dotenv": ".env",
    "pyproject": "pyproject.toml",
    "secrets": "secrets folder",
    "default": "default",
}
_TABLE = "[tool.batteries]"
# Settings that hold a database URL: shown through mask_url, relative SQLite paths resolved.
_URL_FIELDS = frozenset({"database_url", "url"})
# Settings that hold a path, resolved against the folder of the file that sets them.
_PATH_FIELDS = frozenset({"migrations"})


@dataclass(frozen=True)
class SettingSource:
    """One resolved setting and where its value came from.

    Attributes:
        name: The setting, dotted for a named database's options: ``database_url``,
            ``databases.analytics.url``.
        value: The value the settings hold (a password in it is real: use :attr:`display`).
        origin: ``"argument"``, ``"environment"``, ``"dotenv"``, ``"pyproject"``,
            ``"secrets"`` (``_secrets_dir``) or ``"default"``.
        path: The ``.env`` or ``pyproject.toml`` file it was read from; ``None`` otherwise.
        key: The variable (``DATABASE_URL``) or ``[tool.batteries]`` key it was read from;
            ``None`` for arguments and defaults.
    """

    name: str
    value: Any
    origin: SettingOrigin
    path: Path | None = None
    key: str | None = None

    @property
    def display(self) -> str:
        """The value as text, with every password in it replaced by ``***``."""
        if isinstance(self.value, SecretStr):
            return "***" if self.value.get_secret_value() else "''"
        return mask_url(str(self.value)) if isinstance(self.value, str) else repr(self.value)

    def describe(self) -> str:
        """Where the value came from, in words: ``.env /app/.env (DATABASE_URL)``."""
        words = _ORIGIN_NAMES[self.origin]
        if self.path is not None:
            words = f"{words} {self.path}"
        if self.key is not None:
            words = f"{words} ({self.key})" if self.path is not None else f"{words} {self.key}"
        return words


@dataclass(frozen=True)
class SettingsReport:
    """Every resolved setting with its origin, and the files that were read.

    Attributes:
        project_root: The folder of the project's ``pyproject.toml``; the working folder when
            none was found.
        pyproject: The ``pyproject.toml`` that was read, if one was found.
        env_files: The ``.env`` files that were read, the one that wins first.
        values: One entry per setting, in the order the settings declare them; each option of
            a named database is an entry of its own (``databases.analytics.url``).
    """

    project_root: Path
    pyproject: Path | None
    env_files: tuple[Path, ...]
    values: tuple[SettingSource, ...]

    def __getitem__(self, name: str) -> SettingSource:
        for value in self.values:
            if value.name == name:
                return value
        raise KeyError(name)

    def files_read(self) -> str:
        """The files read, as one phrase for a message: ``/app/.env, /app/pyproject.toml``."""
        files = [*self.env_files, *([self.pyproject] if self.pyproject is not None else [])]
        return ", ".join(str(path) for path in files) or "no .env or pyproject.toml found"


@dataclass
class _Read:
    origin: SettingOrigin
    path: Path | None
    source: PydanticBaseSettingsSource
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Recording:
    project_root: Path
    pyproject: Path | None
    env_files: tuple[Path, ...]
    reads: list[_Read] = field(default_factory=list)


_RECORDING: ContextVar[_Recording | None] = ContextVar("batteries_settings_recording", default=None)


class _Recorded(PydanticBaseSettingsSource):
    """A source that keeps what the source it wraps returned."""

    def __init__(self, inner: PydanticBaseSettingsSource, read: _Read, recording: _Recording):
        super().__init__(inner.settings_cls)
        self._inner = inner
        self._read = read
        self._recording = recording

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self._inner.get_field_value(field, field_name)

    def __call__(self) -> dict[str, Any]:
        return _record(self._inner(), self._read, self._recording)


class _RecordedPyproject(PyprojectTomlConfigSettingsSource):
    """``[tool.batteries]``, kept. A subclass, not a wrapper: pydantic-settings looks for one."""

    def __init__(self, settings_cls: type[BaseSettings], read: _Read, recording: _Recording):
        # No file found: a path that does not exist, so that nothing is read.
        super().__init__(settings_cls, toml_file=read.path or Path.cwd() / "pyproject.toml")
        self._read = read
        self._recording = recording

    def __call__(self) -> dict[str, Any]:
        return _record(super().__call__(), self._read, self._recording)


def _record(data: dict[str, Any], read: _Read, recording: _Recording) -> dict[str, Any]:
    """Check a file's keys, make its relative paths its own, and keep what it gave."""
    if read.path is not None:
        _warn_unknown(read, read.source.settings_cls, data)
        data = _resolve_relative(data, read.path.parent)
    read.data = data
    recording.reads.append(read)
    return data


def find_pyproject(start: Path | None = None, depth: int = PYPROJECT_DEPTH) -> Path | None:
    """The ``pyproject.toml`` in ``start`` (the working folder) or up to ``depth`` folders above."""
    folder = (start or Path.cwd()).absolute()
    for candidate in [folder, *list(folder.parents)[:depth]]:
        path = candidate / "pyproject.toml"
        if path.is_file():
            return path
    return None


def build_sources(
    settings_cls: type[BaseSettings],
    init_settings: PydanticBaseSettingsSource,
    env_settings: PydanticBaseSettingsSource,
    dotenv_settings: PydanticBaseSettingsSource,
    secrets_settings: PydanticBaseSettingsSource,
) -> tuple[PydanticBaseSettingsSource, ...]:
    """The sources of ``settings_cls``, highest precedence first, each one recorded.

    Arguments, the environment, the working folder's ``.env``, the project root's ``.env``,
    ``[tool.batteries]``, then the secrets folder (only with ``_secrets_dir``).
    ``_env_file=...`` given to the settings replaces both ``.env`` files.
    """
    pyproject = find_pyproject()
    root = pyproject.parent if pyproject is not None else Path.cwd().absolute()
    env_paths = _env_files(dotenv_settings, settings_cls, root)
    recording = _Recording(root, pyproject, tuple(path for path, _ in env_paths))
    _RECORDING.set(recording)

    def recorded(
        inner: PydanticBaseSettingsSource, origin: SettingOrigin, path: Path | None = None
    ) -> PydanticBaseSettingsSource:
        return _Recorded(inner, _Read(origin, path, inner), recording)

    sources = [recorded(init_settings, "argument"), recorded(env_settings, "environment")]
    sources += [recorded(source, "dotenv", path) for path, source in env_paths]
    # Added without a file too: pydantic-settings warns when the source its config names is absent.
    read = _Read("pyproject", pyproject, init_settings)
    toml = _RecordedPyproject(settings_cls, read, recording)
    read.source = toml
    sources.append(toml)
    sources.append(recorded(secrets_settings, "secrets"))
    return tuple(sources)


def take_recording(settings: BaseSettings) -> _Recording | None:
    """The recording of ``settings``, being built, once: called from its ``model_post_init``.

    A default path (the migrations folder) is the project root's, whatever the working folder,
    when that root's ``pyproject.toml`` has a ``[tool.batteries]`` table.
    """
    recording = _RECORDING.get()
    _RECORDING.set(None)
    if recording is None or recording.project_root == Path.cwd().absolute():
        return recording
    # Only a pyproject.toml that configures us marks the project: a parent folder's unrelated
    # one (a monorepo's, a home folder's) must not move the migrations away from here.
    if not any(read.origin == "pyproject" and read.data for read in recording.reads):
        return recording
    for name in _PATH_FIELDS:
        info = type(settings).model_fields.get(name)
        given = any(_lookup(read.data, (), _keys(name, info)) for read in recording.reads)
        value = getattr(settings, name, None)
        if info is not None and not given and isinstance(value, str):
            setattr(settings, name, str(recording.project_root / value))
    return recording


def invalid_settings(exc: ValidationError, fields: Mapping[str, FieldInfo]) -> ConfigurationError:
    """One line for settings that do not validate: the setting, where it came from, why.

    Called instead of ``take_recording`` when validation failed, so the recording is still
    there to name the variable or file at fault. Values are shown masked: one may be a URL.
    """
    recording = _RECORDING.get()
    _RECORDING.set(None)
    reads = sorted(recording.reads, key=_precedence) if recording is not None else []
    errors = exc.errors(include_url=False)
    first = errors[0]
    names = tuple(str(part) for part in first["loc"])
    info = fields.get(names[0]) if names else None
    keys = _keys(names[-1], info if len(names) == 1 else None) if names else ()
    source = _attribute(names, keys, first.get("input"), reads) if names else None
    name = ".".join(names) or "settings"
    known = source is not None and source.origin != "default"
    where = f", from {source.describe()}" if source is not None and known else ""
    value = first.get("input")
    hidden = isinstance(value, dict) or first["type"] == "missing"
    shown = "" if hidden else f" (got {_shown_value(value)})"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    hint = _fix_hint(name, first["type"])
    msg = f"Invalid setting {name}{where}: {first['msg']}{shown}{more}; {hint}"
    return ConfigurationError(msg)


def _shown_value(value: Any) -> str:
    return repr(mask_url(value)) if isinstance(value, str) else repr(value)


def _fix_hint(name: str, kind: str) -> str:
    if kind == "missing" and name.startswith("databases."):
        variable = "BATTERIES_" + "__".join(name.split(".")).upper()
        return f"set {variable}, or remove the other options of that database"
    return "fix the value where it is set"


def _env_files(
    given: PydanticBaseSettingsSource, settings_cls: type[BaseSettings], root: Path
) -> list[tuple[Path, PydanticBaseSettingsSource]]:
    """The ``.env`` files that exist, highest precedence first, each with a source of its own."""
    configured = settings_cls.model_config.get("env_file")
    chosen = getattr(given, "env_file", configured)
    if chosen is None:
        return []
    if chosen != configured:  # the caller passed _env_file=...: exactly those files
        names = [chosen] if isinstance(chosen, str | os.PathLike) else list(chosen)
        paths = [Path(name).absolute() for name in reversed(names)]
    else:
        here = Path.cwd().absolute() / str(configured)
        paths = [here] if root == here.parent else [here, root / str(configured)]
    found = [path for path in paths if path.is_file()]
    return [(path, DotEnvSettingsSource(settings_cls, env_file=path)) for path in found]


def build_report(
    recording: _Recording | None, settings: BaseSettings, fields: Mapping[str, FieldInfo]
) -> SettingsReport:
    """Attribute every value of ``settings`` to the highest source that gave it."""
    if recording is None:  # built without sources (model_construct, a copy)
        root = Path.cwd().absolute()
        recording = _Recording(root, None, ())
    reads = sorted(recording.reads, key=_precedence)
    values: list[SettingSource] = []
    for name, info in fields.items():
        value = getattr(settings, name)
        if not (isinstance(value, dict) and value):
            values.append(_attribute((name,), _keys(name, info), value, reads))
            continue
        for entry, nested in value.items():
            for sub in getattr(type(nested), "model_fields", {}):
                path = (name, entry, sub)
                values.append(_attribute(path, (sub,), getattr(nested, sub), reads))
    return SettingsReport(
        recording.project_root, recording.pyproject, recording.env_files, tuple(values)
    )


_ORDER: dict[str, int] = {
    "argument": 0,
    "environment": 1,
    "dotenv": 2,
    "pyproject": 3,
    "secrets": 4,
}


def _precedence(read: _Read) -> int:
    return _ORDER[read.origin]


def _keys(name: str, info: FieldInfo | None) -> tuple[str, ...]:
    """The names a field is given as, in a source's output: its name and its aliases."""
    names = [name]
    alias = info.validation_alias if info is not None else None
    if isinstance(alias, AliasChoices):
        names += [choice for choice in alias.choices if isinstance(choice, str)]
    elif isinstance(alias, str):
        names.append(alias)
    return tuple(names)


def _attribute(
    path: tuple[str, ...], keys: tuple[str, ...], value: Any, reads: list[_Read]
) -> SettingSource:
    name = ".".join(path)
    for read in reads:
        found = _lookup(read.data, path[:-1], keys)
        if found is None:
            continue
        return SettingSource(name, value, read.origin, read.path, _where(read, path, found))
    return SettingSource(name, value, "default")


def _lookup(data: Mapping[str, Any], parents: tuple[str, ...], keys: tuple[str, ...]) -> str | None:
    """The key under which ``data`` holds the setting, if it holds it."""
    for parent in parents:
        nested = _get(data, (parent,))
        if not isinstance(nested, Mapping):
            return None
        data = nested
    wanted = {key.lower() for key in keys}
    return next((key for key in data if key.lower() in wanted), None)


def _get(data: Mapping[str, Any], keys: Iterable[str]) -> Any:
    wanted = {key.lower() for key in keys}
    return next((value for key, value in data.items() if key.lower() in wanted), None)


def _where(read: _Read, path: tuple[str, ...], found: str) -> str | None:
    """The variable or ``[tool.batteries]`` key that set the value."""
    if read.origin in ("argument", "secrets"):
        return None if read.origin == "argument" else found
    if read.origin == "pyproject":
        table = ".".join(["tool", "batteries", *path[:-1]])
        return f"[{table}] {found}" if path[:-1] else found
    names = _variable_names(read.source, path)
    present = getattr(read.source, "env_vars", {})
    return next((n for n in names if n.lower() in present), names[0])


def _variable_names(source: PydanticBaseSettingsSource, path: tuple[str, ...]) -> list[str]:
    prefix = str(source.config.get("env_prefix") or "")
    delimiter = str(source.config.get("env_nested_delimiter") or "__")
    info = source.settings_cls.model_fields.get(path[0])
    names = [key for key in _keys(path[0], info)[1:] if key != path[0]]  # aliases, as written
    full = (prefix + delimiter.join(path)).upper()
    return [*names, full] if len(path) == 1 else [full, (prefix + path[0]).upper()]


# ---------------------------------------------------------------- unknown keys


def _warn_unknown(read: _Read, settings_cls: type[BaseSettings], data: Mapping[str, Any]) -> None:
    """Warn about each key of a file that no setting reads, naming the closest known one."""
    if read.origin == "pyproject":
        unknown = list(_unknown_toml(data, settings_cls.model_fields))
        where = f"{_TABLE} of {read.path}"
    else:
        unknown = list(_unknown_variables(read.source, settings_cls.model_fields))
        where = str(read.path)
    for key, candidates in unknown:
        by_lower = {candidate.lower(): candidate for candidate in candidates}
        close = difflib.get_close_matches(key.lower(), list(by_lower), n=1)
        suggestion = by_lower[close[0]] if close else None
        hint = f": did you mean {suggestion!r}?" if suggestion else ""
        msg = f"Unknown setting {key!r} in {where} is ignored{hint}"
        warning = UnknownSettingWarning(msg, key=key, path=str(read.path), suggestion=suggestion)
        warnings.warn(warning, stacklevel=2)


def _nested_fields(info: FieldInfo | None) -> tuple[str, ...]:
    """The options of each entry of a mapping of models (``databases``), else nothing."""
    annotation = info.annotation if info is not None else None
    for argument in getattr(annotation, "__args__", ()):
        model_fields = getattr(argument, "model_fields", None)
        if model_fields:
            return tuple(model_fields)
    return ()


def _unknown_toml(
    data: Mapping[str, Any], fields: Mapping[str, FieldInfo]
) -> Iterator[tuple[str, list[str]]]:
    known = {key.lower(): info for name, info in fields.items() for key in _keys(name, info)}
    for key, value in data.items():
        info = known.get(key.lower())
        if info is None:
            yield key, list(fields)
            continue
        nested = _nested_fields(info)
        if not nested or not isinstance(value, Mapping):
            continue
        for entry, options in value.items():
            for option in options if isinstance(options, Mapping) else ():
                if option not in nested:
                    yield f"{key}.{entry}.{option}", [f"{key}.{entry}.{o}" for o in nested]


def _unknown_variables(
    source: PydanticBaseSettingsSource, fields: Mapping[str, FieldInfo]
) -> Iterator[tuple[str, list[str]]]:
    """Variables of a ``.env`` that carry the settings' prefix but name no setting.

    Variables without the prefix belong to the application or to other tools: not ours to judge.
    """
    prefix = str(source.config.get("env_prefix") or "").lower()
    delimiter = str(source.config.get("env_nested_delimiter") or "__").lower()
    if not prefix or not isinstance(source, EnvSettingsSource):
        return
    known: dict[str, tuple[str, ...]] = {}
    for name, info in fields.items():
        for key in _keys(name, info):
            known[prefix + name if key == name else key.lower()] = _nested_fields(info)
    for variable in source.env_vars:
        name = variable.lower()
        if not name.startswith(prefix) or name in known:
            continue
        head, nested_part, rest = name.partition(delimiter)
        nested = known.get(head)
        if nested_part and nested:
            entry, _, option = rest.partition(delimiter)
            if option in nested:
                continue
            yield name.upper(), [delimiter.join([head, entry, o]).upper() for o in nested]
        else:
            yield name.upper(), [variable.upper() for variable in known]


# ---------------------------------------------------------------- relative paths


def _resolve_relative(data: dict[str, Any], folder: Path) -> dict[str, Any]:
    """Make the relative paths a file sets relative to that file's folder, not the working one.

    ``sqlite:///app.db`` in the project root's ``.env`` names the root's ``app.db`` even when
    the command runs in a subfolder; read relative to the working folder, it would open (or
    create) another, empty database. Paths set in the environment keep SQLAlchemy's meaning.
    """
    if folder == Path.cwd().absolute():
        return data
    resolved: dict[str, Any] = {}
    for key, value in data.items():
        name = key.lower().removeprefix("batteries_")
        if isinstance(value, str) and name in _URL_FIELDS:
            resolved[key] = _absolute_sqlite(value, folder)
        elif isinstance(value, str) and name in _PATH_FIELDS and not Path(value).is_absolute():
            resolved[key] = str(folder / value)
        elif isinstance(value, dict):
            resolved[key] = _resolve_relative(value, folder)
        else:
            resolved[key] = value
    return resolved


def _absolute_sqlite(url: str, folder: Path) -> str:
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return url  # reported, without the URL, when a Database is built from it
    database = parsed.database or ""
    if (
        not parsed.drivername.startswith("sqlite")
        or database in ("", ":memory:")
        or database.startswith("file:")
        or Path(database).is_absolute()
    ):
        return url
    return parsed.set(database=str(folder / database)).render_as_string(hide_password=False)
