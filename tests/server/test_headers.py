"""Security headers on every response; ``Cache-Control: no-store`` on every /v1/ answer."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from httpx import Headers, Response

from tests.booking.conftest import Svc

pytestmark = pytest.mark.services

COMMON = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


def csp(headers: Headers) -> dict[str, str]:
    value = headers["content-security-policy"]
    out = {}
    for part in value.split(";"):
        name, _, rest = part.strip().partition(" ")
        out[name] = rest
    return out


def check(r: Response, *, api: bool) -> dict[str, str]:
    headers = r.headers
    for name, value in COMMON.items():
        assert headers.get(name) == value, (r.url, name, headers.get(name))
    policy = csp(headers)
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"
    assert "'unsafe-eval'" not in headers["content-security-policy"]
    if api:
        assert headers.get("cache-control") == "no-store", r.url
    return policy


def test_api_answers(svc: Svc, raw: TestClient, driver: str) -> None:
    _, token = svc.register()
    answers = [
        svc.client.get("/v1/residents/me", headers=svc.auth(token)),
        svc.client.get("/v1/residents/me"),  # 401
        svc.client.get("/v1/bookings/nope", headers=svc.auth(token)),  # 404
        svc.client.post("/v1/quotes", json={}, headers=svc.auth(token)),  # 422
        svc.client.post("/v1/auth/token", data={"username": "op", "password": "op-pass"}),
        svc.client.get("/v1/driver/manifest", headers=svc.auth(driver)),
        svc.client.get("/v1/driver/stream", params={"token": driver, "limit": 1}),
        svc.client.get("/v1/nothing-here"),
        svc.client.post("/v1/line/webhook", content=b"{}"),  # 503
        raw.get("/v1/bookings/%00", headers=svc.auth(token)),  # invalid_text from the middleware
    ]
    for r in answers:
        policy = check(r, api=True)
        assert policy["default-src"] == "'self'"
        assert "script-src" not in policy or "'unsafe-inline'" not in policy["script-src"]


def test_pages_and_other_answers(svc: Svc) -> None:
    for path in ("/healthz", "/openapi.json", "/driver/", "/driver/app.js", "/driver/style.css"):
        r = svc.client.get(path)
        assert r.status_code == 200, path
        policy = check(r, api=False)
        assert policy["default-src"] == "'self'"
        assert "unsafe-inline" not in r.headers["content-security-policy"]
    r = svc.client.get("/", follow_redirects=False)
    check(r, api=False)


def test_the_docs_page_loads_swagger_ui_from_the_app_only(svc: Svc) -> None:
    r = svc.client.get("/docs")
    assert r.status_code == 200
    policy = check(r, api=False)
    assert "cdn" not in r.text
    assert "https://" not in r.headers["content-security-policy"]
    assert "'unsafe-inline'" not in policy["script-src"]  # the page's own script by its hash
    assert "'sha256-" in policy["script-src"]
    assert "unsafe-eval" not in r.headers["content-security-policy"]
    for asset in ("/docs-assets/swagger-ui-bundle.js", "/docs-assets/swagger-ui.css"):
        assert svc.client.get(asset).status_code == 200, asset


def test_redoc_is_served_from_the_app_with_a_fresh_nonce_for_its_styles(svc: Svc) -> None:
    nonces = []
    for _ in range(2):
        r = svc.client.get("/redoc")
        assert r.status_code == 200
        policy = check(r, api=False)
        assert "https://" not in r.text
        assert "fonts.googleapis" not in r.text
        assert 'src="/docs-assets/redoc.standalone.js"' in r.text
        assert "unsafe-inline" not in r.headers["content-security-policy"]
        (nonce,) = [s for s in policy["style-src"].split() if s.startswith("'nonce-")]
        assert f'data-style-nonce="{nonce[7:-1]}"' in r.text  # the page's nonce, and only it
        nonces.append(nonce)
    assert nonces[0] != nonces[1]
    assert svc.client.get("/docs-assets/redoc.standalone.js").status_code == 200
    assert 'href="/redoc"' in svc.client.get("/").text
