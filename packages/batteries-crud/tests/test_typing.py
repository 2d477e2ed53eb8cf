"""BaseCRUD's return types, checked by mypy --strict on typing/check_types.py."""

from pathlib import Path

import pytest
from mypy import api

CASES = Path(__file__).parent / "typing" / "check_types.py"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_return_types_are_precise_under_mypy_strict() -> None:
    stdout, stderr, status = api.run(
        ["--strict", "--no-error-summary", "--warn-unused-ignores", str(CASES)]
    )
    assert status == 0, stdout + stderr
