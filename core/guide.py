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


def guide(world: World) -> s.Guide:
    config = world.config
    cal = config.calendar
    hours = []
    for key, label in DAY_TYPES:
        h = getattr(cal, key)
        hours.append(s.GuideHours(days=label, opens=f"{h.opens:%H:%M}", closes=f"{h.closes:%H:%M}"))
    closed = sorted(cal.closures)
    by_district: dict[str, list[s.GuidePoint]] = defaultdict(list)
    for p in world.stops.points:
        by_district[p.district or "その他"].append(s.GuidePoint(
            id=p.id, name=p.name, short_name=p.label, kana=p.kana, kind=KINDS.get(p.kind, ""), lat=p.lat, lon=p.lon,
            closed_note=world.closures[p.id][2] if p.id in world.closures else None,
        ))  # fmt: skip
    return s.Guide(
        service=f"{world.area.name}のりあいバス",
        phone=config.operator_phone,
        hours=hours,
        closed_days=[f"{m}月{d}日" for m, d in closed],
        fares=[s.GuideFare(who=FARE_LABELS.get(k, k), yen=v) for k, v in config.fares.items()],
        book_ahead_days=config.policy.book_ahead_days,
        cancel_before_min=config.policy.cancel_cutoff_s // 60,
        districts=[s.GuideDistrict(name=name, points=points)
                   for name, points in sorted(by_district.items())],
        attribution="地図データ © OpenStreetMap contributors (ODbL)",
    )  # fmt: skip
