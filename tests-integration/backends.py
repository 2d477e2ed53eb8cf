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

    @property
    def can_defer_any_foreign_key(self) -> bool:
        """SQLite's PRAGMA defer_foreign_keys defers every key, declared DEFERRABLE or not."""
        return self.name == "sqlite"

    @property
    def enforces_numeric_precision(self) -> bool:
        """NUMERIC(p, s) refuses a value with too many digits (SQLite stores it anyway)."""
        return self.name == "postgresql"

    @property
    def has_concurrent_writers(self) -> bool:
        """Two sessions can write at once (SQLite lets one writer in at a time)."""
        return self.name == "postgresql"

    @property
    def database_is_a_file(self) -> bool:
        """The database is a file that connecting would create (SQLite), not a server's."""
        return self.name == "sqlite"

    @property
    def has_advisory_locks(self) -> bool:
        return self.name == "postgresql"

    @property
    def alters_by_copying_tables(self) -> bool:
        """SQLite's ALTER is a batch table copy, which offline --sql cannot render."""
        return self.name == "sqlite"

    @property
    def stores_nan_and_negative_zero(self) -> bool:
        """SQLite stores a NaN as NULL and -0.0 as 0.0; PostgreSQL keeps both."""
        return self.name == "postgresql"

    @property
    def can_terminate_connections(self) -> bool:
        """A server whose connections another session can end (pg_terminate_backend)."""
        return self.name == "postgresql"

    @property
    def holds_datetimes_beyond_python(self) -> bool:
        """Infinite, BC and after-9999 dates and timestamps (PostgreSQL; SQLite stores text)."""
        return self.name == "postgresql"

    @property
    def has_postgres_types(self) -> bool:
        """Domains, ranges, network, geometry, text search, hstore... (PostgreSQL's own)."""
        return self.name == "postgresql"

    @property
    def keeps_any_stored_text(self) -> bool:
        """A column holds any text or storage class its affinity lets through (SQLite)."""
        return self.name == "sqlite"

    @property
    def exports_snapshots(self) -> bool:
        """PostgreSQL's pg_export_snapshot lets several connections read one snapshot."""
        return self.name == "postgresql"

    @property
    def has_passwords(self) -> bool:
        """URLs can carry a password (this server trusts local users, so any one works)."""
        return self.name == "postgresql"

    def client_query(self, sql: str) -> list[str]:
        """Arguments that make the database's own client run ``sql`` and print bare values."""
        return ["-tAc", sql] if self.name == "postgresql" else [sql]

    @property
    def has_partitioned_tables(self) -> bool:
        """Declarative partitioning, schemas, identity columns and sequences not owned by a
        column: the PostgreSQL features a DBA's own schema script uses."""
        return self.name == "postgresql"

    @property
    def has_virtual_generated_columns(self) -> bool:
        """Generated columns computed on read (SQLite); PostgreSQL 15 stores them only."""
        return self.name == "sqlite"

    @property
    def writes_dump_records_itself(self) -> bool:
        """PostgreSQL's COPY writes dump records as one text expression per row."""
        return self.name == "postgresql"

    @property
    def django_sqlmigrate(self) -> str:
        """The DDL Django's ``sqlmigrate`` printed for this database, in django_golden/."""
        return f"sqlmigrate_{self.name}.sql"

    @property
    def reflects_django_types(self) -> bool:
        """Reflection sees what Django's fields store: uuid, jsonb, numeric(8, 2) (SQLite's
        tables say char(32), text and decimal)."""
        return self.name == "postgresql"
