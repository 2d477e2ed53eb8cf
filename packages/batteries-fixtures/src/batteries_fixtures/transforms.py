"""Transforms and scrubbing: change or drop records as a dump writes them or a load reads them.

Rules are declared in ``pyproject.toml``, on a model, or here in Python, and run with
``--scrub`` (``scrub=True``), on a dump or a load, in the streaming path (no ORM objects)::

    [tool.batteries.fixtures.transforms]
    "customer.email" = "email"                        # a built-in scrubber
    "customer.born_on" = { scrub = "date_shift", days = 90 }
    "customer.city" = "keep"                          # reviewed: not personal
    "audit_log" = "drop"                              # every record of the table
    "order" = "app.scrub:only_paid"                   # a record function

In Python, for a table name or on the model::

    from batteries_fixtures.transforms import FixtureRecord, register, transform

    register("customer.notes", "text")

    @transform("order")
    def only_paid(record: FixtureRecord) -> FixtureRecord | None:
        return record if record.fields["status"] == "paid" else None  # None drops it

    class Customer(BaseModel, table=True):
        __fixture_transforms__ = {"email": "email", "nickname": "name"}

A value function takes ``(value, record)`` and returns the new value; a record function takes
the :class:`FixtureRecord` and returns it (changed or not) or ``None`` to drop it. Values are in
the fixture's JSON form. The built-in scrubbers (:data:`SCRUBBERS`) are keyed by the secret
``BATTERIES_SCRUB_KEY``: the same input gives the same output in every run with that key, and
foreign keys and natural keys that point at a scrubbed column are scrubbed alike, so they
still point at the same rows. With ``--scrub``, a column whose name looks personal and that has
no rule stops the dump (``"keep"`` marks one as reviewed).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from batteries_fixtures._readers import MISSING
from batteries_fixtures._scrubbers import SCRUBBERS as _SPECS
from batteries_fixtures._transforms import REGISTERED, FixtureRecord, Rule, looks_personal

__all__ = [
    "MISSING",
    "SCRUBBERS",
    "FixtureRecord",
    "Rule",
    "looks_personal",
    "register",
    "scrub",
    "transform",
    "unregister",
]

SCRUBBERS: dict[str, str] = {name: spec.summary for name, spec in _SPECS.items()}
"""The built-in scrubbers, by name, with what each writes."""

F = TypeVar("F", bound=Callable[..., Any])


def scrub(name: str, **options: Any) -> dict[str, Any]:
    """A built-in scrubber with options, as a rule: ``scrub("date_shift", days=90)``.

    Raises:
        ValueError: No built-in scrubber has that name.
    """
    if name not in _SPECS:
        msg = f"Unknown scrubber {name!r}: the built-in scrubbers are {', '.join(_SPECS)}"
        raise ValueError(msg)
    return {"scrub": name, **options}


def register(target: str, rule: Rule) -> None:
    """Apply ``rule`` to ``target`` (``"table"`` or ``"table.column"``) when transforms run.

    ``rule`` is a scrubber's name, :func:`scrub`'s result, ``"drop"`` (a table), a
    ``"module:function"`` path, or a function. Rules of ``[tool.batteries.fixtures.transforms]``
    win over these, and these over a model's ``__fixture_transforms__``.
    """
    REGISTERED[target] = rule


def unregister(target: str) -> None:
    """Forget the rule registered for ``target``, if any."""
    REGISTERED.pop(target, None)


def transform(target: str) -> Callable[[F], F]:
    """Register the decorated function as the rule of ``target``; the function is unchanged."""

    def decorate(function: F) -> F:
        register(target, function)
        return function

    return decorate
