from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import (
    Column,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    inspect,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from common.db import (
    NAMING_CONVENTION,
    Base,
    UTCDateTime,
    check_database,
    make_engine,
    make_sessionmaker,
)
from tests.harness import Backends, IsolatedDatabase

JST = ZoneInfo("Asia/Tokyo")


def _events_table() -> tuple[MetaData, Table]:
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    table = Table(
        "events",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("at", UTCDateTime(), nullable=True),
    )
    return metadata, table


@pytest.mark.services
def test_utc_datetime_round_trips_an_aware_datetime(db_schema: IsolatedDatabase) -> None:
    metadata, events = _events_table()
    metadata.create_all(db_schema.engine)
    pickup_jst = datetime(2024, 4, 1, 8, 30, 15, 123456, tzinfo=JST)
    with db_schema.engine.begin() as connection:
        connection.execute(events.insert(), [{"id": 1, "at": pickup_jst}, {"id": 2, "at": None}])
    with db_schema.engine.connect() as connection:
        rows = dict(connection.execute(select(events.c.id, events.c.at)).all())

        # Comparisons in SQL are bound through the type too, and work on the real instant
        # (08:30:15 JST is 23:30:15 UTC the day before).
        def ids_after(moment: datetime) -> list[int]:
            query = select(events.c.id).where(events.c.at > moment)
            return list(connection.execute(query).scalars())

        assert ids_after(datetime(2024, 3, 31, 23, 30, tzinfo=UTC)) == [1]
        assert ids_after(datetime(2024, 4, 1, 8, 31, tzinfo=JST)) == []
    stored = rows[1]
    assert stored is not None
    assert stored.tzinfo is not None
    assert stored.utcoffset() == timedelta(0)
    assert stored == pickup_jst
    assert stored == datetime(2024, 3, 31, 23, 30, 15, 123456, tzinfo=UTC)
    assert rows[2] is None


@pytest.mark.services
def test_utc_datetime_rejects_naive_datetimes(db_schema: IsolatedDatabase) -> None:
    metadata, events = _events_table()
    metadata.create_all(db_schema.engine)
    with (
        pytest.raises(StatementError, match="naive datetime") as info,
        db_schema.engine.begin() as connection,
    ):
        connection.execute(events.insert(), {"id": 1, "at": datetime(2024, 4, 1, 8, 30)})  # noqa: DTZ001  naive on purpose: it must be refused
    assert isinstance(info.value.orig, ValueError)
    with db_schema.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM events")).scalar_one() == 0


def test_utc_datetime_bind_rules_without_a_database() -> None:
    engine = make_engine("sqlite://")
    decorator = UTCDateTime()
    offset = timezone(timedelta(hours=-5))
    bound = decorator.process_bind_param(datetime(2024, 1, 1, 7, 0, tzinfo=offset), engine.dialect)
    assert bound == datetime(2024, 1, 1, 12, 0)  # noqa: DTZ001  SQLite stores the naive UTC wall time
    with pytest.raises(ValueError, match="naive"):
        decorator.process_bind_param(datetime(2024, 1, 1), engine.dialect)  # noqa: DTZ001  naive on purpose
    with pytest.raises(TypeError, match="needs a datetime"):
        decorator.process_bind_param("2024-01-01T00:00:00Z", engine.dialect)  # type: ignore[arg-type]


class _LocalBase(DeclarativeBase):
    """Test models live here, not on ``common.db.Base``, so they do not leak into the app."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class _Stop(_LocalBase):
    __tablename__ = "stops"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)


class _Visit(_LocalBase):
    __tablename__ = "visits"
    id: Mapped[int] = mapped_column(primary_key=True)
    stop_id: Mapped[int] = mapped_column(ForeignKey("stops.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


@pytest.mark.services
def test_orm_session_with_naming_convention(
    db_schema: IsolatedDatabase, db_session: Session
) -> None:
    db_schema.create_all(_LocalBase.metadata)
    inspector = inspect(db_schema.engine)
    assert [uq["name"] for uq in inspector.get_unique_constraints("stops")] == ["uq_stops_code"]
    assert [fk["name"] for fk in inspector.get_foreign_keys("visits")] == [
        "fk_visits_stop_id_stops"
    ]
    if db_schema.dialect == "postgresql":
        assert inspector.get_pk_constraint("stops")["name"] == "pk_stops"

    db_session.add(_Stop(id=1, code="KURATE-STN"))
    db_session.add(_Visit(id=1, stop_id=1, at=datetime(2024, 4, 1, 9, 0, tzinfo=JST)))
    db_session.commit()
    visit = db_session.get(_Visit, 1)
    assert visit is not None
    assert visit.at == datetime(2024, 4, 1, 0, 0, tzinfo=UTC)

    db_session.add(_Visit(id=2, stop_id=999, at=datetime.now(UTC)))
    with pytest.raises(IntegrityError):
        db_session.commit()  # foreign keys are enforced on SQLite as well


def test_base_metadata_has_the_naming_convention() -> None:
    assert Base.metadata.naming_convention["pk"] == "pk_%(table_name)s"
    assert set(NAMING_CONVENTION) == {"ix", "uq", "ck", "fk", "pk"}
    assert set(NAMING_CONVENTION) <= set(Base.metadata.naming_convention)


def test_make_engine_creates_sqlite_directory_and_enforces_foreign_keys(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "drt.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as connection:
            assert connection.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
            connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
        assert path.exists()
        factory = make_sessionmaker(engine)
        with factory() as session:
            assert session.execute(text("SELECT count(*) FROM t")).scalar_one() == 0
    finally:
        engine.dispose()


@pytest.mark.services
def test_check_database_reachable(service_backends: Backends, tmp_path: Path) -> None:
    url = (
        f"sqlite:///{tmp_path / 'probe.sqlite3'}"
        if service_backends.embedded
        else service_backends.database_url
    )
    assert check_database(url, timeout_s=3) is None


def test_check_database_unreachable_gives_a_reason() -> None:
    reason = check_database("postgresql+psycopg://postgres@127.0.0.1:1/test", timeout_s=2)
    assert reason is not None
    assert "OperationalError" in reason
    assert "\n" not in reason


def test_check_database_bad_url_gives_a_reason() -> None:
    reason = check_database("nosuchdialect://x:secret@host/db")
    assert reason is not None
    assert reason.startswith("invalid database URL")
    assert "secret" not in reason
