"""Run every benchmark under bench/ (each bench_*.py), passing the command-line arguments on.

Each benchmark measures its references in the same run and reports ratios of medians; see
bench/RESULTS.md for the last recorded figures.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if not scripts:
        print("no benchmarks found under bench/", file=sys.stderr)
        return 1
    failed = 0
    for script in scripts:
        print(f"== {script.name}", flush=True)
        failed += subprocess.call([sys.executable, str(script), *sys.argv[1:]]) != 0
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
