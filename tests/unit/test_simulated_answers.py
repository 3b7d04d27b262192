"""The simulator's callers: each answer keeps its true probability, and two policies that make different offers to
the same caller read the same die, so their difference is a difference of policy, not of luck."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from retention_desk.services.seeding import load_offers, load_plans
from retention_desk.synth.ground_truth import UNSAVABLE_SHARE
from retention_desk.synth.simulation import Callers, SimulatedWorld

OFFERS = [{"code": "WEAK", "kind": "bill_credit"}, {"code": "STRONG", "kind": "percent_discount"}]


def _callers(n: int = 20000) -> Callers:
    rng = np.random.default_rng(3)
    lift = np.column_stack([np.full(n, 0.1), np.full(n, 0.3)])
    return Callers(
        day=1,
        account_ids=np.arange(1, n + 1),
        reasons=np.full(n, "price", dtype=object),
        unsavable=np.zeros(n, dtype=bool),
        churn_p=np.full(n, 0.5),
        stays_anyway=rng.random(n) < 0.4,
        lift=lift,
        u_answer=rng.random(n),
        u_durable=rng.random(n),
        contract_type=np.full(n, "one_year", dtype=object),
    )


def test_answers_keep_their_probabilities_and_a_yes_to_the_weaker_offer_means_a_yes_to_the_stronger():
    world = SimulatedWorld({}, {}, {}, OFFERS)
    callers = _callers()
    weak = np.array([world.play(callers, i, ["WEAK"]).accepted == "WEAK" for i in range(len(callers))])
    strong = np.array([world.play(callers, i, ["STRONG"]).accepted == "STRONG" for i in range(len(callers))])
    stays = callers.stays_anyway
    # A would-be stayer takes an offer as a gift with P = 0.25 + 0.5 × lift; a would-be leaver with P = lift.
    assert weak[stays].mean() == pytest.approx(0.30, abs=0.015)
    assert strong[stays].mean() == pytest.approx(0.40, abs=0.015)
    assert weak[~stays].mean() == pytest.approx(0.10, abs=0.01)
    assert strong[~stays].mean() == pytest.approx(0.30, abs=0.015)
    assert not np.any(weak & ~strong)


def test_a_second_offer_keeps_its_own_odds_and_a_call_keeps_its_caller_by_the_whole_plan_s_odds():
    world = SimulatedWorld({}, {}, {}, OFFERS)
    callers = _callers()
    leavers = np.flatnonzero(~callers.stays_anyway)
    plays = {
        order: [world.play(callers, i, list(order)) for i in leavers]
        for order in (("WEAK",), ("WEAK", "STRONG"), ("STRONG", "WEAK"))
    }
    after_a_no = [o.answers[1][1] for o in plays[("WEAK", "STRONG")] if len(o.answers) == 2]
    # Given a no to WEAK (P = 0.1), STRONG is still taken with its own P = 0.3 (a second die would give the same;
    # the die of the first answer read again, 0.2 / 0.9).
    assert np.mean(after_a_no) == pytest.approx(0.30, abs=0.015)
    kept = {order: np.array([o.accepted is not None for o in outcomes]) for order, outcomes in plays.items()}
    assert kept[("WEAK", "STRONG")].mean() == pytest.approx(1 - 0.9 * 0.7, abs=0.015)
    # Both orders of the same two offers keep exactly the same callers, and adding an offer loses nobody.
    assert np.array_equal(kept[("WEAK", "STRONG")], kept[("STRONG", "WEAK")])
    assert not np.any(kept[("WEAK",)] & ~kept[("WEAK", "STRONG")])


def test_the_oracle_makes_the_best_plan_by_the_truth_s_own_reckoning():
    # Three offers whose true odds differ caller by caller; the oracle's plan must be worth at least every other
    # order of up to two offers, as ``expected`` values them (the figure the simulator reports).
    offers = [*OFFERS, {"code": "PAUSE", "kind": "pause"}]
    world = SimulatedWorld({}, {}, {}, offers)
    rng = np.random.default_rng(5)
    n = 60
    callers = _callers(n)
    callers.lift = rng.uniform(0.0, 0.6, (n, len(offers)))
    callers.churn_p = rng.uniform(0.05, 0.95, n)
    costs = {"WEAK": 300.0, "STRONG": 1500.0, "PAUSE": 250.0}
    codes = list(costs)
    orders = [[]] + [[a] for a in codes] + [[a, b] for a in codes for b in codes if a != b]
    planned_beats_one_by_one = 0
    for i in range(n):
        value = float(rng.uniform(2000, 20000))
        plan = world.oracle_order(callers, i, codes, value, costs, 2)
        worth = world.expected(callers, i, plan, value, costs)[0]
        best = max(world.expected(callers, i, order, value, costs)[0] for order in orders)
        assert worth == pytest.approx(best, abs=1e-6)
        by_value = sorted(codes, key=lambda c: -world.true_value(callers, i, c, value, costs[c]))
        one_by_one = [c for c in by_value if world.true_value(callers, i, c, value, costs[c]) > 0][:2]
        planned_beats_one_by_one += worth > world.expected(callers, i, one_by_one, value, costs)[0] + 1e-6
    assert planned_beats_one_by_one > 0  # planning is not the same as ranking offers one by one


def test_the_truth_split_as_the_offer_model_splits_it_values_an_offer_as_the_truth_does():
    # benchmarks/offer_model_parts.py swaps the model's parts for these one at a time: put back together they must
    # value an offer exactly as ``expected`` (offer by offer, kind of caller by kind) values a one-offer call, or the
    # benchmark would measure its own bookkeeping.
    world = SimulatedWorld({}, {}, {}, OFFERS)
    rng = np.random.default_rng(8)
    n = 40
    callers = _callers(n)
    callers.lift = rng.uniform(0.0, 0.6, (n, len(OFFERS)))
    callers.churn_p = rng.uniform(0.05, 0.95, n)
    callers.unsavable = rng.random(n) < 0.2
    for i in range(n):
        for code, cost in (("WEAK", 300.0), ("STRONG", 1500.0)):
            t = world.true_parts(callers, i, code)
            value = 9000.0
            kept = t.share * t.gift * t.stayer_kept + (1 - t.share) * t.leaver_yes * t.leaver_kept
            accepted = t.share * t.gift + (1 - t.share) * t.leaver_yes
            alone = world.expected(callers, i, [code], value, {code: cost})[0]
            assert kept * value - accepted * cost == pytest.approx(alone)
            assert world.true_value(callers, i, code, value, cost) == pytest.approx(alone)
            assert t.share == (0.0 if callers.unsavable[i] else pytest.approx(1 - callers.churn_p[i]))


def test_the_truth_behind_logged_calls_is_the_truth_the_simulated_callers_answer_by():
    offers = [o.as_dict() for o in load_offers()]
    as_of = date(2026, 11, 29)
    world = SimulatedWorld.regenerate(n_accounts=3000, seed=7, as_of=as_of, plans=load_plans(), offers=offers)
    callers = world.draw_callers(np.random.default_rng(1), day=4, active_ids=np.arange(1, 3001), n_calls=400)
    n, again = len(callers), callers.account_ids[:5]
    # Five accounts called twice: 200 days before the world's date, and on day 4.
    share, gift, leaver = world.logged_truth(
        np.concatenate([callers.account_ids, again]),
        np.concatenate([np.full(n, 4), np.full(5, -200)]),
        np.concatenate([callers.reasons, callers.reasons[:5]]),
    )
    unsavable_share = np.array([UNSAVABLE_SHARE.get(r, 0.0) for r in callers.reasons])
    np.testing.assert_allclose(share[:n], (1 - unsavable_share) * (1 - callers.churn_p))
    savable = unsavable_share == 0
    np.testing.assert_allclose(leaver[:n][savable], callers.lift[savable])
    np.testing.assert_allclose(gift[:n][savable], 0.25 + 0.5 * callers.lift[savable])
    # Where some callers of a reason cannot be saved, the log's would-be leaver says yes less often than one who can.
    some = ~savable & ~callers.unsavable
    assert np.all(leaver[:n][some] < callers.lift[some] + 1e-12)
    assert np.any(leaver[:n][some] < callers.lift[some] - 0.01)
    # Each call is read on its own day.
    earlier = world.logged_truth(again, np.full(5, -200), callers.reasons[:5])
    for got, alone in zip((share, gift, leaver), earlier, strict=True):
        np.testing.assert_allclose(got[n:], alone)
