"""The residents' guide: what anyone may read without a login (the public `/guide/` page and
the printable `drt guide pdf`): hours, fares, how to book, and every meeting point by 大字.
Built from the live configuration and meeting points, so it never disagrees with the
service."""

from __future__ import annotations

from collections import defaultdict

from core import schemas as s
from core.world import World
from routing.stops import KINDS

FARE_LABELS = {"adult": "おとな(中学生以上)", "child": "こども(小学生)",
               "disability": "障がい者手帳をお持ちの方", "preschool": "小学生より小さいお子さま"}  # fmt: skip
DAY_TYPES = (("weekday", "平日"), ("saturday", "土曜日"), ("sunday", "日曜日"), ("holiday", "祝日"))


def _terms(world: World) -> tuple[list[s.GuideHours], list[str], list[s.GuideFare]]:
    """The service's hours by day type, closed days and fares, as the guide writes them."""
    config = world.config
    cal = config.calendar
    hours = []
    for key, label in DAY_TYPES:
        h = getattr(cal, key)
        hours.append(s.GuideHours(days=label, opens=f"{h.opens:%H:%M}", closes=f"{h.closes:%H:%M}"))
    closed = [f"{m}月{d}日" for m, d in sorted(cal.closures)]
    fares = [s.GuideFare(who=FARE_LABELS.get(k, k), yen=v) for k, v in config.fares.items()]
    return hours, closed, fares


def guide(world: World) -> s.Guide:
    config = world.config
    hours, closed, fares = _terms(world)
    by_district: dict[str, list[s.GuidePoint]] = defaultdict(list)
    for p in world.stops.points:
        by_district[p.district or "その他"].append(s.GuidePoint(
            id=p.id, name=p.name, short_name=p.label, kana=p.kana, kind=KINDS.get(p.kind, ""), lat=p.lat, lon=p.lon,
            closed_note=world.closures[p.id][2] if p.id in world.closures else None,
        ))  # fmt: skip
    return s.Guide(
        service=service_name(world),
        phone=config.operator_phone,
        hours=hours,
        closed_days=closed,
        fares=fares,
        book_ahead_days=config.policy.book_ahead_days,
        cancel_before_min=config.policy.cancel_cutoff_s // 60,
        districts=[s.GuideDistrict(name=name, points=points)
                   for name, points in sorted(by_district.items())],
        attribution="地図データ © OpenStreetMap contributors (ODbL)",
    )  # fmt: skip


def service_name(world: World) -> str:
    return f"{world.area.name}のりあいバス"


def faq_facts(world: World) -> dict[str, str]:
    """The bus's facts an answer of the FAQ bot may name (``town.faq.PLACEHOLDERS``), in
    the words of the guide, from the live configuration: hours, fares, phone, rules (not
    the guide's meeting points: this is asked for every question)."""
    hours, closed, guide_fares = _terms(world)
    policy = world.config.policy

    def said(h: s.GuideHours) -> str:
        def t(hhmm: str) -> str:
            hh, mm = (int(x) for x in hhmm.split(":"))
            return f"{hh}時" + (f"{mm}分" if mm else "")

        return f"{t(h.opens)}〜{t(h.closes)}"

    by_day = {h.days: said(h) for h in hours}
    weekend = {by_day["土曜日"], by_day["日曜日"], by_day["祝日"]}
    weekend_hours = (
        f"土日・祝日 {by_day['土曜日']}"
        if len(weekend) == 1
        else f"土曜日 {by_day['土曜日']}、日曜日 {by_day['日曜日']}、祝日 {by_day['祝日']}"
    )
    fares = {k: f"{v:,}円" if v else "無料" for k, v in world.config.fares.items()}
    phone = world.config.operator_phone or "町役場"
    return {
        "service": service_name(world),
        "town": world.area.name,
        "phone": phone,
        "town_phone": phone,  # the configuration names no town-hall number: the operator's
        "weekday_hours": f"平日 {by_day['平日']}",
        "weekend_hours": weekend_hours,
        "hours": f"平日 {by_day['平日']}、{weekend_hours}",
        "closed_days": "、".join(closed) or "ありません",
        "fares": "、".join(
            f"{f.who} {fares.get(k, '')}"
            for k, f in zip(world.config.fares, guide_fares, strict=True)
        ),
        **{f"fare_{k}": v for k, v in fares.items()},
        "how_to_book": f"LINEの「予約する」、お電話({phone})、町の予約アプリで予約できます。",
        "book_ahead_days": str(policy.book_ahead_days),
        "cancel_before_min": str(policy.cancel_cutoff_s // 60),
        "no_show_limit": str(policy.no_show_limit),
        "no_show_window_days": str(policy.no_show_window_days),
        "no_show_wait_min": str(max(1, round(policy.no_show_wait_s / 60))),
        "wheelchair_vehicles": str(sum(1 for v in world.config.vehicles if v.wheelchairs > 0)),
    }
