"""``--help`` imports nothing heavy: no SQLAlchemy, Alembic, FastAPI, uvicorn, IPython, no app."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

HEAVY = ("sqlalchemy", "sqlmodel", "alembic", "fastapi", "uvicorn", "IPython", "asyncpg", "helpapp")


@pytest.mark.parametrize("args", [["--help"], ["db", "--help"], ["fixtures", "--help"]])
def test_help_imports_nothing_heavy(args: list[str], tmp_path: Path) -> None:
    # A project whose app and models would be imported by any command that looks for them.
    (tmp_path / "helpapp.py").write_text("import fastapi\napp = fastapi.FastAPI()\n")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.batteries]\napp = "helpapp:app"\nmodels = "helpapp"\n'
    )
    code = textwrap.dedent(
        f"""
        import sys
        sys.argv = ["fastapi-batteries", *{args!r}]
        from batteries_cli import main
        try:
            main()
        except SystemExit as exit:
            assert exit.code in (0, None), exit.code
        heavy = sorted(m.split(".")[0] for m in sys.modules if m.split(".")[0] in {HEAVY!r})
        print("HEAVY", sorted(set(heavy)), file=sys.stderr)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "Usage: fastapi-batteries" in done.stdout
    assert done.stderr.strip().splitlines()[-1] == "HEAVY []"
