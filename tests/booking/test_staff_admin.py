"""Admins manage the staff accounts; operators cannot. An account turned off, or given a new
password, signs out at once; nobody can turn off or demote their own account."""

from __future__ import annotations

import pytest

from residents.service import create_staff
from tests.booking.conftest import Svc

pytestmark = pytest.mark.services

NEW = {"username": "tanaka.h", "display_name": "田中 花子", "role": "operator",
       "password": "hanako-pass-1"}  # fmt: skip


def admin_token(svc: Svc) -> str:
    with svc.db.sessionmaker()() as s:
        create_staff(s, "chief", "chief-pass-long", "admin", "所長")
        s.commit()
    return login(svc, "chief", "chief-pass-long")


def login(svc: Svc, username: str, password: str) -> str:
    r = svc.client.post("/v1/auth/token", data={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def test_an_admin_opens_changes_and_turns_off_an_operator_account(svc: Svc) -> None:
    admin = svc.auth(admin_token(svc))
    r = svc.client.post("/v1/operator/staff", json=NEW, headers=admin)
    assert r.status_code == 201, r.text
    account = r.json()
    assert (account["username"], account["role"], account["active"]) == (
        "tanaka.h",
        "operator",
        True,
    )
    assert "password" not in r.text
    token = login(svc, "tanaka.h", "hanako-pass-1")
    me = svc.auth(token)
    assert (
        svc.client.get("/v1/operator/residents", params={"q": "0000"}, headers=me).status_code
        == 200
    )
    assert svc.client.get("/v1/operator/staff", headers=me).status_code == 403  # operators: no
    names = [a["username"] for a in svc.client.get("/v1/operator/staff", headers=admin).json()]
    assert "tanaka.h" in names
    again = svc.client.post("/v1/operator/staff", json=NEW, headers=admin)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "staff_exists")
    r = svc.client.patch(
        f"/v1/operator/staff/{account['id']}", json={"active": False}, headers=admin
    )
    assert (r.status_code, r.json()["active"]) == (200, False)
    gone = svc.client.get("/v1/operator/residents", params={"q": "0000"}, headers=me)
    assert gone.status_code == 401  # signed out at once
    refused = svc.client.post(
        "/v1/auth/token", data={"username": "tanaka.h", "password": "hanako-pass-1"}
    )
    assert refused.status_code == 401
    log = svc.client.get(
        "/v1/operator/audit", params={"action": "staff.update"}, headers=admin
    ).json()
    assert log[0]["details"] == {"staff": account["id"], "username": "tanaka.h", "active": False}
    assert log[0]["actor_name"] == "所長"


def test_a_new_password_ends_the_old_sessions_and_is_never_logged(svc: Svc) -> None:
    admin = svc.auth(admin_token(svc))
    account = svc.client.post("/v1/operator/staff", json=NEW, headers=admin).json()
    old = svc.auth(login(svc, "tanaka.h", "hanako-pass-1"))
    r = svc.client.patch(f"/v1/operator/staff/{account['id']}", json={"password": "another-pass-2"},
                         headers=admin)  # fmt: skip
    assert r.status_code == 200, r.text
    assert (
        svc.client.get("/v1/operator/residents", params={"q": "1"}, headers=old).status_code == 401
    )
    login(svc, "tanaka.h", "another-pass-2")
    log = svc.client.get(
        "/v1/operator/audit", params={"action": "staff.update"}, headers=admin
    ).json()
    assert log[0]["details"]["password"] == "changed"
    assert "another-pass-2" not in str(log)


def test_nobody_turns_off_or_demotes_their_own_account(svc: Svc) -> None:
    admin = svc.auth(admin_token(svc))
    me = next(a for a in svc.client.get("/v1/operator/staff", headers=admin).json()
              if a["username"] == "chief")  # fmt: skip
    for body in ({"active": False}, {"role": "operator"}):
        r = svc.client.patch(f"/v1/operator/staff/{me['id']}", json=body, headers=admin)
        assert (r.status_code, r.json()["error"]["code"]) == (409, "own_account")
    ok = svc.client.patch(f"/v1/operator/staff/{me['id']}", json={"display_name": "所長 山田"},
                          headers=admin)  # fmt: skip
    assert (ok.status_code, ok.json()["display_name"]) == (200, "所長 山田")


@pytest.mark.parametrize(
    "body",
    [{**NEW, "username": "Tanaka H"}, {**NEW, "role": "driver"}, {**NEW, "password": "short"},
     {**NEW, "display_name": ""}, {**NEW, "extra": 1}, {k: v for k, v in NEW.items() if k != "role"}],
)  # fmt: skip
def test_bad_accounts_say_why_and_open_nothing(svc: Svc, body: dict) -> None:
    admin = svc.auth(admin_token(svc))
    r = svc.client.post("/v1/operator/staff", json=body, headers=admin)
    assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_input")
    assert r.json()["error"]["message_ja"]
    names = [a["username"] for a in svc.client.get("/v1/operator/staff", headers=admin).json()]
    assert "tanaka.h" not in names
    missing = svc.client.patch("/v1/operator/staff/S-nosuch", json={"active": False}, headers=admin)
    assert missing.status_code == 404
