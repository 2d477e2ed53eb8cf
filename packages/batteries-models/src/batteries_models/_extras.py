"""Which ``pip install`` to suggest for a missing optional dependency: one that fits the user."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, metadata

__all__ = ["extra_requirement"]

_META_PACKAGE = "fastapi-batteries"


def extra_requirement(package: str, extra: str) -> str:
    """The requirement that installs ``extra`` for this installation: ``package[extra]``.

    A project that installed the meta-package (``pip install fastapi-batteries``) is told
    ``fastapi-batteries[extra]`` when the meta-package forwards that extra; a project that
    installed only ``batteries-fixtures`` (say) is told ``package[extra]``, which it can install:
    the meta-package's extra would pull in every other package as well.

    Args:
        package: The distribution that owns the extra (``batteries-models`` for the drivers).
        extra: The extra (``postgres``, ``sqlite``, ``fastapi``, ``zstd``).

    Returns:
        A requirement such as ``batteries-models[postgres]``, for ``pip install '...'``.
    """
    try:
        provided = metadata(_META_PACKAGE).get_all("Provides-Extra") or []
    except PackageNotFoundError:
        provided = []
    return f"{_META_PACKAGE}[{extra}]" if extra in provided else f"{package}[{extra}]"
