"""Build every distribution, then install each wheel alone into a clean venv and use it.

The workspace venv holds every package, so an undeclared dependency between siblings would go
unnoticed there. Here each package gets a fresh venv with only its own wheel, the wheels of the
siblings it declares, and their declared dependencies; then a script imports it, checks that no
undeclared sibling came along, and (for batteries-models) creates a table and reads it back.

Then each docs page's examples run in a fresh venv holding exactly what the page says to
install (its ``pip install`` lines, with our distributions taken from the wheels just built):
the getting-started page's ``fastapi-batteries[all]`` and its example first.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import textwrap
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UV = os.environ.get("UV") or shutil.which("uv") or str(ROOT / ".tools" / "bin" / "uv")
SIBLINGS = [
    "batteries_models",
    "batteries_crud",
    "batteries_migrate",
    "batteries_fixtures",
    "batteries_cli",
    "batteries_pytest",
]

USE_MODELS = textwrap.dedent(
    """
    import asyncio, sys, tempfile
    from sqlmodel import select
    from batteries_models import BaseModel, Database, TimestampMixin, UUIDMixin

    class Hero(BaseModel, UUIDMixin, TimestampMixin, table=True):
        name: str

    async def main() -> None:
        db = Database(f"sqlite:///{tempfile.mkdtemp()}/smoke.db")
        await db.create_all()
        async with db.session() as session:
            session.add(Hero(name="Deadpond"))
        async with db.session() as session:
            assert (await session.exec(select(Hero.name))).all() == ["Deadpond"]
        await db.dispose()

    asyncio.run(main())
    """
)


# batteries-fixtures alone (no crud, no CLI package): its own command dumps a reflected database.
DUMP_REFLECTED = textwrap.dedent(
    """
    import json, sqlite3, subprocess, sys, tempfile
    from pathlib import Path
    path = Path(tempfile.mkdtemp()) / "plain.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE pet (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
        conn.execute("INSERT INTO pet VALUES (1, 'Rex')")
    command = Path(sys.executable).parent / "batteries-fixtures"
    out = subprocess.run([str(command), "dump", "--database-url", f"sqlite:///{path}", "-q"],
                         check=True, capture_output=True, text=True).stdout
    assert json.loads(out) == [{"table": "pet", "pk": 1, "fields": {"name": "Rex"}}], out
    # No asyncpg here, and no meta-package: the hint must be one this installation can follow.
    missing = subprocess.run([str(command), "dump", "--database-url", "postgresql://u@h/d"],
                             capture_output=True, text=True)
    assert missing.returncode == 1, missing.stderr
    assert "pip install 'batteries-models[postgres]'" in missing.stderr, missing.stderr
    """
)


# batteries-models with FastAPI but without batteries-migrate/-fixtures: the start-up tasks of
# batteries_lifespan are missing, and say which package to install, when the app is created.
LIFESPAN_WITHOUT_TASKS = textwrap.dedent(
    """
    from batteries_models import MissingPackageError
    from batteries_models.fastapi import batteries_lifespan
    asked = [({"migrate": True}, "batteries-migrate"), ({"seed": ["x.json"]}, "batteries-fixtures")]
    for option, package in asked:
        try:
            batteries_lifespan(**option)
        except MissingPackageError as exc:
            assert f"pip install {package}" in str(exc), exc
        else:
            raise AssertionError(f"{option} did not fail without {package}")
    """
)

# batteries-cli without its dev extra: `dev` says what to install, `--help` works.
CLI_WITHOUT_DEV_EXTRA = textwrap.dedent(
    """
    import subprocess, sys
    from pathlib import Path
    command = str(Path(sys.executable).parent / "fastapi-batteries")
    done = subprocess.run([command, "dev"], capture_output=True, text=True)
    assert done.returncode == 1 and "pip install 'fastapi-batteries[dev]'" in done.stderr, done
    assert subprocess.run([command, "--help"], capture_output=True).returncode == 0
    """
)


# batteries-pytest alone (with a SQLite driver): a project's tests get a test database, fixture
# files and a rollback per test from the plugin's entry point, with no conftest.py.
PYTEST_PROJECT = {
    "pyproject.toml": """
        [tool.pytest.ini_options]
        asyncio_mode = "auto"
        asyncio_default_fixture_loop_scope = "function"
        pythonpath = ["."]
        [tool.batteries]
        models = "models"
        """,
    "models.py": """
        from batteries_models import BaseModel, IntIDMixin
        class Pet(BaseModel, IntIDMixin, table=True):
            name: str
        """,
    "pets.json": '[{"table": "pet", "pk": 1, "fields": {"name": "Rex"}}]',
    "test_pets.py": """
        import pytest
        from sqlmodel import select
        from models import Pet
        @pytest.mark.fixtures("pets.json")
        async def test_loaded(db_session):
            db_session.add(Pet(name="Tom"))
            await db_session.commit()
            names = (await db_session.exec(select(Pet.name).order_by(Pet.id))).all()
            assert names == ["Rex", "Tom"]
        async def test_rolled_back(db_session):
            assert (await db_session.exec(select(Pet))).all() == []
        """,
}
USE_PYTEST = textwrap.dedent(
    f"""
    import os, subprocess, sys, tempfile, textwrap
    from pathlib import Path
    project = Path(tempfile.mkdtemp())
    for name, text in {PYTEST_PROJECT!r}.items():
        (project / name).write_text(textwrap.dedent(text))
    environment = {{**os.environ, "DATABASE_URL": f"sqlite:///{{project / 'app.db'}}"}}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                          cwd=project, env=environment, capture_output=True, text=True)
    assert done.returncode == 0 and "2 passed" in done.stdout, done.stdout + done.stderr
    assert not list(project.rglob("*_test.db")), "the test database outlived the run"
    """
)

DOCS = ROOT / "docs"
# Pages whose examples run on their own (SQLite, no server, no project folder), in this order.
# migrations.md's need a project and PostgreSQL: tests-integration/test_migrate_docs.py runs them.
DOCS_PAGES = ("getting-started.md", "models.md", "crud.md", "fixtures.md", "fixture-formats.md")
OUR_DISTS = {path.name for path in (ROOT / "packages").iterdir() if path.is_dir()}


def run(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, check=True, text=True, capture_output=True, **kwargs)  # type: ignore[call-overload, no-any-return]


def declared_siblings(dist: str) -> set[str]:
    project = tomllib.loads((ROOT / "packages" / dist / "pyproject.toml").read_text())["project"]
    names = {
        r.split(">")[0].split("[")[0].split("=")[0].strip() for r in project.get("dependencies", [])
    }
    return {n.replace("-", "_") for n in names if n.startswith("batteries-")}


def install_alone(tmp: str, wheel_dir: Path, *requirements: str) -> Path:
    """A fresh venv in ``tmp`` holding ``requirements`` and what they declare; its bin folder."""
    venv = Path(tmp) / "venv"
    run(UV, "venv", "--quiet", "--python", sys.executable, str(venv))
    python = str(venv / "bin" / "python")
    run(
        UV,
        "pip",
        "install",
        "--quiet",
        "--python",
        python,
        "--find-links",
        str(wheel_dir),
        *requirements,
    )
    return venv / "bin"


def check(dist: str, wheel_dir: Path, extra: str, script: str, *also: str) -> None:
    import_name = dist.replace("-", "_")
    wheel = next(wheel_dir.glob(f"{import_name}-*.whl"))
    with tempfile.TemporaryDirectory() as tmp:
        bin_dir = install_alone(tmp, wheel_dir, f"{wheel}{extra}", *also)
        allowed = declared_siblings(dist) | {import_name}
        forbidden = [s for s in SIBLINGS if s not in allowed]
        probe = textwrap.dedent(
            f"""
            import importlib.util, {import_name}
            assert {import_name}.__version__
            stray = [m for m in {forbidden!r} if importlib.util.find_spec(m) is not None]
            assert not stray, f"undeclared siblings installed: {{stray}}"
            """
        )
        run(str(bin_dir / "python"), "-c", probe + script, cwd=tmp)
    print(f"{dist}: installs alone{extra} and works")


def check_meta_package(wheel_dir: Path) -> None:
    wheel = next(wheel_dir.glob("fastapi_batteries-*.whl"))
    with tempfile.TemporaryDirectory() as tmp:
        bin_dir = install_alone(tmp, wheel_dir, f"{wheel}[all]")
        imports = "".join(f"import {name}\n" for name in SIBLINGS)
        run(str(bin_dir / "python"), "-c", imports + USE_MODELS, cwd=tmp)
        versions = run(str(bin_dir / "fastapi-batteries"), "version").stdout
        assert "batteries-fixtures 0." in versions, versions
    print("fastapi-batteries[all]: installs every package and the command works")


def page_requirements(page: Path) -> list[str]:
    """Every requirement of the page's ``pip install`` lines, comments aside."""
    found: list[str] = []
    for block in re.findall(r"```console\n(.*?)```", page.read_text(), flags=re.DOTALL):
        for line in block.splitlines():
            if line.startswith("pip install "):
                found += shlex.split(line.split("#", 1)[0])[2:]
    return found


def from_wheels(requirement: str, wheel_dir: Path) -> str:
    """``batteries-models[sqlite]`` as the wheel just built: PyPI may hold other projects'
    distributions of the same name (it holds a ``fastapi-batteries``)."""
    name, bracket, extras = requirement.partition("[")
    if name not in OUR_DISTS:
        return requirement
    wheel = next(wheel_dir.glob(f"{name.replace('-', '_')}-*.whl"))
    return f"{wheel}{bracket}{extras}"


def check_docs_page(name: str, wheel_dir: Path) -> None:
    page = DOCS / name
    requirements = page_requirements(page)
    examples = re.findall(r'--8<-- "docs/examples/(\w+\.py)"', page.read_text())
    assert requirements, f"{name} says nothing to install"
    assert examples, f"{name} includes no example"
    with tempfile.TemporaryDirectory() as tmp:
        bin_dir = install_alone(tmp, wheel_dir, *(from_wheels(r, wheel_dir) for r in requirements))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BATTERIES_", "DATABASE"))}
        env["DATABASE_URL"] = f"sqlite+aiosqlite:///{Path(tmp) / 'docs.db'}"
        for example in examples:
            run(str(bin_dir / "python"), str(DOCS / "examples" / example), cwd=tmp, env=env)
    print(f"{name}: {', '.join(examples)} run with only `pip install {' '.join(requirements)}`")


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        wheel_dir = Path(tmp)
        run(
            UV,
            "build",
            "--all-packages",
            "--wheel",
            "--quiet",
            "--out-dir",
            str(wheel_dir),
            cwd=ROOT,
        )
        wheels = sorted(p.name for p in wheel_dir.glob("*.whl"))
        if len(wheels) != 7:
            print(f"expected 7 wheels, built {wheels}", file=sys.stderr)
            return 1
        try:
            check("batteries-models", wheel_dir, "[sqlite]", USE_MODELS)
            check("batteries-models", wheel_dir, "[sqlite,fastapi]", LIFESPAN_WITHOUT_TASKS)
            check("batteries-fixtures", wheel_dir, "", DUMP_REFLECTED, "batteries-models[sqlite]")
            check("batteries-pytest", wheel_dir, "", USE_PYTEST, "batteries-models[sqlite]")
            for dist in ("batteries-crud", "batteries-migrate"):
                check(dist, wheel_dir, "", "")
            check("batteries-cli", wheel_dir, "", CLI_WITHOUT_DEV_EXTRA)
            check_meta_package(wheel_dir)
            for page in DOCS_PAGES:
                check_docs_page(page, wheel_dir)
        except subprocess.CalledProcessError as exc:
            print(f"{' '.join(exc.cmd)} failed:\n{exc.stdout}{exc.stderr}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
