"""The examples of the Fixture formats page run as a user would run them, on both databases."""

from __future__ import annotations

import json
from pathlib import Path

from backends import Backend
from test_docs_examples_models import run_example, without_settings


def _run(name: str, backend: Backend, tmp_path: Path) -> str:
    return run_example(name, cwd=tmp_path, env={**without_settings(), "DATABASE_URL": backend.url})


def test_yaml_example(backend: Backend, tmp_path: Path) -> None:
    output = _run("formats_yaml.py", backend, tmp_path)
    assert output.startswith("Loaded 2 rows into 1 tables (2 inserted")
    assert "    code: 'NO'\n    name: Norway\n" in output  # the text NO, quoted on the way out
    assert (
        output.strip()
        .splitlines()[-1]
        .startswith(
            "refused: ./evil.yaml: invalid YAML at line 1 column 3: the tag "
            "!!python/object/apply:os.system is not allowed"
        )
    )


def test_csv_example(backend: Backend, tmp_path: Path) -> None:
    output = _run("formats_csv.py", backend, tmp_path)
    assert (
        '== docs_csv_hero.csv\nid,name,motto,team_id\n1,Deadpond,"",1\n'
        '2,"Rusty-Man, ""the"" man",,\n== docs_csv_team.csv\nid,name\n1,Preventers\n'
    ) in output
    assert output.strip().splitlines()[-1].startswith("Loaded 3 rows into 2 tables (3 inserted")


def test_django_example(backend: Backend, tmp_path: Path) -> None:
    output = _run("formats_django.py", backend, tmp_path)
    first, _, rest = output.partition("\n")
    assert first.startswith("Loaded 6 rows into 4 tables (6 inserted")
    assert json.loads(rest) == [
        {"model": "shop.category", "pk": 1, "fields": {"name": "Books"}},
        {"model": "shop.item", "pk": 1,
         "fields": {"title": "Dune", "category": 1, "tags": [["new"], ["sale"]]}},
        {"model": "shop.tag", "fields": {"name": "new"}},
        {"model": "shop.tag", "fields": {"name": "sale"}},
    ]  # fmt: skip


def test_plugin_example(backend: Backend, tmp_path: Path) -> None:
    lines = _run("formats_plugin.py", backend, tmp_path).splitlines()
    assert lines[1:3] == [
        '"docs_power"\t1\t{"name": "flight", "level": 3}',
        '"docs_power"\t2\t{"name": "x-ray", "level": 1}',
    ]
    assert lines[3].startswith("Loaded 2 rows into 1 tables (2 inserted")
