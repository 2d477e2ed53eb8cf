import io
import sys

import pytest

import batteries_migrate.cli as cli


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_silent_when_quiet_even_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)

    with cli._progress(quiet=True) as (step, done):
        step("upgrade abc")

    assert done == ["upgrade abc"]
    assert terminal.getvalue() == ""


def test_progress_is_silent_off_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    pipe = io.StringIO()
    monkeypatch.setattr(sys, "stderr", pipe)

    with cli._progress(quiet=False) as (step, done):
        step("upgrade abc")

    assert done == ["upgrade abc"]
    assert pipe.getvalue() == ""


def test_progress_shows_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)

    with cli._progress(quiet=False) as (step, done):
        step("upgrade abc")

    assert done == ["upgrade abc"]
    assert "Migrating" in terminal.getvalue()
