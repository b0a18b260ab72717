"""`drt db create-staff` on the embedded database: a second run says what it did not do."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from common.auth import verify_password
from common.db import make_engine, make_sessionmaker
from common.settings import load_settings
from drt.cli import app
from residents.models import Staff


def test_creating_an_existing_account_changes_nothing_and_says_so(embedded_cli: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    first = runner.invoke(app, ["db", "create-staff", "chief", "--role", "admin"],
                          input="first-long-password\nfirst-long-password\n")  # fmt: skip
    assert first.exit_code == 0, first.output
    assert "created admin chief" in first.output
    second = runner.invoke(app, ["db", "create-staff", "chief", "--role", "operator"],
                           input="other-long-password\nother-long-password\n")  # fmt: skip
    assert second.exit_code == 0, second.output
    assert "created" not in second.output  # it used to say "created operator chief"
    assert "nothing changed" in second.output
    engine = make_engine(load_settings().effective_database_url)
    try:
        with make_sessionmaker(engine)() as session:
            staff = session.scalar(select(Staff).where(Staff.username == "chief"))
            assert staff is not None
            assert staff.role == "admin"
            assert verify_password("first-long-password", staff.password_hash)
    finally:
        engine.dispose()
