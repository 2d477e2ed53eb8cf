"""The hard schema of the batteries-fixtures suite: every case a real project throws at fixtures.

FK cycle (team.captain_id -> member, member.team_id -> team), self reference (category), UUID,
string and composite primary keys, a bare association ``Table``, natural keys (one made of
another table's natural key), and a table with every supported column type (arrays on
PostgreSQL, JSON elsewhere). Imported by name so the CLI's ``--models`` can find it too.
"""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ARRAY,
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
    Uuid,
    insert,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from batteries_models import NAMING_CONVENTION


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Color(enum.Enum):
    RED = "r"
    GREEN = "g"


class Org(Base):
    __tablename__ = "org"
    __natural_key__ = ("slug",)
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))


class Project(Base):
    """Natural key (org, code): made of another table's natural key."""

    __tablename__ = "project"
    __natural_key__ = ("org_id", "code")
    __table_args__ = (UniqueConstraint("org_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("org.id"))
    code: Mapped[str] = mapped_column(String(20))


class Team(Base):
    __tablename__ = "team"
    __table_args__ = (CheckConstraint("length(name) > 0", name="name_not_empty"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    captain_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("member.id", use_alter=True), default=None
    )
    project_id: Mapped[int | None] = mapped_column(ForeignKey("project.id"), default=None)


class Member(Base):
    __tablename__ = "member"
    __natural_key__ = ("email",)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    email: Mapped[str] = mapped_column(String(100), unique=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"), default=None)
    org_id: Mapped[int] = mapped_column(ForeignKey("org.id"))


class Category(Base):
    __tablename__ = "category"
    slug: Mapped[str] = mapped_column(String(40), primary_key=True)
    parent_slug: Mapped[str | None] = mapped_column(ForeignKey("category.slug"), default=None)


class OrgSetting(Base):
    __tablename__ = "org_setting"
    org_id: Mapped[int] = mapped_column(ForeignKey("org.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


member_category = Table(
    "member_category",
    Base.metadata,
    Column("member_id", Uuid, ForeignKey("member.id"), primary_key=True),
    Column("category_slug", String(40), ForeignKey("category.slug"), primary_key=True),
)


tag = Table(
    "tag",
    Base.metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(40), nullable=False),  # not unique: a natural key can be ambiguous
    info={"natural_key": ("name",)},
)


class Sample(Base):
    """Every column type the fixtures support."""

    __tablename__ = "sample"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    big: Mapped[int | None] = mapped_column(BigInteger)
    small: Mapped[int | None] = mapped_column(SmallInteger)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    ratio: Mapped[float | None] = mapped_column(Float)
    flag: Mapped[bool | None]
    label: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)
    blob: Mapped[bytes | None] = mapped_column(LargeBinary)
    day: Mapped[date | None] = mapped_column(Date)
    clock: Mapped[time | None] = mapped_column(Time)
    aware: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    naive: Mapped[datetime | None] = mapped_column(DateTime())
    uid: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    color: Mapped[Color | None] = mapped_column(Enum(Color, name="color"))
    data: Mapped[Any] = mapped_column(JSON, nullable=True)
    tags: Mapped[list[str] | None] = mapped_column(ARRAY(String).with_variant(JSON(), "sqlite"))


MODELS: list[Any] = [Org, Project, Team, Member, Category, OrgSetting, member_category, tag, Sample]

ALICE = uuid.UUID("018f0000-0000-7000-8000-00000000000a")
BOB = uuid.UUID("018f0000-0000-7000-8000-00000000000b")
CAROL = uuid.UUID("018f0000-0000-7000-8000-00000000000c")


async def seed(connection: AsyncConnection) -> None:
    """Rows that exercise every hard case, inserted the way an application would."""
    await connection.execute(
        insert(Org),
        [{"id": 1, "slug": "acme", "name": "Acme"}, {"id": 2, "slug": "globex", "name": "Globex"}],
    )
    await connection.execute(
        insert(Project),
        [{"id": 1, "org_id": 2, "code": "web"}, {"id": 2, "org_id": 1, "code": "web"}],
    )
    await connection.execute(
        insert(Team),
        [{"id": 1, "name": "red", "project_id": 2}, {"id": 2, "name": "blue", "project_id": None}],
    )
    await connection.execute(
        insert(Member),
        [
            {"id": ALICE, "email": "alice@example.com", "team_id": 1, "org_id": 1},
            {"id": BOB, "email": "bob@example.com", "team_id": 1, "org_id": 2},
            {"id": CAROL, "email": "carol@example.com", "team_id": None, "org_id": 1},
        ],
    )
    await connection.execute(Team.__table__.update().where(Team.id == 1).values(captain_id=ALICE))
    await connection.execute(
        insert(Category),
        [
            {"slug": "z-root"},
            {"slug": "m-child", "parent_slug": "z-root"},
            {"slug": "a-leaf", "parent_slug": "m-child"},  # sorts before its parents
        ],
    )
    await connection.execute(
        insert(OrgSetting),
        [
            {"org_id": 1, "key": "theme", "value": "dark"},
            {"org_id": 1, "key": "lang", "value": "fr"},
            {"org_id": 2, "key": "theme", "value": "light"},
        ],
    )
    await connection.execute(
        insert(member_category),
        [
            {"member_id": ALICE, "category_slug": "z-root"},
            {"member_id": BOB, "category_slug": "a-leaf"},
        ],
    )
    await connection.execute(insert(tag), [{"id": 1, "name": "dup"}, {"id": 2, "name": "dup"}])
    for sample in SAMPLES:  # one statement each: rows differ in the columns they set
        await connection.execute(insert(Sample).values(sample))


SAMPLES: list[dict[str, Any]] = [
    {
        "id": 1,
        "big": 2**63 - 1,
        "small": -(2**15),
        "amount": Decimal("-12345678.1234"),
        "ratio": 0.1,
        "flag": True,
        "label": 'héllo \u2603 🦄 \t\x01 "quoted" \\ back',
        "body": "line 1\nline 2\r\n\u2028end",
        "blob": bytes(range(256)),
        "day": date(1999, 12, 31),
        "clock": time(23, 59, 59, 123456),
        "aware": datetime(2024, 2, 29, 21, 30, 0, 654321, tzinfo=UTC),
        "naive": datetime(2024, 2, 29, 23, 30, 0, 1),
        "uid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "color": Color.GREEN,
        "data": {"nested": [1, 2.5, None, {"deep": True}], "text": "x"},
        "tags": ["a", "b c", "é"],
    },
    {
        "id": 2,
        "big": -(2**63),
        "small": 2**15 - 1,
        "amount": Decimal("0.0001"),
        "ratio": -0.0,
        "flag": False,
        "label": "",
        "body": "",
        "blob": b"",
        "day": date(1, 1, 1),
        "clock": time(0, 0),
        "aware": datetime(1970, 1, 1, tzinfo=UTC),
        "naive": datetime(9999, 12, 31, 23, 59, 59, 999999),
        "uid": uuid.UUID(int=0),
        "color": Color.RED,
        "data": None,  # a JSON null document, not SQL NULL
        "tags": [],
    },
    {"id": 3, "data": {"$json": 1}, "ratio": 1.7976931348623157e308},
    {"id": 2**40},  # every nullable column SQL NULL
]


def egg_and_hen(*, deferrable: bool) -> MetaData:
    """Two tables whose NOT NULL foreign keys form a cycle (egg -> hen -> egg), optionally
    DEFERRABLE INITIALLY IMMEDIATE: no row of either can be inserted first without deferral."""
    metadata = MetaData()
    options = {"deferrable": True, "initially": "IMMEDIATE"} if deferrable else {}
    Table(
        "egg",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("hen_id", ForeignKey("hen.id", use_alter=True, **options), nullable=False),
    )
    Table(
        "hen",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("egg_id", ForeignKey("egg.id", **options), nullable=False),
        Column("name", String(10)),
    )
    return metadata
