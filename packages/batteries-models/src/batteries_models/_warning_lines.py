"""Warnings as command lines show them: ours as one line each, once; others as Python would."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from batteries_models.exceptions import BatteriesWarning

__all__ = ["warnings_as_lines"]


@contextmanager
def warnings_as_lines(show: Callable[[str], None]) -> Iterator[None]:
    """Hand each :class:`BatteriesWarning` issued inside the block to ``show`` as one line.

    The same warning issued several times (the settings are read by several steps of one
    command) is shown once. Every other warning goes through the caller's filters as usual (a
    ``DeprecationWarning`` stays hidden, ``-W error`` raises it); those it lets through are shown
    as Python shows them. They are shown when
    the block ends, also when it raises, so that they come before the command's error line when
    the command's error handler wraps this block.

    Example::

        with warnings_as_lines(lambda line: print(line, file=sys.stderr)):
            BatteriesSettings()  # "Warning: Unknown setting 'modles' ...: did you mean 'models'?"

    Args:
        show: Prints one line (``"Warning: ..."``), e.g. in yellow on stderr.
    """
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", BatteriesWarning)
            yield
    finally:
        # Shown once catch_warnings has put showwarning back: inside it, showwarning appends to
        # the very list being read, and the loop never ends.
        seen: set[tuple[type[Warning], str]] = set()
        for warning in caught:
            key = (warning.category, str(warning.message))
            if key in seen:
                continue
            seen.add(key)
            if isinstance(warning.message, BatteriesWarning):
                show(f"Warning: {warning.message}")
            else:  # the filters already let it through
                warnings.showwarning(
                    warning.message, warning.category, warning.filename, warning.lineno
                )
