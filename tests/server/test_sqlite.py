"""Embedded mode (SQLite): WAL and a busy timeout, so "database is locked" waits instead."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from sqlalchemy import text

from common.db import make_engine


def test_sqlite_engines_use_wal_and_wait_when_busy(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/demo.sqlite3")
    try:
        with engine.connect() as c:
            assert c.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert c.execute(text("PRAGMA busy_timeout")).scalar() == 10_000
            assert c.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        engine.dispose()


def test_a_writer_waits_for_another_instead_of_failing(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/demo.sqlite3")
    try:
        with engine.begin() as c:
            c.execute(text("CREATE TABLE t (x INTEGER)"))
        held = threading.Event()

        def hold() -> None:
            with engine.begin() as c:
                c.execute(text("INSERT INTO t VALUES (1)"))  # takes the write lock
                held.set()
                time.sleep(0.5)

        thread = threading.Thread(target=hold)
        thread.start()
        held.wait(5)
        with engine.begin() as c:  # "database is locked" at once without a busy timeout
            c.execute(text("INSERT INTO t VALUES (2)"))
        thread.join()
        with engine.connect() as c:
            assert c.execute(text("SELECT count(*) FROM t")).scalar() == 2
    finally:
        engine.dispose()


def test_in_memory_sqlite_still_works() -> None:
    engine = make_engine("sqlite://")
    try:
        with engine.connect() as c:
            assert c.execute(text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()
