"""Start-up time of ``fastapi-batteries --help`` against a bare Typer app and ``alembic --help``.

    uv run python bench/bench_cli_startup.py            # 21 runs of each command
    uv run python bench/bench_cli_startup.py --quick    # 10 runs of each

Each command is a fresh interpreter, as a user's shell starts it, run from an empty folder (no
project to find). The runs are interleaved (one of each command per round), after two warm-up
rounds, and the table gives each command's median wall-clock time and its ratio to the bare
one-command Typer app's median. Every command gets a warm bytecode cache: this machine may set
PYTHONDONTWRITEBYTECODE=1, which is removed for the benchmark, or every start would recompile
every module (3-5x slower) and measure the compiler instead of the program. Target: within
1.3x of the bare Typer app.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
TARGET = 1.3
BARE_TYPER = '''
import typer

app = typer.Typer()


@app.command()
def hello(name: str = "world") -> None:
    """Say hello."""
    typer.echo(f"Hello {name}")


app()
'''


def commands(folder: Path) -> dict[str, list[str]]:
    bare = folder / "bare_typer.py"
    bare.write_text(BARE_TYPER, encoding="utf-8")
    cli = str(BIN / "fastapi-batteries")
    return {
        "bare Typer app --help": [sys.executable, str(bare), "--help"],
        "fastapi-batteries --help": [cli, "--help"],
        "fastapi-batteries db --help": [cli, "db", "--help"],
        "fastapi-batteries fixtures --help": [cli, "fixtures", "--help"],
        "alembic --help": [str(BIN / "alembic"), "--help"],
    }


def timed(command: list[str], folder: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=folder, env=env, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main(runs: int) -> int:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        table = commands(folder)
        times: dict[str, list[float]] = {label: [] for label in table}
        for round_ in range(runs + 2):
            for label, command in table.items():
                seconds = timed(command, folder, env)
                if round_ >= 2:  # the first two rounds write and warm the bytecode caches
                    times[label].append(seconds)
    medians = {label: statistics.median(values) for label, values in times.items()}
    bare = medians["bare Typer app --help"]
    print(
        f"\nMedian of {runs} runs each, interleaved, warm bytecode cache; "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs\n"
    )
    print("| command | median ms | ratio to bare Typer | target | met |")
    print("|---|---|---|---|---|")
    missed = 0
    for label, median in medians.items():
        ratio = median / bare
        ours = label.startswith("fastapi-batteries")
        met = "yes" if ratio <= TARGET else "**no**"
        missed += ours and ratio > TARGET
        target = f"{TARGET}x" if ours else ""
        shown = met if ours else ""
        print(f"| {label} | {median * 1000:.0f} | {ratio:.2f}x | {target} | {shown} |")
    return 1 if missed else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 runs of each, for a smoke run")
    arguments = parser.parse_args()
    raise SystemExit(main(10 if arguments.quick else 21))
