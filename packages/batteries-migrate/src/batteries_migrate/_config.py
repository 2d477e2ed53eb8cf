"""Build Alembic's ``Config`` in memory for one named database; honour an existing alembic.ini."""

from __future__ import annotations

import configparser
import shutil
import sysconfig
from pathlib import Path
from typing import Any, TextIO

from alembic.config import Config

from batteries_migrate._project import MigrationTarget
from batteries_migrate.environment import METADATA_ATTRIBUTE, TARGET_ATTRIBUTE

__all__ = ["build_config"]

INI_FILE = "alembic.ini"
# Date first, so a plain `ls versions/` lists revisions in the order they were written.
FILE_TEMPLATE = "%%(year)d_%%(month).2d_%%(day).2d_%%(hour).2d%%(minute).2d-%%(rev)s_%%(slug)s"


def build_config(
    target: MigrationTarget,
    *,
    output: TextIO | None = None,
    metadata: Any = None,
    attributes: dict[str, Any] | None = None,
) -> Config:
    """Return the Alembic ``Config`` for ``target``.

    The URL and the target travel in ``Config.attributes``, never as an ini option: configparser
    would choke on the ``%`` of a URL-encoded password, and the password would sit in the config.

    Args:
        target: The database and its migrations folder.
        output: Where ``--sql`` output goes (Alembic's ``output_buffer``).
        metadata: The models' ``MetaData`` when the command compares with the models; ``None``
            otherwise, so that upgrading never needs the models importable.
        attributes: More entries for ``Config.attributes``.
    """
    ini = _ini_file(target)
    if ini is not None:
        config = Config(file_=str(ini), ini_section=_ini_section(ini, target), output_buffer=output)
    else:
        config = Config(output_buffer=output)

    def default(name: str, value: str) -> None:
        if config.get_main_option(name) is None:
            config.set_main_option(name, value)

    default("script_location", _escape(str(target.directory.resolve())))
    default("path_separator", "os")
    default("prepend_sys_path", ".")
    default("file_template", FILE_TEMPLATE)
    default("batteries_database", target.database)
    if not config.file_config.has_section("post_write_hooks"):
        _add_ruff_hook(config)
    config.attributes[TARGET_ATTRIBUTE] = target
    config.attributes[METADATA_ATTRIBUTE] = metadata
    config.attributes.update(attributes or {})
    return config


def _ini_file(target: MigrationTarget) -> Path | None:
    ini = Path(INI_FILE)
    if not ini.is_file():
        return None
    if target.database == "default" or _has_section(ini, target.database):
        return ini.resolve()
    return None


def _ini_section(ini: Path, target: MigrationTarget) -> str:
    # `alembic --name analytics` reads [analytics]: a multi-database ini keeps working.
    if target.database != "default" and _has_section(ini, target.database):
        return target.database
    return "alembic"


def _has_section(ini: Path, name: str) -> bool:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(ini, encoding="utf-8")
    return parser.has_section(name)


def _add_ruff_hook(config: Config) -> None:
    # The environment's own scripts folder first: `.venv/bin/python -m ...` has no PATH entry.
    ruff = shutil.which("ruff", path=sysconfig.get_path("scripts")) or shutil.which("ruff")
    if ruff is None:
        return
    executable = _escape(ruff)
    hooks = {
        # Alembic appends its imports after the template's: sort them, then format.
        "ruff_imports": "check --fix --quiet --select I REVISION_SCRIPT_FILENAME",
        "ruff_format": "format --quiet REVISION_SCRIPT_FILENAME",
    }
    config.set_section_option("post_write_hooks", "hooks", ", ".join(hooks))
    for name, options in hooks.items():
        config.set_section_option("post_write_hooks", f"{name}.type", "exec")
        config.set_section_option("post_write_hooks", f"{name}.executable", executable)
        config.set_section_option("post_write_hooks", f"{name}.options", options)


def _escape(value: str) -> str:
    return value.replace("%", "%%")
