"""batteries-fixtures from the shell: the standalone command and `fastapi-batteries fixtures`."""

from __future__ import annotations

import asyncio
import io
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from typer.testing import CliRunner

from batteries_fixtures.cli import app
from batteries_models import Database, mask_url, normalise_url

HERE = Path(__file__).parent
runner = CliRunner()


def _seeded(backend: Any, schema: ModuleType) -> str:
    """Seed the hard schema; the CLI runs its own event loop, so these tests are sync."""

    async def seed() -> None:
        database = Database(backend.url)
        await database.create_all(schema.Base.metadata)
        async with database.connect() as connection:
            await schema.seed(connection)
        await database.dispose()

    asyncio.run(seed())
    return backend.url


def _dump(url: str, *args: str) -> str:
    result = runner.invoke(
        app, ["dump", "--database-url", url, "--models", "fixtures_schema", "--quiet", *args]
    )
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_dump_to_stdout_then_load_round_trips(
    backend: Any, schema: ModuleType, tmp_path: Path
) -> None:
    url = _seeded(backend, schema)
    printed = _dump(url)
    records = json.loads(printed)
    assert {r["table"] for r in records} >= {"team", "member", "member_category"}
    path = tmp_path / "fixture.json"
    path.write_text(printed, encoding="utf-8")
    result = runner.invoke(
        app, ["load", str(path), "--database-url", url, "--models", "fixtures_schema", "-v"]
    )
    assert result.exit_code == 0, result.stderr
    assert "  org: 0 inserted, 0 updated, 2 unchanged, 0 skipped" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("Loaded ")
    assert _dump(url) == printed


def test_format_follows_the_extension_and_reflection_needs_no_models(
    backend: Any, schema: ModuleType, tmp_path: Path
) -> None:
    url = _seeded(backend, schema)
    path = tmp_path / "orgs.jsonl"
    result = runner.invoke(app, ["dump", "org", "--database-url", url, "-o", str(path)])
    assert result.exit_code == 0, result.stderr
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["pk"] for line in lines] == [1, 2]
    assert "Dumped 2 rows from 1 tables" in result.stderr


def test_truncate_is_refused_without_yes_when_not_a_terminal(
    backend: Any, schema: ModuleType, tmp_path: Path
) -> None:
    url = _seeded(backend, schema)
    path = tmp_path / "samples.json"
    path.write_text(_dump(url, "sample"), encoding="utf-8")
    before = _dump(url)
    options = ["--database-url", url, "--models", "fixtures_schema"]
    refused = runner.invoke(app, ["load", str(path), "--truncate", *options])
    assert refused.exit_code == 2
    assert "Refusing without --yes" in refused.stderr
    assert mask_url(normalise_url(url)) in refused.stderr  # names the database it would empty
    assert _dump(url) == before
    done = runner.invoke(app, ["load", str(path), "--truncate", "--yes", *options])
    assert done.exit_code == 0, done.stderr
    assert _dump(url) == before


def test_bad_input_is_one_line_without_traceback(
    backend: Any, schema: ModuleType, tmp_path: Path
) -> None:
    url = _seeded(backend, schema)
    missing = runner.invoke(app, ["load", str(tmp_path / "nope.json"), "--database-url", url])
    assert missing.exit_code == 1
    assert missing.stderr.count("\n") == 1
    assert missing.stderr.startswith("Error: Fixture file ")
    assert "Traceback" not in missing.stderr
    both = runner.invoke(app, ["load", "x.json", "--append", "--truncate", "--database-url", url])
    assert both.exit_code == 1
    assert "cannot be used together" in both.stderr


def test_unreachable_database_is_one_line_with_the_password_masked(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["dump", "--database-url", "postgresql://app:hunter2@127.0.0.1:1/app"]
    )
    assert result.exit_code == 1
    assert "hunter2" not in result.stderr
    assert "app:***@" in result.stderr
    assert result.stderr.count("\n") == 1


def test_dry_run_and_settings_url(
    backend: Any,
    schema: ModuleType,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = _seeded(backend, schema)
    monkeypatch.setenv("DATABASE_URL", url)
    path = tmp_path / "orgs.json"
    path.write_text(
        json.dumps([{"table": "org", "pk": 7, "fields": {"slug": "new", "name": "N"}}]),
        encoding="utf-8",
    )
    result = runner.invoke(app, ["load", str(path), "--dry-run"])
    assert result.exit_code == 0, result.stderr
    assert result.stderr.startswith("Would load 1 rows")
    assert '"pk": 7' not in _dump(url, "org")


def test_fastapi_batteries_mounts_the_fixtures_commands() -> None:
    from batteries_cli._app import app as main_app

    result = runner.invoke(main_app, ["fixtures", "--help"])
    assert result.exit_code == 0
    assert "dump" in result.stdout
    assert "load" in result.stdout


def test_load_from_stdin_with_exclude_and_indent(backend: Any, schema: ModuleType) -> None:
    url = _seeded(backend, schema)
    printed = _dump(url, "--exclude", "sample", "--indent", "2")
    records = json.loads(printed)
    assert "sample" not in {r["table"] for r in records}
    assert '\n  "table": ' in printed
    result = runner.invoke(
        app,
        ["load", "-", "--database-url", url, "--models", "fixtures_schema", "--append"],
        input=printed,
    )
    assert result.exit_code == 1  # every key exists already: --append refuses
    assert "- record 0: table 'category' key 'a-leaf' already exists" in result.stderr


def test_progress_bar_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    from batteries_fixtures import cli as cli_module

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with cli_module._progress(quiet=False) as progress:
        assert progress is not None
        progress("hero", 5, 10)
    with cli_module._progress(quiet=True) as quiet:
        assert quiet is None
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    with cli_module._progress(quiet=False) as not_a_terminal:
        assert not_a_terminal is None


def test_named_database_from_the_settings(
    backend: Any, schema: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _seeded(backend, schema)
    monkeypatch.setenv("BATTERIES_DATABASES__REPORTING__URL", url)
    result = runner.invoke(app, ["dump", "org", "--database", "reporting", "--quiet"])
    assert result.exit_code == 0, result.stderr
    assert [r["pk"] for r in json.loads(result.stdout)] == [1, 2]
    unknown = runner.invoke(app, ["dump", "--database", "nope"])
    assert unknown.exit_code == 1
    assert "No database named 'nope'" in unknown.stderr


def test_sync_wrappers_for_scripts(backend: Any, schema: ModuleType, tmp_path: Path) -> None:
    from batteries_fixtures import dump_sync, load_sync

    url = _seeded(backend, schema)
    path = tmp_path / "orgs.json"
    assert dump_sync(url, path, tables=["org"], models=schema.MODELS).tables == {"org": 2}
    report = load_sync(url, path, models=schema.MODELS, mode="merge")
    assert (report.inserted, report.updated, report.unchanged) == (0, 0, 2)


def test_nothing_else_given_with_settings_and_tool_batteries(
    backend: Any, schema: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _seeded(backend, schema)
    (tmp_path / "pyproject.toml").write_text(
        '[tool.batteries]\nmodels = "fixtures_schema"\n', encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    dumped = runner.invoke(app, ["dump", "-o", "fixtures.json", "--natural-foreign"])
    assert dumped.exit_code == 0, dumped.stderr
    records = json.loads((tmp_path / "fixtures.json").read_text(encoding="utf-8"))
    member = next(r for r in records if r["table"] == "member")
    assert member["fields"]["org_id"] == ["acme"]  # natural keys come from the models module
    loaded = runner.invoke(app, ["load", "fixtures.json"])
    assert loaded.exit_code == 0, loaded.stderr
    assert "0 inserted" in loaded.stderr
