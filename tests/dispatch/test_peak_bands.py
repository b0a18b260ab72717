"""The plan drives the area's peak periods slower, as the roads do (``plan_peak_traffic``):
a drive takes the factor of the band in which the stop it drives to is due. The line world
of ``conftest.py``: places 120 s apart, the stop overhead 30 s, the clock in seconds of the
day (08:00 = NOW), so no local offset."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common.errors import ConfigError
from dispatch.engine import Dispatcher
from dispatch.kernels import OK
from dispatch.model import Mode, Offer
from dispatch.params import ServiceParams, load_params
from tests.dispatch.conftest import NOW, H, ask, check_invariants, make_dispatcher

MORNING = ((7 * H, 9 * H, 150),)  # drives 50 % longer from 07:00 to 09:00


def _pickup(params: ServiceParams, now: int) -> tuple[int, int]:
    """A van at place 0; an ASAP rider from 3 to 5: (planned pickup, planned drop-off)."""
    d = make_dispatcher(vans=1, params=params)
    d.vehicles["v1"].available_s = now
    offer = d.quote(ask("r", 3, 5), now)
    assert isinstance(offer, Offer)
    check_invariants(d)
    return offer.promise.pickup_planned_s - now, offer.promise.dropoff_planned_s - now


def test_a_drive_to_a_stop_due_in_a_peak_takes_the_peak_factor() -> None:
    plain = ServiceParams()
    peak = ServiceParams(plan_peak_traffic=True).with_peak_bands(MORNING, 0)
    board = plain.dwell_board_s
    # free flow: 3 x 120 s to place 3 and the overhead; then 2 x 120 s to place 5
    assert _pickup(plain, NOW) == (390, 390 + board + 270)
    # in the band: 540 s of driving, then 360 s
    assert _pickup(peak, NOW) == (570, 570 + board + 390)
    # outside the band (10:00) the same request plans at free flow
    assert _pickup(peak, 10 * H) == (390, 390 + board + 270)


def test_bands_are_used_only_when_the_service_plans_with_them() -> None:
    assert ServiceParams().with_peak_bands(MORNING, 0).peak_bands == ()
    on = ServiceParams(plan_peak_traffic=True).with_peak_bands(MORNING, 32400)
    assert on.peak_pct(7 * H - 32400) == 150  # Unix seconds: 07:00 in Japan
    assert on.peak_pct(9 * H - 32400) == 100
    assert ServiceParams.from_json(on.to_json()) == on  # as the dispatch log keeps them


@pytest.mark.parametrize(
    "bands",
    [((9 * H, 8 * H, 120),), ((7 * H, 9 * H, 120), (8 * H, 10 * H, 110)), ((7 * H, 9 * H, 20),)],
)
def test_bands_must_be_spans_of_a_day_that_do_not_overlap(
    bands: tuple[tuple[int, int, int], ...],
) -> None:
    with pytest.raises(ConfigError, match="peak_bands"):
        ServiceParams(plan_peak_traffic=True, peak_bands=bands)


def test_a_service_file_cannot_set_the_bands_themselves(tmp_path: Path) -> None:
    """The peak hours are the area's (area.toml): one place to change them."""
    path = tmp_path / "service.toml"
    path.write_text("[promise]\nplan_peak_traffic = true\npeak_bands = [[0, 3600, 120]]\n")
    with pytest.raises(ConfigError, match="peak_bands"):
        load_params(path)
    path.write_text("[promise]\nplan_peak_traffic = true\n")
    assert load_params(path).plan_peak_traffic


def _every_plan_keeps(d: Dispatcher, now: int) -> None:
    for vid in d.vehicles:
        problem, stop_of, _ = d.build_problem([vid], None, now)
        assert problem.check(0, [stop_of[e] for e in d.plans[vid]]) == OK, vid


@settings(max_examples=60)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 5), st.integers(0, 5), st.sampled_from(list(Mode)), st.integers(0, 90)
        ).filter(lambda t: t[0] != t[1]),
        min_size=1,
        max_size=10,
    ),
    st.integers(8 * H + 15 * 60, 9 * H + 30 * 60),
)
def test_a_plan_made_in_bands_stays_feasible_in_them(
    wanted: list[tuple[int, int, Mode, int]], band_end: int
) -> None:
    """A stop keeps the band it was planned in: the windows a booking keeps after its quote
    are narrower than the ones searched, and their middle may lie in another band (a plan
    that the quote found feasible failed the check as soon as it was stored, which the
    fault tests' replay found on CI)."""
    params = ServiceParams(plan_peak_traffic=True).with_peak_bands(((7 * H, band_end, 180),), 0)
    d = make_dispatcher(vans=2, params=params)
    for i, (o, dest, mode, minute) in enumerate(wanted):
        at = None if mode == Mode.ASAP else NOW + 600 + 60 * minute
        offer = d.quote(ask(f"r{i}", o, dest, mode=mode, at=at), NOW)
        if isinstance(offer, Offer):
            d.confirm(offer.booking_id, NOW)
        _every_plan_keeps(d, NOW)
