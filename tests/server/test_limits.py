"""Every request body is bounded (1 MiB): 413 ``body_too_large``, read no further."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from tests.booking.conftest import Svc
from tests.line_channel.conftest import Line

pytestmark = pytest.mark.services

MIB = 1 << 20


def assert_too_large(r: Response) -> None:
    assert r.status_code == 413, r.text
    error = r.json()["error"]
    assert error["code"] == "body_too_large"
    assert error["message_ja"]
    assert "1 MiB" in error["message_en"]


def test_a_json_body_over_the_limit(svc: Svc, raw: TestClient) -> None:
    body = json.dumps({"name": "x" * (MIB + 10)})
    r = raw.post("/v1/residents", content=body, headers={
        **svc.auth(svc.channel_token), "content-type": "application/json"})  # fmt: skip
    assert_too_large(r)


def chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        yield b"x" * min(size, total - sent)
        sent += size


def test_a_chunked_body_without_content_length_is_cut_off(svc: Svc, raw: TestClient) -> None:
    r = raw.post("/v1/residents", content=chunks(3 * MIB), headers={
        **svc.auth(svc.channel_token), "content-type": "application/json"})  # fmt: skip
    assert_too_large(r)


def test_the_line_webhook_does_not_read_a_huge_body(line: Line) -> None:
    """A signed body of 2 MiB: refused before the signature is even computed."""
    event = line.st.text("U" + "0" * 32, "x" * (2 * MIB))
    body, signature = line.st.webhook_body(event)
    r = line.client.post("/v1/line/webhook", content=body, headers={
        "content-type": "application/json", "x-line-signature": signature})  # fmt: skip
    assert_too_large(r)
    r = line.client.post("/v1/line/webhook", content=chunks(2 * MIB), headers={
        "content-type": "application/json", "x-line-signature": signature})  # fmt: skip
    assert_too_large(r)


def test_a_body_under_the_limit_passes(svc: Svc) -> None:
    r = svc.client.post("/v1/line/webhook", content=b"{}" + b" " * (MIB - 100),
                        headers={"content-type": "application/json"})  # fmt: skip
    assert r.status_code != 413
