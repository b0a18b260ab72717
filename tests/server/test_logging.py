"""No personal data in logs: access lines without query strings, SQL errors without parameters."""

from __future__ import annotations

import io
import logging
import logging.config

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from common.db import make_engine
from server.logs import StripQueryString, log_config
from tests.harness import IsolatedDatabase

ACCESS_FORMAT = '%s - "%s %s HTTP/%s" %d'  # uvicorn's access log record


def access_record(path: str) -> logging.LogRecord:
    return logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, ACCESS_FORMAT,
                             ("127.0.0.1:50000", "GET", path, "1.1", 200), None)  # fmt: skip


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/v1/driver/stream?token=s3cret-session&limit=0", "/v1/driver/stream"),
        ("/v1/operator/residents?q=%E9%9E%8D%E6%89%8B", "/v1/operator/residents"),
        ("/v1/residents/me", "/v1/residents/me"),
        ("/?", "/"),
    ],
)
def test_the_filter_strips_query_strings(path: str, logged: str) -> None:
    record = access_record(path)
    assert StripQueryString().filter(record) is True  # the line is kept, only shorter
    assert record.getMessage() == f'127.0.0.1:50000 - "GET {logged} HTTP/1.1" 200'


def test_other_records_are_left_alone() -> None:
    record = logging.LogRecord(
        "uvicorn.error", logging.INFO, __file__, 1, "Started %s", ("x?y",), None
    )
    assert StripQueryString().filter(record) is True
    assert record.getMessage() == "Started x?y"


def test_the_logging_config_puts_the_filter_on_uvicorns_access_log() -> None:
    config = log_config("info")
    logger = logging.getLogger("uvicorn.access")
    saved = (logger.handlers[:], logger.filters[:], logger.level, logger.propagate)
    try:
        logging.config.dictConfig(config)
        stream = io.StringIO()
        for handler in logger.handlers:
            handler.setStream(stream)  # type: ignore[attr-defined]
        logger.info(ACCESS_FORMAT, "127.0.0.1:1", "GET", "/v1/driver/stream?token=abc", "1.1", 200)
        line = stream.getvalue()
        assert "/v1/driver/stream" in line
        assert "token" not in line
        assert "abc" not in line
    finally:
        logger.handlers[:], logger.filters[:] = saved[0], saved[1]
        logger.setLevel(saved[2])
        logger.propagate = saved[3]


def test_engines_hide_parameters_and_ping(db_schema: IsolatedDatabase, tmp_path: object) -> None:
    url = db_schema.engine.url
    engine = make_engine(url)
    try:
        assert engine.hide_parameters
        assert engine.pool._pre_ping  # type: ignore[attr-defined]
        with pytest.raises(DBAPIError) as caught, engine.connect() as c:
            c.execute(
                text("SELECT * FROM no_such_table WHERE phone = :phone"), {"phone": "09012345678"}
            )
        assert "09012345678" not in str(caught.value)
    finally:
        engine.dispose()
    sqlite = make_engine(f"sqlite:///{tmp_path}/x.sqlite3")
    try:
        assert sqlite.hide_parameters
        with pytest.raises(DBAPIError) as caught, sqlite.connect() as c:
            c.execute(
                text("SELECT * FROM no_such_table WHERE phone = :phone"), {"phone": "09012345678"}
            )
        assert "09012345678" not in str(caught.value)
    finally:
        sqlite.dispose()
