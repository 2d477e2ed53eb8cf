"""batteries-fixtures' file reader (``read_records``) alone: records/s and peak memory.

    uv run python bench/bench_parse.py            # 200,000 records (about a minute)
    uv run python bench/bench_parse.py --quick    # 20,000 records (seconds)

The records are bench_fixtures.py's (same generator and encoding), written as JSONL, as the JSON
list a dump writes (one record per line), as an indented JSON list (``indent=2``, parsed by the
stdlib's incremental decoder) and as a JSON list on one line. Each repeat reads every file with
``read_records`` next to two references on the same record texts, already in memory (no file, no
checks): ``json.loads`` (the stdlib) and ``orjson.loads`` per record. Rates are the best of the
repeats in process CPU time (the machine is shared). Memory: a fresh process per file and size
reads the file and reports its resident set before and its peak during the read (Linux VmHWM,
reset just before), at two sizes: a flat peak means the file is streamed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import orjson

from batteries_fixtures._readers import read_records  # noqa: PLC2701  # the reader alone
from bench_fixtures import generate, records

LAYOUTS = ["JSONL", "JSON list (dump)", "JSON list, indented", "JSON list, one line"]


def documents(texts: list[str]) -> dict[str, str]:
    indented = [json.dumps(json.loads(t), indent=2, ensure_ascii=False) for t in texts]
    return {
        "JSONL": "".join(t + "\n" for t in texts),
        "JSON list (dump)": "[\n" + ",\n".join(texts) + "\n]\n",
        "JSON list, indented": "[\n" + ",\n".join(indented) + "\n]\n",
        "JSON list, one line": "[" + ",".join(texts) + "]\n",
    }


def cpu_rate(count: int, run: Callable[[], object]) -> float:
    start = time.process_time()
    run()
    return count / (time.process_time() - start)


def read_file(path: Path) -> int:
    with path.open("rb") as stream:
        return sum(1 for _ in read_records(stream, str(path)))


def _status_kib(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise LookupError(key)


def memory_child(path: str) -> None:
    """In a fresh process: resident set before, and peak while reading ``path`` (KiB)."""
    before = _status_kib("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # the peak restarts from the current set
    read_file(Path(path))
    print(json.dumps({"before": before, "peak": _status_kib("VmHWM")}))


def memory(path: Path) -> dict[str, int]:
    out = subprocess.run(
        [sys.executable, __file__, "--memory-child", str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--memory-child")
    args, _ = parser.parse_known_args()  # run.py passes every benchmark the same arguments
    if args.memory_child:
        memory_child(args.memory_child)
        return 0
    books, repeats = (12_500, 2) if args.quick else (125_000, 3)  # 1.6 records per book
    texts = records(generate(books))
    small = records(generate(books // 5))
    count = len(texts)
    print(f"{count:,} records, {sum(map(len, texts)) / count:.0f} characters each on average")
    with tempfile.TemporaryDirectory() as folder:
        paths, small_paths = {}, {}
        for label, docs, into in (("", texts, paths), ("small-", small, small_paths)):
            for i, (layout, text) in enumerate(documents(docs).items()):
                path = Path(folder) / f"{label}{i}.json"
                path.write_text(text, encoding="utf-8")
                into[layout] = path
        best: dict[str, float] = dict.fromkeys([*LAYOUTS, "json.loads", "orjson.loads"], 0.0)
        for _ in range(repeats):
            for layout in LAYOUTS:
                rate = cpu_rate(count, lambda p=paths[layout]: read_file(p))
                best[layout] = max(best[layout], rate)
            best["json.loads"] = max(
                best["json.loads"], cpu_rate(count, lambda: [*map(json.loads, texts)])
            )
            best["orjson.loads"] = max(
                best["orjson.loads"], cpu_rate(count, lambda: [*map(orjson.loads, texts)])
            )
        print("\n| reading | records/s | vs json.loads per record |\n|---|---|---|")
        for name, rate in best.items():
            print(f"| {name} | {rate:,.0f} | {rate / best['json.loads']:.2f}x |")
        print(
            f"\n| file | size MB | RSS before MB | peak MB ({len(small):,} records) "
            f"| peak MB ({count:,} records) |\n|---|---|---|---|---|"
        )
        for layout in LAYOUTS:
            size = paths[layout].stat().st_size / 1e6
            low, high = memory(small_paths[layout]), memory(paths[layout])
            print(
                f"| {layout} | {size:.0f} | {high['before'] / 1024:.0f} | "
                f"{low['peak'] / 1024:.0f} | {high['peak'] / 1024:.0f} |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
