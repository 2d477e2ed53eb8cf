"""Snapshot the public API of every package, so an accidental change fails the test run.

``check`` compares each package's public names and signatures with ``packages/<dist>/api.txt``;
``update`` rewrites the snapshots after an intended change (record it in the CHANGELOG).

The public API of a package is the ``__all__`` of its ``__init__`` and of each public module (a
module whose name does not start with an underscore). For classes, every public method, property
and (for pydantic models) field is listed with its signature.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import pkgutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {
    "batteries-models": "batteries_models",
    "batteries-crud": "batteries_crud",
    "batteries-migrate": "batteries_migrate",
    "batteries-fixtures": "batteries_fixtures",
    "batteries-cli": "batteries_cli",
    "batteries-pytest": "batteries_pytest",
}


def signature_of(obj: Any) -> str:
    try:
        return str(inspect.signature(obj))
    except (TypeError, ValueError):
        return "(...)"


def describe_class(name: str, cls: type) -> list[str]:
    bases = ", ".join(b.__qualname__ for b in cls.__bases__ if b is not object)
    lines = [f"class {name}({bases})"]
    fields = getattr(cls, "model_fields", None)
    if isinstance(fields, dict):
        for field_name, info in fields.items():
            annotation = getattr(info, "annotation", None)
            shown = getattr(annotation, "__name__", None) or repr(annotation)
            lines.append(f"    field {field_name}: {shown}")
    for member_name, member in sorted(vars(cls).items()):
        if member_name.startswith("_") and member_name not in {"__init__", "__call__"}:
            continue
        if member_name in {"model_config", "model_fields"}:
            continue
        if isinstance(member, property):
            lines.append(f"    property {member_name}")
        elif isinstance(member, classmethod | staticmethod):
            kind = "classmethod" if isinstance(member, classmethod) else "staticmethod"
            lines.append(f"    {kind} {member_name}{signature_of(member.__func__)}")
        elif inspect.isfunction(member):
            prefix = "async def" if inspect.iscoroutinefunction(member) else "def"
            lines.append(f"    {prefix} {member_name}{signature_of(member)}")
    return lines


def describe(module: ModuleType) -> list[str]:
    lines = [f"module {module.__name__}"]
    for name in sorted(getattr(module, "__all__", [])):
        obj = getattr(module, name)
        if inspect.isclass(obj):
            lines.extend("  " + line for line in describe_class(name, obj))
        elif inspect.isfunction(obj) or inspect.isbuiltin(obj):
            prefix = "async def" if inspect.iscoroutinefunction(obj) else "def"
            lines.append(f"  {prefix} {name}{signature_of(obj)}")
        elif name == "__version__":
            lines.append("  __version__: str")
        else:
            lines.append(f"  {name}: {type(obj).__name__}")
    return lines


def public_modules(import_name: str) -> list[ModuleType]:
    package = importlib.import_module(import_name)
    modules = [package]
    for info in pkgutil.iter_modules(package.__path__):
        if not info.name.startswith("_"):
            modules.append(importlib.import_module(f"{import_name}.{info.name}"))
    return modules


def snapshot(import_name: str) -> str:
    lines: list[str] = []
    for module in public_modules(import_name):
        lines.extend(describe(module))
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in {"check", "update"}:
        print("usage: api_snapshot.py check|update", file=sys.stderr)
        return 2
    failed = False
    for dist, import_name in PACKAGES.items():
        path = ROOT / "packages" / dist / "api.txt"
        current = snapshot(import_name)
        if argv[0] == "update":
            path.write_text(current)
            continue
        recorded = path.read_text() if path.exists() else ""
        if recorded != current:
            failed = True
            diff = difflib.unified_diff(
                recorded.splitlines(), current.splitlines(), str(path), "current", lineterm=""
            )
            print("\n".join(diff), file=sys.stderr)
    if failed:
        print(
            "The public API changed. If that is intended, run `make api-update` and record the "
            "change in the package's CHANGELOG.md.",
            file=sys.stderr,
        )
        return 1
    if argv[0] == "check":
        print(f"public API matches the snapshots of {len(PACKAGES)} packages")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
