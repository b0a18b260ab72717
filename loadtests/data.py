"""The data a load run needs, made before it starts: staff, residents, tablets and drivers.

:func:`create_load_data` registers residents through the channel account (over HTTP, as an
app backend would), creates tablets and drivers in the database (``driver_app_api.service``,
as ``drt db add-tablet`` / ``add-driver`` do), signs the tablets and an operator in, and
returns what the Locust users read from the JSON file named by ``DRT_LOAD_DATA``
(``loadtests/locustfile.py``): sign-ins (scrypt) are not part of the measured load.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from core.rules import ServiceCalendar

OPERATOR = ("op", "op-pass", "operator")
CHANNEL = ("app", "app-pass", "channel")
STAFF: Sequence[tuple[str, str, str]] = (OPERATOR, CHANNEL)
DRIVER_PIN = "2468"


def service_windows(
    calendar: ServiceCalendar, now_s: float, *, lead_s: int = 20 * 60, days_ahead: int = 7,
    tail_s: int = 3600, min_s: int = 2 * 3600,
) -> list[tuple[int, int]]:  # fmt: skip
    """Depart-at ranges on the real clock: each service day from today to ``days_ahead``
    (today only from ``lead_s`` ahead of now; the last ``tail_s`` of a day left out, so trips
    end within the hours), skipping days with less than ``min_s`` left."""
    out = []
    for day in calendar.days(calendar.local_date(int(now_s)), days_ahead + 1):
        window = calendar.window_s(day)
        if window is None:
            continue
        start, end = max(window[0], int(now_s) + lead_s), window[1] - tail_s
        if end - start >= min_s:
            out.append((start, end))
    if not out:
        raise RuntimeError(f"no service day within {days_ahead} days")
    return out


def resident_phone(i: int) -> str:
    return f"080-{5000 + i // 10_000:04d}-{i % 10_000:04d}"


def staff_token(base: str, username: str, password: str) -> str:
    r = httpx.post(f"{base}/v1/auth/token", data={"username": username, "password": password},
                   timeout=30)  # fmt: skip
    r.raise_for_status()
    return str(r.json()["access_token"])


def register_residents(
    base: str, channel_token: str, n: int, first: int = 0
) -> list[dict[str, str]]:
    """``n`` residents registered by the channel account: id, bearer token and phone."""

    def one(i: int) -> dict[str, str]:
        phone = resident_phone(i)
        body = {"name": f"負荷 {i}", "kana": f"フカ {i}", "phone": phone,
                "address": "鞍手町大字中山 1", "birth_year": 1950, "consent": True}  # fmt: skip
        r = httpx.post(f"{base}/v1/residents", json=body, timeout=60,
                       headers={"Authorization": f"Bearer {channel_token}"})  # fmt: skip
        if r.status_code != 201:
            raise RuntimeError(f"registering resident {i}: {r.status_code} {r.text[:200]}")
        data = r.json()
        return {"id": str(data["resident"]["id"]), "token": str(data["token"]), "phone": phone}

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(first, first + n)))


def create_tablets(database_url: str, n: int) -> list[dict[str, str]]:
    """``n`` tablets (vehicles ``load-van-001``…) each with a driver of its own."""
    from common.db import make_engine, make_sessionmaker
    from driver_app_api.service import create_device, create_driver

    engine = make_engine(database_url)
    out = []
    try:
        with make_sessionmaker(engine)() as session:
            for i in range(1, n + 1):
                vehicle = f"load-van-{i:03d}"
                token = create_device(session, vehicle)
                login = f"{9000 + i}"
                create_driver(session, login, f"負荷運転手 {i}", DRIVER_PIN)
                out.append({"vehicle": vehicle, "device_token": token, "login": login,
                            "pin": DRIVER_PIN})  # fmt: skip
            session.commit()
    finally:
        engine.dispose()
    return out


def sign_in_tablets(base: str, tablets: list[dict[str, str]]) -> None:
    """Sign every tablet's driver in (adds ``access_token``): done before the run, as a
    van's tablet signs in once a shift; 100 sign-ins at once are a storm of scrypt hashes
    that no real morning sees."""

    def one(t: dict[str, str]) -> None:
        body = {"device_token": t["device_token"], "login": t["login"], "pin": t["pin"]}
        r = httpx.post(f"{base}/v1/driver/sessions", json=body, timeout=60)
        if r.status_code != 200:
            raise RuntimeError(f"signing in {t['vehicle']}: {r.status_code} {r.text[:200]}")
        t["access_token"] = str(r.json()["access_token"])

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(one, tablets))


def create_load_data(
    base: str, database_url: str, *, residents: int, tablets: int, line_secret: str | None,
    windows: list[tuple[int, int]], path: Path, callers: int = 0,
) -> dict[str, Any]:  # fmt: skip
    """Make the run's data and write it to ``path`` (JSON) for the Locust process.

    ``residents`` book in the app (one Locust user each); ``callers`` (default as many) are
    other residents, who phone the operators: a rider holds at most two open quotes (a
    third releases the oldest), so the two kinds never share a person."""
    channel = staff_token(base, CHANNEL[0], CHANNEL[1])
    tablet_rows = create_tablets(database_url, tablets)
    sign_in_tablets(base, tablet_rows)
    data: dict[str, Any] = {
        "operator_token": staff_token(base, OPERATOR[0], OPERATOR[1]),
        "residents": register_residents(base, channel, residents),
        "callers": register_residents(base, channel, callers or residents, first=residents),
        "tablets": tablet_rows,
        "line_secret": line_secret,
        "windows": [list(w) for w in windows],
        "stops": [f"KUR-{i:03d}" for i in range(1, 181)],
    }
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1))
    return data
