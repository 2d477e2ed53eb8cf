"""The demo project copied into a test's folder, and its commands run as a user runs them."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

DEMO = Path(__file__).resolve().parent.parent / "demo"
BIN = Path(sys.executable).parent
# What the tests' own environment may hold that would change what a command reads.
FOREIGN = ("BATTERIES_", "DATABASE_URL", "PYTHONDONTWRITEBYTECODE", "IPYTHONDIR")


@dataclass
class DemoProject:
    """A copy of ``demo/`` whose default database is ``url``."""

    root: Path
    url: str
    pycache: Path

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a user's shell in the project: its URL, nothing from the tests."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(FOREIGN)}
        env |= {
            "DATABASE_URL": self.url,
            # A shared bytecode cache: without one every subprocess recompiles every import.
            "PYTHONPYCACHEPREFIX": str(self.pycache),
            "IPYTHONDIR": str(self.root / ".ipython"),
        }
        return env | extra

    def run(
        self, *args: str, input: str | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """``fastapi-batteries ARGS`` in the project folder, to completion."""
        return subprocess.run(
            [str(BIN / "fastapi-batteries"), *args],
            cwd=self.root,
            env=env if env is not None else self.env(),
            input=input,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )

    def ready(self) -> DemoProject:
        """Migrate the database to head and load the demo fixtures."""
        for args in (("db", "upgrade"), ("fixtures", "load", "fixtures/heroes.json")):
            done = self.run(*args)
            assert done.returncode == 0, done.stdout + done.stderr
        return self


def copy_demo(folder: Path) -> Path:
    """A fresh copy of the demo project in ``folder``/demo."""
    copy = folder / "demo"
    shutil.copytree(DEMO, copy, ignore=shutil.ignore_patterns(".work", "__pycache__"))
    return copy


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 90.0) -> None:
    """Poll ``condition`` until it holds; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:g} s waiting for {what}")
        time.sleep(0.1)
