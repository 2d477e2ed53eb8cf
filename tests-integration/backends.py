"""The backends the integration suite runs on, with their capability flags."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Backend:
    """What a backend can do; tests ask these flags instead of comparing dialect names."""

    name: str
    url: str

    @property
    def has_sequences(self) -> bool:
        return self.name == "postgresql"

    @property
    def has_arrays(self) -> bool:
        return self.name == "postgresql"

    @property
    def has_deferrable_constraints(self) -> bool:
        return self.name == "postgresql"
