"""The README's quick start is a script, and it runs as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_the_quick_start_runs_as_a_script(tmp_path: Path) -> None:
    text = README.read_text(encoding="utf-8").split("## Quick start", 1)[1]
    match = re.search(r"```python\n(.*?)```", text, flags=re.DOTALL)
    assert match is not None, "the quick start has no Python block"
    script = tmp_path / "quickstart.py"
    script.write_text(match.group(1), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BATTERIES_", "DATABASE_URL"))}

    result = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout == "['Deadpond']\n"
    assert (tmp_path / "app.db").is_file()
