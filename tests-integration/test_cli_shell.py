"""``fastapi-batteries shell``: the demo's models, a session and top-level await, both shells."""

from __future__ import annotations

import sys

import pytest
from typer.testing import CliRunner

from batteries_cli._app import app
from demo_project import DemoProject

QUERY = "rows = (await session.exec(select(Hero).order_by(Hero.name))).all()"


def test_shell_c_queries_through_a_preloaded_model(demo: DemoProject) -> None:
    demo.ready()
    code = f"{QUERY}\nprint([hero.name for hero in rows])\nprint(await HeroCRUD(session).count())"

    done = demo.run("shell", "-c", code)

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "['Black Lion', 'Deadpond', 'Rusty-Man', 'Spider-Boy']",
        "4",
    ]


def test_shell_c_error_prints_a_traceback_and_exits_1(demo: DemoProject) -> None:
    done = demo.run("shell", "-c", "print('before')\n1 / 0")
    assert done.returncode == 1
    assert done.stdout == "before\n"
    assert done.stderr.rstrip().endswith("ZeroDivisionError: division by zero")
    assert 'File "<shell -c>", line 2' in done.stderr


@pytest.mark.parametrize("interface", ["ipython", "python"])
def test_await_works_in_the_interactive_shell(demo: DemoProject, interface: str) -> None:
    demo.ready()
    typed = f"{QUERY}\nprint(len(rows), 'heroes')\nawait session.commit()\n"

    done = demo.run("shell", "--interface", interface, input=typed)

    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "4 heroes" in done.stdout
    assert "top-level await works" in output
    assert "from demo_app.models: Team, Hero, Power" in output
    assert "from demo_app.main: app, HeroCRUD" in output
    assert "Traceback" not in output


def test_without_ipython_the_standard_console_awaits(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.setitem(sys.modules, "IPython", None)  # as if it were not installed
    monkeypatch.chdir(str(tmp_path))
    typed = "import asyncio\nvalue = await asyncio.sleep(0, result=41)\nprint(value + 1)\n"

    result = CliRunner().invoke(app, ["shell", "--no-imports"], input=typed)

    assert result.exit_code == 0, result.output
    assert "42" in result.stdout
    refused = CliRunner().invoke(app, ["shell", "--interface", "ipython", "--no-imports"])
    assert refused.exit_code == 1
    assert "IPython is not installed" in refused.stderr


def test_no_imports_starts_empty(demo: DemoProject) -> None:
    done = demo.run("shell", "--no-imports", "-c", "print(sorted(n for n in dir() if n[0] != '_'))")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
