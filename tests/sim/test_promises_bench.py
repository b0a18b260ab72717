"""`drt bench promises` variants: service parameters and operations settings by name."""

from __future__ import annotations

import pytest

from common.errors import ConfigError
from dispatch.params import ServiceParams
from drt.promises_cli import apply_variant
from tests.sim.conftest import shipped


def test_a_variant_sets_service_parameters_and_operations() -> None:
    sc = shipped("kurate-today")
    vsc, params = apply_variant(
        "asap_wait_stages_s=300,600; promise_slack_s=240;plan_travel_pct=110;peak_traffic=false",
        sc, ServiceParams(),
    )  # fmt: skip
    assert params.asap_wait_stages_s == (300, 600)
    assert params.promise_slack_s == 240
    assert params.plan_travel_pct == 110
    assert vsc.operations.peak_traffic is False
    assert vsc.operations.travel_noise_sigma == sc.operations.travel_noise_sigma
    assert apply_variant("", sc, ServiceParams()) == (sc, ServiceParams())


@pytest.mark.parametrize("variant", ["no_such_setting=1", "promise_slack_s", "promise_slack_s=900"])
def test_a_bad_variant_is_refused(variant: str) -> None:
    with pytest.raises(ConfigError):
        apply_variant(variant, shipped("kurate-today"), ServiceParams())
