"""The service's rules changed from the console (admins): the pickup window, the slack kept
inside it, how long an offer is held, the ride limit and the planning factors. A change is a
``set_params`` dispatch log command (``source: admin``), so every worker applies it at the
same point of its history without a restart, and a replay decides every earlier request with
the rules it was decided with. A later change of ``service.toml`` itself is logged at the
next start and wins again. Audited."""

from __future__ import annotations

from typing import Any

from common.errors import ConfigError, InvalidInput
from core import schemas as s
from core.commands import SetParams
from core.host import DispatchHost
from dispatch.params import ServiceParams
from residents.service import Actor, audit, require_staff

#: What an admin may change, with the Japanese label the console shows.
EDITABLE: dict[str, str] = {
    "pickup_window_s": "お迎えの時間帯の幅(秒)",
    "promise_slack_s": "お約束の内側に残す余裕(秒)",
    "hold_ttl_s": "空き確認の結果を押さえておく時間(秒)",
    "min_lead_s": "今からの予約に必要な最短の時間(秒)",
    "asap_max_wait_s": "「今すぐ」で待つ最長の時間(秒)",
    "depart_flex_s": "出発時刻の指定からずれてよい時間(秒)",
    "arrive_flex_s": "到着時刻の指定より早く着いてよい時間(秒)",
    "ride_alpha": "乗車時間の上限: 直行の何倍まで",
    "ride_beta_s": "乗車時間の上限: 直行に足す時間(秒)",
    "ride_cap_s": "乗車時間の上限(秒)",
    "plan_travel_pct": "計画で見込む走行時間(道路の標準に対する%)",
}


def _view(host: DispatchHost, params: ServiceParams) -> s.ServiceRules:
    file = host.world.file_params or params
    now, shipped = params.to_json(), file.to_json()
    return s.ServiceRules(
        rules=[s.ServiceRule(key=k, label_ja=label, value=now[k], file_value=shipped[k])
               for k, label in EDITABLE.items()],
    )  # fmt: skip


def get_rules(host: DispatchHost, actor: Actor) -> s.ServiceRules:
    require_staff(actor, "operator", "admin")
    with host.read() as view:
        return _view(host, view.params)


def change_rules(host: DispatchHost, actor: Actor, changes: dict[str, Any]) -> s.ServiceRules:
    """Apply an admin's changes (only the keys of ``EDITABLE``); validated as a whole, so a
    refused change changes nothing."""
    require_staff(actor, "admin")
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown or not changes:
        raise InvalidInput(
            f"変えられない項目です: {', '.join(unknown)}" if unknown else "変える項目を入れてください。",
            f"Not a rule that can be changed here: {', '.join(unknown)}" if unknown
            else "Give at least one rule to change.",
            field=unknown[0] if unknown else "rules", allowed=list(EDITABLE),
        )  # fmt: skip
    with host.write() as step:
        current = step.view.params.to_json()
        for key, value in changes.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidInput(f"「{EDITABLE[key]}」には数を入れてください。",
                                   f"{key} must be a number.", field=key)  # fmt: skip
        merged = {**current, **changes}
        try:
            params = ServiceParams.from_json(merged)
        except ConfigError as exc:
            raise InvalidInput(
                exc.message_ja, exc.message_en, field=str(exc.details.get("key", ""))
            ) from None
        changed = {k: [current[k], merged[k]] for k in changes if current[k] != merged[k]}
        if changed:
            step.do(SetParams(params.to_json(), source="admin"))
            audit(step.session, actor, "service.rules", changes=changed)
        return _view(host, params)
