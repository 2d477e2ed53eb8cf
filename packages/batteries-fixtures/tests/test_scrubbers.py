"""The built-in scrubbers: the same under one key, different under another; unique stays unique."""

from __future__ import annotations

import ipaddress
import itertools
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Column, Date, Integer, MetaData, String, Table

from batteries_fixtures._scrubbers import SCRUBBERS, Keyed, _permute, is_unique
from batteries_fixtures.transforms import FixtureRecord, looks_personal, scrub

KEY = Keyed(b"a test key of some length")
OTHER = Keyed(b"another key")

_table = Table(
    "person",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("email", String(254), unique=True),
    Column("short_email", String(20)),
    Column("first_name", String(40)),
    Column("last_name", String),
    Column("full_name", String),
    Column("username", String(30), unique=True),
    Column("code", String(24), unique=True),
    Column("phone", String),
    Column("mobile", Integer),
    Column("bio", String),
    Column("ip", String),
    Column("born_on", Date),
)


def _scrubber(name: str, column: str, key: Keyed = KEY, **options: Any) -> Any:
    return SCRUBBERS[name].make(key, _table.c[column], options, is_unique(_table.c[column]))


def _record(pk: Any = 1) -> FixtureRecord:
    return FixtureRecord("person", pk, {})


@pytest.mark.parametrize(("radix", "length"), [(10, 1), (10, 2), (10, 3), (10, 4), (2, 1), (2, 9)])
def test_the_permutation_is_a_bijection(radix: int, length: int) -> None:
    inputs = [list(d) for d in itertools.product(range(radix), repeat=length)]
    mapped = [_permute(d, radix, KEY, "t") for d in inputs]
    assert len({tuple(o) for o in mapped}) == len(inputs)  # no two inputs share an output
    assert all(len(o) == length for o in mapped)
    moved = sum(o != d for o, d in zip(mapped, inputs, strict=True))
    assert moved >= len(inputs) // 2 or len(inputs) == 2  # not the identity, nor close to it


def test_every_scrubber_leaves_null_alone() -> None:
    for name in SCRUBBERS:
        column = {"phone": "phone", "ip": "ip", "date_shift": "born_on"}.get(name, "bio")
        assert _scrubber(name, column)(None, _record()) is None


def test_email_is_the_same_for_the_same_input_and_key_only() -> None:
    email = _scrubber("email", "email")
    first = email("Ann@Corp.example", _record())
    assert first == email("Ann@Corp.example", _record(2))
    assert first.endswith("@example.com")
    assert "ann" not in first.lower()
    assert email("ann@corp.example", _record()) != first  # a case-sensitive unique column
    assert _scrubber("email", "email", OTHER)("Ann@Corp.example", _record()) != first


def test_email_fits_the_column() -> None:
    value = _scrubber("email", "short_email")("someone.with.a.long.address@x.org", _record())
    assert len(value) <= 20
    assert value.endswith("@example.com")


def test_names_follow_the_column_and_unique_columns_stay_unique() -> None:
    first = _scrubber("name", "first_name")("Ann", _record())
    last = _scrubber("name", "last_name")("Lee", _record())
    full = _scrubber("name", "full_name")("Ann Lee", _record())
    assert " " not in first
    assert " " not in last
    assert len(full.split()) == 2
    username = _scrubber("name", "username")
    names = {username(f"user{i}", _record()) for i in range(5000)}
    assert len(names) == 5000
    assert all(len(n) <= 30 for n in names)


def test_phones_keep_their_layout_and_stay_distinct() -> None:
    phone = _scrubber("phone", "phone")
    value = phone("+1 (415) 555-0100", _record())
    assert value != "+1 (415) 555-0100"
    assert [c.isdigit() for c in value] == [c.isdigit() for c in "+1 (415) 555-0100"]
    assert value[0] == "+"
    assert value[3] == "("
    assert value[-5] == "-"
    assert phone("555-0100 #12", _record())[8:10] == " #"  # a literal '#' stays a '#'
    numbers = [f"+33 6 {i // 100:02d} {i % 100:02d} 00" for i in range(10000)]
    assert len({phone(n, _record()) for n in numbers}) == len(numbers)
    as_int = _scrubber("phone", "mobile")
    ints = {as_int(n, _record()) for n in range(10000, 20000)}
    assert len(ints) == 10000
    assert all(10000 <= n <= 99999 for n in ints)


def test_unique_text_keeps_its_hash_whole_within_the_column() -> None:
    code = _scrubber("text", "code")
    values = {code(f"a long reference number {i:06d}", _record()) for i in range(3000)}
    assert len(values) == 3000
    assert all(len(v) <= 24 for v in values)


def test_text_is_words_no_longer_than_the_original() -> None:
    text = _scrubber("text", "bio")
    original = "Ann has a cat named Whiskers and lives at 3 Rue Oberkampf."
    value = text(original, _record())
    assert value == text(original, _record())
    assert 0 < len(value) <= len(original)
    assert "Whiskers" not in value
    assert "Oberkampf" not in value
    assert text("", _record()) == ""


def test_ip_addresses_are_permuted_and_networks_stay_networks() -> None:
    ip = _scrubber("ip", "ip")
    hosts = {ip(f"10.0.{i // 256}.{i % 256}", _record()) for i in range(4096)}
    assert len(hosts) == 4096
    assert all(isinstance(ipaddress.ip_address(h), ipaddress.IPv4Address) for h in hosts)
    network = ip("192.168.4.0/24", _record())
    assert ipaddress.ip_network(network).prefixlen == 24  # host bits still zero: a valid cidr
    host_in_network = ip("192.168.4.7/24", _record())
    assert host_in_network.endswith("/24")
    assert isinstance(ipaddress.ip_address(ip("2001:db8::1", _record())), ipaddress.IPv6Address)
    with pytest.raises(ValueError, match="not an IP address"):
        ip("not-an-ip", _record())


def test_dates_of_one_record_move_together_within_the_window() -> None:
    shift = _scrubber("date_shift", "born_on", days=10)
    moved = shift("2000-01-15", _record(7))
    delta = (date.fromisoformat(moved) - date(2000, 1, 15)).days
    assert 1 <= abs(delta) <= 10
    # The same record's timestamp moves by the same days, its time and zone kept.
    assert shift("2000-03-01T10:30:00+02:00", _record(7)).endswith("T10:30:00+02:00")
    later = date.fromisoformat(shift("2000-03-01T10:30:00+02:00", _record(7))[:10])
    assert (later - date(2000, 3, 1)).days == delta
    shifts = {date.fromisoformat(shift("2000-01-15", _record(pk))) for pk in range(200)}
    assert len(shifts) > 10  # records move by different amounts
    assert shift("infinity", _record()) == "infinity"
    with pytest.raises(ValueError, match="days"):
        _scrubber("date_shift", "born_on", days=0)


def test_scrub_names_a_built_in_scrubber() -> None:
    assert scrub("date_shift", days=5) == {"scrub": "date_shift", "days": 5}
    with pytest.raises(ValueError, match="built-in scrubbers are email, name"):
        scrub("emial")


@pytest.mark.parametrize(
    ("name", "personal"),
    [
        ("email", True),
        ("contactEmail", True),
        ("last_name", True),
        ("name", True),
        ("phone_number", True),
        ("ip", True),
        ("billing_address", True),
        ("date_of_birth", True),
        ("zip", True),
        ("description", False),
        ("zipper_count", False),
        ("total_cents", False),
        ("status", False),
        ("created_at", False),
    ],
)
def test_the_leak_guard_knows_personal_looking_names(name: str, personal: bool) -> None:
    assert looks_personal(name) is personal
