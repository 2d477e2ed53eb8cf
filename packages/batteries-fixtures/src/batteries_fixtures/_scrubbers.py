"""The built-in scrubbers: deterministic replacements of personal values, keyed by a secret.

Every scrubber maps a fixture value (the JSON form of its column: text for a date, an e-mail...)
to another, the same way every time for the same key: a staging database refreshed twice gets
the same values, and two tables holding the same e-mail get the same replacement. ``phone``
and ``ip`` are permutations (a keyed Feistel network, as FF1 format-preserving encryption
builds), so distinct values stay distinct by construction; ``email``, ``name`` and ``text``
carry 64 bits of a keyed HMAC where the column is unique, so two values collide with odds of
about one in 10^19 per pair. ``None`` stays ``None`` for every scrubber.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Column, UniqueConstraint

from batteries_fixtures._readers import MISSING

__all__ = ["SCRUBBERS", "ColumnFunction", "Keyed", "ScrubberSpec"]

ColumnFunction = Callable[[Any, Any], Any]
"""A value transform as the load and dump paths call it: ``function(value, record)``."""


class Keyed:
    """The scrubbers' keyed hash: HMAC-SHA256 under the project's secret key."""

    def __init__(self, key: bytes) -> None:
        """Hash under ``key`` (``BATTERIES_SCRUB_KEY``)."""
        self._key = key

    def digest(self, purpose: str, text: str) -> bytes:
        """32 bytes that only someone holding the key can compute from ``purpose`` and ``text``."""
        return hmac.digest(self._key, f"{purpose}\0{text}".encode(), hashlib.sha256)

    def number(self, purpose: str, text: str) -> int:
        """:meth:`digest` as a non-negative integer."""
        return int.from_bytes(self.digest(purpose, text), "big")

    def hex(self, purpose: str, text: str, length: int = 16) -> str:
        """The first ``length`` hex digits of :meth:`digest`."""
        return self.digest(purpose, text).hex()[:length]


@dataclass(frozen=True)
class ScrubberSpec:
    """A built-in scrubber.

    Attributes:
        name: Its name in rules (``"email"``).
        summary: What it writes, for the docs and errors.
        make: Builds the value function for one column: ``make(keyed, column, options,
            unique)``; ``unique``: the column's values must stay distinct (a unique column, or
            part of the table's natural key).
        by_value: The result depends on the value alone, so foreign keys that point at the
            column can be scrubbed the same way and still point at the same row.
        keyed: It needs the secret key.
        options: The options it takes (``days`` for ``date_shift``).
    """

    name: str
    summary: str
    make: Callable[[Keyed, Column[Any], Mapping[str, Any], bool], ColumnFunction]
    by_value: bool = True
    keyed: bool = True
    options: frozenset[str] = frozenset()


def is_unique(column: Column[Any]) -> bool:
    """The column is a primary key, unique, or the only column of a unique index or constraint."""
    if column.primary_key or column.unique:
        return True
    table = column.table
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint) and list(constraint.columns) == [column]:
            return True
    return any(index.unique and list(index.columns) == [column] for index in table.indexes)


def _max_length(column: Column[Any]) -> int | None:
    length = getattr(column.type, "length", None)
    return length if isinstance(length, int) and length > 0 else None


def _fit(text: str, length: int | None) -> str:
    return text if length is None else text[:length]


def _with_suffix(text: str, suffix: str, length: int | None) -> str:
    """``text`` and a hash ``suffix`` that keeps it distinct, cut to ``length`` from ``text``."""
    if length is not None and length < len(suffix) + 2:
        return suffix[:length]
    room = None if length is None else length - len(suffix) - 1
    return f"{_fit(text, room)} {suffix}"


# ---------------------------------------------------------------- a keyed permutation


def _permute(digits: list[int], radix: int, keyed: Keyed, tweak: str) -> list[int]:
    """A keyed permutation of every string of ``len(digits)`` digits in base ``radix``.

    Ten Feistel rounds over the two halves, as FF1 (NIST SP 800-38G) does, with HMAC as the
    round function: each round can be undone, so two different inputs never give one output.
    """
    n = len(digits)
    if n == 0:
        return digits
    if n == 1:  # too short to split: a keyed shuffle of the radix's digits
        order = sorted(range(radix), key=lambda d: keyed.digest(f"{tweak}:1", str(d)))
        return [order[digits[0]]]
    u = n // 2
    v = n - u
    a = _number(digits[:u], radix)
    b = _number(digits[u:], radix)
    for round_ in range(10):
        m = u if round_ % 2 == 0 else v
        other = v if round_ % 2 == 0 else u
        y = keyed.number(tweak, f"{n}:{round_}:{other}:{b}")
        a, b = b, (a + y) % radix**m
    return _digits(a, u, radix) + _digits(b, v, radix)


def _number(digits: list[int], radix: int) -> int:
    value = 0
    for digit in digits:
        value = value * radix + digit
    return value


def _digits(value: int, length: int, radix: int) -> list[int]:
    out = [0] * length
    for position in range(length - 1, -1, -1):
        value, out[position] = divmod(value, radix)
    return out


# ---------------------------------------------------------------- the scrubbers


def _email(
    keyed: Keyed, column: Column[Any], options: Mapping[str, Any], unique: bool
) -> ColumnFunction:
    domain = "@example.com"
    length = _max_length(column)
    digits = 16 if length is None else max(1, min(16, length - len(domain)))

    def scrub(value: Any, record: Any) -> Any:
        if value is None:
            return None
        return f"{keyed.hex('email', str(value), digits)}{domain}"

    return scrub


_FIRST = [
    "Ada",
    "Alan",
    "Alice",
    "Amara",
    "Ana",
    "Arjun",
    "Aya",
    "Ben",
    "Bruno",
    "Carla",
    "Chen",
    "Clara",
    "Dara",
    "Diego",
    "Elif",
    "Emil",
    "Emma",
    "Erik",
    "Eva",
    "Farah",
    "Felix",
    "Grace",
    "Hana",
    "Hugo",
    "Ines",
    "Ivan",
    "Jana",
    "Jonas",
    "Kai",
    "Kenji",
    "Lea",
    "Leo",
    "Lina",
    "Luca",
    "Maya",
    "Mei",
    "Mila",
    "Nadia",
    "Nico",
    "Noor",
    "Olga",
    "Omar",
    "Paula",
    "Pedro",
    "Priya",
    "Quinn",
    "Rafael",
    "Rosa",
    "Sami",
    "Sara",
    "Sofia",
    "Tariq",
    "Tess",
    "Theo",
    "Uma",
    "Vera",
    "Victor",
    "Wei",
    "Yara",
    "Yusuf",
    "Zoe",
]
_LAST = [
    "Abara",
    "Achebe",
    "Alvarez",
    "Berg",
    "Bianchi",
    "Costa",
    "Dahl",
    "Dubois",
    "Eriksen",
    "Ferreira",
    "Fischer",
    "Garcia",
    "Haddad",
    "Hansen",
    "Ibrahim",
    "Ito",
    "Jensen",
    "Kaur",
    "Kim",
    "Kowalski",
    "Larsen",
    "Lee",
    "Lopez",
    "Martin",
    "Meyer",
    "Moreau",
    "Nakamura",
    "Novak",
    "Okafor",
    "Olsen",
    "Park",
    "Patel",
    "Petrov",
    "Quinn",
    "Rossi",
    "Sato",
    "Schmidt",
    "Silva",
    "Singh",
    "Smith",
    "Suzuki",
    "Tanaka",
    "Torres",
    "Tran",
    "Varga",
    "Vogel",
    "Wagner",
    "Wang",
    "Weber",
    "Wilson",
    "Yamada",
    "Young",
    "Zhang",
    "Ziegler",
]


def _name(
    keyed: Keyed, column: Column[Any], options: Mapping[str, Any], unique: bool
) -> ColumnFunction:
    words = set(re.split(r"[^a-z]+", column.name.lower()))
    part = (
        "first"
        if words & {"first", "given", "forename"}
        else "last"
        if words & {"last", "sur", "surname", "family"}
        else "full"
    )
    length = _max_length(column)

    def scrub(value: Any, record: Any) -> Any:
        if value is None:
            return None
        number = keyed.number("name", str(value))
        first = _FIRST[number % len(_FIRST)]
        last = _LAST[(number // len(_FIRST)) % len(_LAST)]
        text = first if part == "first" else last if part == "last" else f"{first} {last}"
        if unique:
            return _with_suffix(text, keyed.hex("name-unique", str(value)), length)
        return _fit(text, length)

    return scrub


_WORDS = [
    "lorem",
    "ipsum",
    "dolor",
    "sit",
    "amet",
    "consectetur",
    "adipiscing",
    "elit",
    "sed",
    "do",
    "eiusmod",
    "tempor",
    "incididunt",
    "ut",
    "labore",
    "et",
    "dolore",
    "magna",
    "aliqua",
    "enim",
    "ad",
    "minim",
    "veniam",
    "quis",
    "nostrud",
    "exercitation",
    "ullamco",
    "laboris",
    "nisi",
    "aliquip",
    "ex",
    "ea",
    "commodo",
    "consequat",
    "duis",
    "aute",
    "irure",
    "in",
    "reprehenderit",
    "voluptate",
    "velit",
    "esse",
    "cillum",
    "fugiat",
    "nulla",
    "pariatur",
    "excepteur",
    "sint",
    "occaecat",
    "cupidatat",
    "non",
    "proident",
]


def _text(
    keyed: Keyed, column: Column[Any], options: Mapping[str, Any], unique: bool
) -> ColumnFunction:
    length = _max_length(column)

    def scrub(value: Any, record: Any) -> Any:
        if value is None:
            return None
        original = str(value)
        if not original:
            return original
        stream = keyed.digest("text", original)
        words: list[str] = []
        size = 0
        block = 0
        while size < len(original):
            if not stream:
                block += 1
                stream = keyed.digest(f"text:{block}", original)
            word = _WORDS[stream[0] % len(_WORDS)]
            stream = stream[1:]
            words.append(word)
            size += len(word) + 1
        text = " ".join(words)[: len(original)].rstrip() or _WORDS[0][: len(original)]
        if unique:
            return _with_suffix(text, keyed.hex("text-unique", original), length)
        return text

    return scrub


def _phone(
    keyed: Keyed, column: Column[Any], options: Mapping[str, Any], unique: bool
) -> ColumnFunction:
    def scrub(value: Any, record: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return _permute_number(value, keyed)
        text = str(value)
        digits = [int(c) for c in text if c in _ASCII_DIGITS]
        layout = re.sub(r"[0-9]", "0", text)  # the tweak: same digit positions, same shuffle
        permuted = iter(_permute(digits, 10, keyed, f"phone:{layout}"))
        return "".join(str(next(permuted)) if c in _ASCII_DIGITS else c for c in text)

    return scrub


def _permute_number(value: int, keyed: Keyed) -> int:
    """A keyed permutation of the integers with as many digits as ``value`` (and its sign)."""
    sign = -1 if value < 0 else 1
    text = str(abs(value))
    n = len(text)
    if n == 1:
        return sign * _permute([int(text)], 10, keyed, "phone-int")[0]
    low = 10 ** (n - 1)
    current = [int(c) for c in text]
    while True:  # cycle walking: stay among numbers of n digits (no leading zero)
        current = _permute(current, 10, keyed, "phone-int")
        number = _number(current, 10)
        if number >= low:
            return sign * number


def _ip(
    keyed: Keyed, column: Column[Any], options: Mapping[str, Any], unique: bool
) -> ColumnFunction:
    def scrub(value: Any, record: Any) -> Any:
        if value is None:
            return None
        text = str(value)
        address_text, slash, prefix_text = text.partition("/")
        try:
            address = ipaddress.ip_address(address_text)
        except ValueError:
            msg = f"{text!r} is not an IP address (the ip scrubber takes IPv4 and IPv6 text)"
            raise ValueError(msg) from None
        bits = address.max_prefixlen
        prefix = int(prefix_text) if slash else bits
        number = int(address)
        host_bits = bits - prefix
        # A network (host bits zero, as cidr holds) stays a network: permute its prefix only.
        keep_host = host_bits > 0 and number % (1 << host_bits) == 0
        width = prefix if keep_host else bits
        top = number >> host_bits if keep_host else number
        permuted = _number(_permute(_digits(top, width, 2), 2, keyed, f"ip:{bits}:{width}"), 2)
        result = permuted << host_bits if keep_host else permuted
        new = ipaddress.ip_address(result) if bits == 32 else ipaddress.IPv6Address(result)
        return f"{new}{slash}{prefix_text}"

    return scrub


_ASCII_DIGITS = frozenset("0123456789")
_DATE = re.compile(r"^(-?\d{4,})-(\d\d)-(\d\d)")


def _date_shift(
    keyed: Keyed, column: Column[Any], options: Mapping[str, Any], unique: bool
) -> ColumnFunction:
    days = options.get("days", 30)
    if not isinstance(days, int) or isinstance(days, bool) or days < 1:
        msg = f"date_shift's days must be a whole number of days of at least 1, not {days!r}"
        raise ValueError(msg)

    def scrub(value: Any, record: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, str):
            msg = f"{value!r} is not a date (date_shift takes ISO 8601 dates and timestamps)"
            raise ValueError(msg)
        found = _DATE.match(value)
        if found is None:  # 'infinity' and friends: no date to shift
            return value
        try:
            day = date.fromisoformat(found.group(0))
        except ValueError:
            return value  # a year outside 1..9999 (BC, PostgreSQL's far future): left as is
        pk = getattr(record, "pk", None)
        seed = repr(pk) if pk is not None and pk is not MISSING else value
        offset = keyed.number("date_shift", seed) % (2 * days) - days
        offset = offset + 1 if offset >= 0 else offset  # never 0: every date moves
        try:
            shifted = day + timedelta(days=offset)
        except OverflowError:
            return value
        return shifted.isoformat() + value[found.end() :]

    return scrub


def _null(
    keyed: Keyed, column: Column[Any], options: Mapping[str, Any], unique: bool
) -> ColumnFunction:
    def scrub(value: Any, record: Any) -> Any:
        return None

    return scrub


def _keep(
    keyed: Keyed, column: Column[Any], options: Mapping[str, Any], unique: bool
) -> ColumnFunction:
    def scrub(value: Any, record: Any) -> Any:
        return value

    return scrub


SCRUBBERS: dict[str, ScrubberSpec] = {
    spec.name: spec
    for spec in (
        ScrubberSpec("email", "a keyed hash at example.com: 3f9a...@example.com", _email),
        ScrubberSpec("name", "a made-up first, last or full name (by the column's name)", _name),
        ScrubberSpec("phone", "the digits permuted, the layout kept: +1 (415) 555-0100", _phone),
        ScrubberSpec("text", "lorem ipsum words, as long as the text", _text),
        ScrubberSpec("ip", "the address permuted (IPv4, IPv6, networks stay networks)", _ip),
        ScrubberSpec(
            "date_shift",
            "every date of a record moved by the same keyed number of days (±days, 30)",
            _date_shift,
            by_value=False,
            options=frozenset({"days"}),
        ),
        ScrubberSpec("null", "NULL", _null, keyed=False),
        ScrubberSpec("keep", "the value unchanged (reviewed: not personal)", _keep, keyed=False),
    )
}
"""The built-in scrubbers, by name."""
