"""Check that every range between workspace members includes the member's current version.

uv resolves workspace members from the tree and ignores those ranges, so nothing else notices when
``batteries-crud`` still asks for ``batteries-models<0.2`` after models moved to 0.2.0.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent


def load_projects() -> dict[str, dict[str, Any]]:
    projects: dict[str, dict[str, Any]] = {}
    for path in sorted(ROOT.glob("packages/*/pyproject.toml")):
        project = tomllib.loads(path.read_text())["project"]
        projects[project["name"]] = project
    return projects


def requirements_of(project: dict[str, Any]) -> list[str]:
    found: list[str] = list(project.get("dependencies", []))
    for group in project.get("optional-dependencies", {}).values():
        found.extend(group)
    return found


def main() -> int:
    projects = load_projects()
    versions = {name: str(project["version"]) for name, project in projects.items()}
    problems: list[str] = []
    for name, project in projects.items():
        for text in requirements_of(project):
            requirement = Requirement(text)
            if requirement.name not in versions:
                continue
            current = versions[requirement.name]
            if not requirement.specifier:
                problems.append(f"{name}: {requirement.name} has no version range")
            elif not requirement.specifier.contains(current, prereleases=True):
                problems.append(
                    f"{name}: requires {text!r} but the workspace has {requirement.name} {current}"
                )
            elif "==" in str(requirement.specifier):
                problems.append(f"{name}: pins {text!r}; use a compatible range on the 0.x minor")
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"sibling ranges OK for {len(projects)} packages")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
