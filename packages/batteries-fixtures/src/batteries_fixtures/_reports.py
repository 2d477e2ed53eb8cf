"""What a dump or a load did, for scripts and for the command line's summary."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["DumpReport", "LoadReport", "TableCounts"]


@dataclass
class TableCounts:
    """Rows of one table touched by a load.

    Attributes:
        inserted: Rows that did not exist and were inserted.
        updated: Rows that existed (same primary or natural key) and were overwritten.
        unchanged: Rows that existed with the fixture's values already; nothing was written.
        skipped: Records left out (``ignore_unknown`` on a table the schema lacks).
    """

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0

    @property
    def total(self) -> int:
        """Every record of the table in the fixture."""
        return self.inserted + self.updated + self.unchanged + self.skipped


@dataclass
class LoadReport:
    """The result of :func:`~batteries_fixtures.load`.

    Attributes:
        tables: Counts per table, in load order.
        files: The files read (``"-"`` for stdin).
        duration: Seconds spent, reading included.
        dry_run: Nothing was written (the transaction was rolled back).
        mode: ``"merge"``, ``"append"`` or ``"truncate"``.
    """

    tables: dict[str, TableCounts] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    duration: float = 0.0
    dry_run: bool = False
    mode: str = "merge"

    @property
    def inserted(self) -> int:
        """Rows inserted, every table."""
        return sum(c.inserted for c in self.tables.values())

    @property
    def updated(self) -> int:
        """Rows updated, every table."""
        return sum(c.updated for c in self.tables.values())

    @property
    def unchanged(self) -> int:
        """Rows that already held the fixture's values, every table."""
        return sum(c.unchanged for c in self.tables.values())

    @property
    def skipped(self) -> int:
        """Records skipped, every table."""
        return sum(c.skipped for c in self.tables.values())

    def summary(self) -> str:
        """One line for people: what was (or would be) done, and how long it took."""
        verb = "Would load" if self.dry_run else "Loaded"
        return (
            f"{verb} {self.inserted + self.updated + self.unchanged} rows into "
            f"{len(self.tables)} tables ({self.inserted} inserted, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.skipped} skipped) "
            f"from {len(self.files)} file(s) in {self.duration:.2f}s"
        )


@dataclass
class DumpReport:
    """The result of :func:`~batteries_fixtures.dump`.

    Attributes:
        tables: Rows written per table, in dump order.
        output: Where the fixture went (``"-"`` for stdout or a stream).
        format: ``"json"`` or ``"jsonl"``.
        duration: Seconds spent.
    """

    tables: dict[str, int] = field(default_factory=dict)
    output: str = "-"
    format: str = "json"
    duration: float = 0.0

    @property
    def rows(self) -> int:
        """Rows written, every table."""
        return sum(self.tables.values())

    def summary(self) -> str:
        """One line for people: what was written where, and how long it took."""
        return (
            f"Dumped {self.rows} rows from {len(self.tables)} tables to {self.output} "
            f"({self.format}) in {self.duration:.2f}s"
        )
