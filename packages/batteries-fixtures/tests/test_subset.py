from __future__ import annotations

import pytest

from batteries_fixtures import FixtureSchemaError
from batteries_fixtures._subset import parse_where


def test_where_splits_at_the_first_colon() -> None:
    assert parse_where(["book:opened > '10:30'", "audit.event: kind = 'x'"]) == {
        "book": "opened > '10:30'",
        "audit.event": " kind = 'x'",
    }


@pytest.mark.parametrize(
    ("items", "fragment"),
    [
        (["book"], "--where 'book' is not TABLE:SQL"),
        ([":id = 1"], "is not TABLE:SQL"),
        (["book:  "], "is not TABLE:SQL"),
        (["book:id = 1", "book:id = 2"], "names table 'book' twice"),
    ],
)
def test_a_malformed_where_is_one_line_naming_it(items: list[str], fragment: str) -> None:
    with pytest.raises(FixtureSchemaError, match=fragment):
        parse_where(items)
