"""NUL characters and lone surrogates anywhere in a request: 422 ``invalid_text``, never 500.

PostgreSQL cannot store NUL in text and no encoder can write a lone surrogate, so before
the middleware such input reached the database and failed there (500), or was stored on
SQLite. One check in ``server/app.py`` covers the path, the query string, JSON and form bodies.
"""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select

from residents import models as rm
from tests.booking.conftest import Svc

pytestmark = pytest.mark.services

RESIDENT = {
    "name": "鞍手 太郎", "kana": "クラテ タロウ", "phone": "090-1234-5678",
    "address": "鞍手町大字中山 1", "birth_year": 1950, "consent": True,
}  # fmt: skip


def residents(svc: Svc) -> int:
    with svc.db.sessionmaker()() as s:
        return s.scalar(select(func.count()).select_from(rm.Resident)) or 0


def assert_invalid_text(r: Response) -> None:
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "invalid_text"
    assert "文字" in error["message_ja"]
    assert "character" in error["message_en"]


def post_raw(client: TestClient, path: str, body: str, token: str) -> Response:
    """A JSON body as a client writes it: ``\\u0000`` / ``\\ud800`` escapes, ASCII bytes."""
    return client.post(
        path,
        content=body.encode("ascii"),
        headers={"Authorization": f"Bearer {token}", "content-type": "application/json"},
    )


@pytest.mark.parametrize("field", ["name", "kana", "address"])
@pytest.mark.parametrize("bad", ["\\u0000", "\\ud800", "\\udfff", "a\\u0000b"])
def test_json_strings_with_nul_or_lone_surrogates(
    svc: Svc, raw: TestClient, field: str, bad: str
) -> None:
    before = residents(svc)
    body = json.dumps({**RESIDENT, field: "X"}).replace('"X"', f'"{bad}"')
    assert_invalid_text(post_raw(raw, "/v1/residents", body, svc.channel_token))
    assert residents(svc) == before  # nothing stored


def test_nested_strings_and_keys_are_checked(svc: Svc, raw: TestClient) -> None:
    _, token = svc.register()
    q = '{"origin": "KUR-010", "destination": "KUR-001", "passengers": {"adult": 1, "\\u0000": 1}}'
    assert_invalid_text(post_raw(raw, "/v1/quotes", q, token))
    q = '{"origin": "KUR-010", "destination": "KUR-001\\ud83d", "passengers": {"adult": 1}}'
    assert_invalid_text(post_raw(raw, "/v1/quotes", q, token))


def test_raw_utf8_surrogate_bytes_in_a_json_body(svc: Svc, raw: TestClient) -> None:
    """Python's json decodes the bytes ED A0 80 to a lone surrogate; it must not get through."""
    body = json.dumps({**RESIDENT, "name": "X"}).encode().replace(b'"X"', b'"\xed\xa0\x80"')
    r = raw.post(
        "/v1/residents",
        content=body,
        headers={
            "Authorization": f"Bearer {svc.channel_token}",
            "content-type": "application/json",
        },
    )
    assert_invalid_text(r)


def test_a_good_body_still_passes(svc: Svc) -> None:
    body = json.dumps({**RESIDENT, "name": "鞍手 😀 花子"})
    r = post_raw(svc.client, "/v1/residents", body, svc.channel_token)
    assert r.status_code == 201, r.text
    assert r.json()["resident"]["name"] == "鞍手 😀 花子"


@pytest.mark.parametrize(
    "path", ["/v1/bookings/%00", "/v1/bookings/B%00x", "/v1/bookings/%ED%A0%80"]
)
def test_path_ids(svc: Svc, raw: TestClient, path: str) -> None:
    _, token = svc.register()
    assert_invalid_text(raw.get(path, headers=svc.auth(token)))
    assert_invalid_text(raw.post(path + "/cancel", headers=svc.auth(token)))


@pytest.mark.parametrize("query", ["q=%00", "q=090%00", "q=%ED%A0%80", "q%00=1"])
def test_query_strings(svc: Svc, raw: TestClient, query: str) -> None:
    r = raw.get(f"/v1/operator/residents?{query}", headers=svc.auth(svc.operator_token))
    assert_invalid_text(r)


@pytest.mark.parametrize(
    "form",
    [
        "username=op%00&password=op-pass",
        "username=op&password=%00",
        "username=%ED%A0%80&password=x",
    ],
)
def test_form_fields_of_the_oauth2_login(raw: TestClient, form: str) -> None:
    r = raw.post(
        "/v1/auth/token",
        content=form.encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert_invalid_text(r)


def test_multipart_form_fields(raw: TestClient) -> None:
    r = raw.post("/v1/auth/token", files={"username": (None, "op\x00"), "password": (None, "x")})
    assert_invalid_text(r)


def test_a_good_form_still_logs_in(svc: Svc) -> None:
    r = svc.client.post("/v1/auth/token", data={"username": "op", "password": "op-pass"})
    assert r.status_code == 200, r.text


def test_deeply_nested_json_is_malformed_not_a_crash(svc: Svc, raw: TestClient) -> None:
    body = "[" * 100_000 + "]" * 100_000
    r = post_raw(raw, "/v1/residents", body, svc.channel_token)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] in ("malformed_json", "invalid_input")


def test_binary_bodies_are_not_text(svc: Svc) -> None:
    """An image (the LINE stand-in takes the rich menu's PNG) is not checked as text."""
    r = svc.client.post("/v1/line/webhook", content=b"\x89PNG\r\n\x1a\n\x00\xff\xfe",
                        headers={"content-type": "image/png"})  # fmt: skip
    assert r.status_code == 503  # LINE is not configured here: the endpoint answered
    r = svc.client.post(
        "/v1/line/webhook", content=b"a\x00b", headers={"content-type": "text/plain"}
    )
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "invalid_text"
