import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from batteries_models import APP_FILES, AppDiscoveryError, BatteriesSettings, discover_app

APP = """
from fastapi import FastAPI
{name} = FastAPI(title={title!r})
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty project folder as the working folder; its modules are forgotten afterwards."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BATTERIES_APP", raising=False)
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        module = sys.modules[name]
        if str(getattr(module, "__file__", "") or "").startswith(str(tmp_path)):
            del sys.modules[name]


def write(root: Path, relative: str, source: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source), encoding="utf-8")


def no_settings() -> BatteriesSettings:
    return BatteriesSettings(app=None)


def test_main_py_is_found_and_named_as_uvicorn_imports_it(project: Path) -> None:
    write(project, "main.py", APP.format(name="app", title="main"))
    found = discover_app(settings=no_settings())
    assert (found.import_string, found.source, found.root) == ("main:app", "main.py", project)
    assert found.load().title == "main"


def test_a_file_inside_a_package_is_imported_as_part_of_it(project: Path) -> None:
    write(project, "app/__init__.py", "")
    write(project, "app/main.py", APP.format(name="api", title="in a package"))
    found = discover_app(settings=no_settings())
    assert found.import_string == "app.main:api"
    assert found.root == project
    assert found.load().title == "in a package"


def test_the_setting_wins_over_the_usual_files(project: Path) -> None:
    write(project, "main.py", APP.format(name="app", title="main"))
    write(project, "service.py", APP.format(name="server", title="configured"))
    found = discover_app(settings=BatteriesSettings(app="service:server"))
    assert (found.import_string, found.source) == ("service:server", "settings")
    assert found.load().title == "configured"


def test_an_argument_may_be_a_module_or_a_file(project: Path) -> None:
    write(project, "service.py", APP.format(name="whatever", title="by module"))
    assert discover_app("service").import_string == "service:whatever"
    write(project, "web/server.py", APP.format(name="app", title="by file"))
    found = discover_app("web/server.py")
    assert (found.import_string, found.root) == ("server:app", project / "web")


def test_nothing_found_lists_every_place_it_looked(project: Path) -> None:
    write(project, "main.py", "value = 1\n")
    with pytest.raises(AppDiscoveryError) as caught:
        discover_app(settings=no_settings())
    message = str(caught.value)
    assert "[tool.batteries] app" in message
    assert "main.py: no FastAPI app in it" in message
    assert "app/api.py: no such file" in message
    assert "pass --app module:attribute" in message
    assert len(caught.value.looked) == 1 + len(APP_FILES)
    assert "\n" not in message


def test_a_factory_needs_the_flag_and_must_return_an_app(project: Path) -> None:
    write(
        project,
        "factory.py",
        """
        from fastapi import FastAPI
        def create_app():
            return FastAPI(title="built")
        def broken():
            return 42
        """,
    )
    with pytest.raises(AppDiscoveryError, match=r"is a function, not an app: .*--factory"):
        discover_app("factory:create_app")
    assert discover_app("factory:create_app", factory=True).load().title == "built"
    with pytest.raises(AppDiscoveryError, match="returned int, not a FastAPI app"):
        discover_app("factory:broken", factory=True).load()


def test_a_broken_module_and_a_missing_attribute_are_one_line_each(project: Path) -> None:
    write(project, "broken.py", "import not_a_module_anywhere\n")
    with pytest.raises(AppDiscoveryError, match=r"Cannot import app module 'broken'.*not_a_module"):
        discover_app("broken:app")
    write(project, "empty.py", "")
    with pytest.raises(AppDiscoveryError, match="Module 'empty' has no attribute 'app'"):
        discover_app("empty:app")


def test_from_a_subfolder_the_app_imports_from_the_project_root(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(project, "pyproject.toml", '[tool.batteries]\napp = "webapp.main:app"\n')
    write(project, "webapp/__init__.py", "")
    write(project, "webapp/main.py", APP.format(name="app", title="from the root"))
    (project / "docs").mkdir()
    monkeypatch.chdir(project / "docs")

    found = discover_app(settings=BatteriesSettings())

    assert (found.import_string, found.root) == ("webapp.main:app", project)
    assert found.load().title == "from the root"
