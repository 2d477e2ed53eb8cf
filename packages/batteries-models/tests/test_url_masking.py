"""mask_url never lets a password through, whatever characters it holds or however it is written.

A password may hold any character a URL gives a meaning to (``@ / : ? # % &``), spaces, quotes
and non-ASCII letters; users paste it unencoded, percent-encoded, or as ``?password=``. The test
is the same for every form: no piece of four characters or more of the password (raw or
percent-decoded) may be left in the output, unless that piece is also in the masked URL's own
visible parts (a password holding ``host`` would otherwise count as leaked by the host name).
Hypothesis runs derandomized, so the suite sees the same examples every time; change the
``derandomize`` setting locally to explore new ones.
"""

from __future__ import annotations

from urllib.parse import quote, quote_plus

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import make_url

from batteries_models import ConfigurationError, mask_url, normalise_url

URL_SPECIALS = ":/?#[]@!$&'()*+,;=%\"<>\\^`{|}~ "
PASSWORDS = st.text(
    alphabet=st.sampled_from(URL_SPECIALS)
    | st.characters(codec="utf-8", exclude_categories=["Cs"]),
    min_size=4,
    max_size=24,
)
TRICKY = [
    "p@ss#w0rd",
    "pa/ss/word",
    "pa:ss:word",
    "pass?word=1",
    "pass#word",
    "100%pass%41",
    "pass word  ",
    "pa'ss\"word",
    "pässwörd☃",
    "p@@ssword",
    "@@@@",
    "a://b@c",
    "x postgresql://y:z@w",
    "pw&password=x",
]


def fragments(secret: str, size: int = 4) -> set[str]:
    """Every piece of ``secret`` of ``size`` characters (the whole secret when shorter)."""
    if len(secret) <= size:
        return {secret}
    return {secret[i : i + size] for i in range(len(secret) - size + 1)}


def assert_hidden(secret: str, output: str, visible: str = "") -> None:
    leaked = {f for f in fragments(secret) if f in output and f not in visible}
    assert not leaked, f"{leaked} of the password {secret!r} left in {output!r}"


def url_forms(password: str) -> dict[str, tuple[str, str]]:
    """The URLs users write with this password, and the parts of each that stay visible."""
    encoded = quote(password, safe="")
    return {
        "raw": (
            f"postgresql://app:{password}@db.example:5432/shop",
            "postgresql://app:***@db.example:5432/shop",
        ),
        "encoded": (
            f"postgresql://app:{encoded}@db.example:5432/shop",
            "postgresql://app:***@db.example:5432/shop",
        ),
        "azure user": (
            f"postgresql://app@srv:{encoded}@db.example/shop",
            "postgresql://app@srv:***@db.example/shop",
        ),
        "query": (
            f"postgresql://app@db.example/shop?sslmode=require&password={quote_plus(password)}&x=1",
            "postgresql://app@db.example/shop?sslmode=require&password=***&x=1",
        ),
    }


def check_every_form(password: str) -> None:
    for url, visible in url_forms(password).values():
        encoded_forms = (password, quote(password, safe=""), quote_plus(password))
        messages = ("{}", "Cannot connect to {} (timed out): retry later", "Bad URL '{}'!")
        for message in messages:
            masked = mask_url(message.format(url))
            for secret in encoded_forms:
                assert_hidden(secret, masked, message.format(visible))
        # What Database and the commands show: the parsed URL, or why it was refused.
        try:
            shown = mask_url(normalise_url(url))
        except ConfigurationError as exc:
            shown = str(exc)
        # SQLAlchemy renders the visible parts its own way (the user name's @ as %40), and a
        # refusal has words of its own ("password"), as it says for a password without secrets.
        rendered = make_url(visible.replace("***", "x")).set(drivername="postgresql+asyncpg")
        context = rendered.render_as_string(hide_password=True) + refusals(visible)
        for secret in encoded_forms:
            assert_hidden(secret, shown, context)


def refusals(visible: str) -> str:
    texts = []
    for bad in (visible.replace("***", "x@y"), "not a url"):
        try:
            normalise_url(bad)
        except ConfigurationError as exc:
            texts.append(str(exc))
    return " ".join(texts)


@pytest.mark.parametrize("password", TRICKY)
def test_tricky_passwords_are_hidden_in_every_form(password: str) -> None:
    check_every_form(password)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(PASSWORDS)
@example("p@ss#w0rd")
def test_no_password_survives_masking(password: str) -> None:
    check_every_form(password)


def test_the_issue_example_keeps_the_host_and_hides_all_of_the_password() -> None:
    assert mask_url("postgresql://u:p@ss#w0rd@host/db") == "postgresql://u:***@host/db"


def test_masking_is_idempotent_and_keeps_urls_without_password() -> None:
    once = mask_url("see postgresql://u:p@ss@h/d and sqlite:///app.db")
    assert once == "see postgresql://u:***@h/d and sqlite:///app.db"
    assert mask_url(once) == once
    assert mask_url("postgresql://bob@db:5432/app") == "postgresql://bob@db:5432/app"


@given(PASSWORDS)
@settings(max_examples=200, deadline=None, derandomize=True)
def test_a_known_password_is_hidden_wherever_a_driver_quotes_it(password: str) -> None:
    message = (
        f"FATAL: bad password {password} / {quote(password, safe='')} / "
        f"{quote_plus(password)} / {password!r}"
    )
    masked = mask_url(message, password=password)
    assert_hidden(password, masked, "FATAL: bad password")
    assert_hidden(quote(password, safe=""), masked, "FATAL: bad password")


@pytest.mark.parametrize("password", ["p@ss#w0rd", "p@@ss", "a@b/c@d", "p@ss?x@y"])
def test_a_password_with_an_unencoded_at_is_refused_without_showing_it(password: str) -> None:
    with pytest.raises(ConfigurationError, match="percent-encode") as info:
        normalise_url(f"postgresql://app:{password}@db.example/shop")
    assert_hidden(password, str(info.value), "postgresql://app:***@db.example/shop")


@pytest.mark.parametrize(
    ("url", "password"),
    [("postgresql://u:p@ss:w0rd@host/db", "p@ss:w0rd"), ("u:s3cret@host/db", "s3cret")],
)
def test_an_unparseable_url_is_not_echoed(url: str, password: str) -> None:
    with pytest.raises(ConfigurationError, match="Cannot parse the database URL") as info:
        normalise_url(url)
    assert_hidden(password, str(info.value))
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__


def test_an_at_in_the_user_name_is_not_a_password() -> None:
    url = normalise_url("postgresql://app@srv:pw@db.example/shop")
    assert (url.username, url.password, url.host) == ("app@srv", "pw", "db.example")
