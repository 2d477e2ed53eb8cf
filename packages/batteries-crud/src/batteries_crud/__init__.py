"""batteries-crud: not released yet; see the package README for what will live here."""

from importlib.metadata import version as _version

__version__ = _version("batteries-crud")

__all__ = ["__version__"]
