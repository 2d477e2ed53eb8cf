"""The shells of ``fastapi-batteries shell``: ``-c`` code, the standard console, IPython.

Every ``await`` runs on the one loop of the ``asyncio.Runner`` they are given, owned by the shell
for its whole life, so the session and the engine's connections stay usable from line to line.
IPython is started with that loop as its runner and ``autoawait`` on: ``IPython.embed()`` would
turn top-level await off.
"""

from __future__ import annotations

import ast
import asyncio
import code
import contextlib
import inspect
import sys
from collections.abc import Coroutine
from typing import Any

import typer

__all__ = ["run_command", "start_ipython", "start_python"]


def run_command(source: str, values: dict[str, Any], runner: asyncio.Runner) -> None:
    """Run ``-c`` code: its errors print a traceback, as ``python -c`` does, and exit 1."""
    try:
        compiled = compile(source, "<shell -c>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        result = eval(compiled, values)
        if inspect.iscoroutine(result):
            runner.run(result)
    except SystemExit:
        raise
    except BaseException as exc:
        import traceback

        from batteries_models import mask_url

        # The user's frames only: the first one is this function's eval().
        frames = exc.__traceback__.tb_next if exc.__traceback__ is not None else None
        sys.stderr.write(mask_url("".join(traceback.format_exception(type(exc), exc, frames))))
        raise typer.Exit(1) from None


class _AsyncConsole(code.InteractiveConsole):
    """The standard interactive console, where a line with ``await`` runs on the shell's loop."""

    def __init__(self, values: dict[str, Any], runner: asyncio.Runner) -> None:
        super().__init__(values, filename="<fastapi-batteries shell>")
        self.compile.compiler.flags |= ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
        self.values = values
        self.runner = runner

    def runcode(self, code: Any) -> None:
        """Run one statement; if it awaits, run the coroutine on the loop until it is done."""
        try:
            result = eval(code, self.values)
            if inspect.iscoroutine(result):
                self.runner.run(result)
        except SystemExit:
            raise
        except BaseException:
            self.showtraceback()


def start_python(values: dict[str, Any], banner: str, runner: asyncio.Runner) -> None:
    """The standard library's interactive console, with completion where readline exists."""
    try:
        import readline
        import rlcompleter

        readline.set_completer(rlcompleter.Completer(values).complete)
        readline.parse_and_bind("tab: complete")
    except ImportError:  # no readline (Windows): the shell works without completion
        pass
    console = _AsyncConsole(values, runner)
    with contextlib.suppress(SystemExit):  # exit() or quit(): leave, then close the session
        console.interact(banner=banner, exitmsg="")


def start_ipython(values: dict[str, Any], banner: str, runner: asyncio.Runner) -> None:
    """IPython, as ``ipython`` starts it (profile, history), awaiting on ``runner``'s loop."""
    import IPython
    from traitlets.config import Config

    config = Config()
    config.InteractiveShell.autoawait = True
    config.InteractiveShell.loop_runner = _LoopRunner(runner)
    config.TerminalInteractiveShell.banner2 = banner
    IPython.start_ipython(argv=[], user_ns=values, config=config)


class _LoopRunner:
    """IPython's ``loop_runner``: runs each cell's coroutine on the shell's one loop."""

    def __init__(self, runner: asyncio.Runner) -> None:
        self.runner = runner

    def __call__(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        return self.runner.run(coroutine)

    def __deepcopy__(self, memo: dict[int, Any]) -> _LoopRunner:
        # traitlets deep-copies configuration values; the loop must be shared, not copied.
        return self
