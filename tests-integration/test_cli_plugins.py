"""Plugins: packages add commands through the ``fastapi_batteries.commands`` entry points.

``batteries-example-plugin`` (in ``plugins/``) is a real package installed into the test
environment. The broken ones are real distributions too: a ``.dist-info`` folder on the path of
a subprocess, as an installer would leave it.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from typer.testing import CliRunner

from batteries_cli._app import app
from demo_project import BIN


def test_the_installed_plugin_adds_a_group_and_a_command() -> None:
    runner = CliRunner()
    greeted = runner.invoke(app, ["example", "greet", "Ann"])
    assert greeted.exit_code == 0, greeted.output
    assert greeted.stdout == "Hello, Ann, from the example plugin\n"
    assert runner.invoke(app, ["example-ping"]).stdout == "pong\n"
    assert runner.invoke(app, ["example", "shout", "a", "b"]).stdout == "A B\n"

    listed = runner.invoke(app, ["--help"])
    assert "Plugins" in listed.stdout
    assert "example-ping" in listed.stdout
    assert "Example plugin commands." in listed.stdout


def install(site: Path, distribution: str, entry_points: str, module: str, source: str) -> None:
    """Leave ``distribution`` in ``site`` as an installer would: its module and its .dist-info."""
    info = site / f"{distribution}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 0.1\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(
        f"[fastapi_batteries.commands]\n{entry_points}\n", encoding="utf-8"
    )
    (site / f"{module}.py").write_text(source, encoding="utf-8")


def run(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(site)}
    return subprocess.run(
        [str(BIN / "fastapi-batteries"), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_broken_plugin_warns_once_and_everything_else_works(tmp_path: Path) -> None:
    install(
        tmp_path,
        "broken-plugin",
        "broken = broken_plugin:app",
        "broken_plugin",
        "import a_module_that_is_not_installed\n",
    )
    install(
        tmp_path,
        "clashing-plugin",
        "db = clashing_plugin:app",
        "clashing_plugin",
        "import typer\napp = typer.Typer()\n",
    )

    listed = run(tmp_path, "--help")
    assert listed.returncode == 0, listed.stderr
    clash, broken = listed.stderr.splitlines()  # listing meets the clash, then loads each plugin
    assert broken.startswith(
        "Warning: plugin 'broken' (broken_plugin:app from broken-plugin 0.1) failed to load: "
        "ModuleNotFoundError: No module named 'a_module_that_is_not_installed'"
    )
    assert "plugin 'db' (clashing_plugin:app from clashing-plugin 0.1) is not mounted" in clash
    assert "example-ping" in listed.stdout

    # A command that is not the broken plugin never even loads it.
    pinged = run(tmp_path, "example-ping")
    assert (pinged.returncode, pinged.stdout, pinged.stderr) == (0, "pong\n", "")
    called = run(tmp_path, "broken")
    assert called.returncode != 0
    assert "failed to load" in called.stderr
    assert "Traceback" not in called.stderr
