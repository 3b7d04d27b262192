"""The ranking: expected incremental value, "no offer" as an action, and propensities fit for unbiased learning."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retention_desk.config import OfferPolicy
from retention_desk.offers.ranking import (
    EXPLOIT,
    EXPLORE,
    HOLDOUT,
    Candidate,
    Decision,
    Response,
    expected_value,
    first_actions,
    plan_value,
    rank_offers,
)
from retention_desk.offers.value import customer_value, expected_remaining_months

POLICY = OfferPolicy(explore_share=0.08, holdout_share=0.02, max_offers_per_call=2)

probability = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
candidates = st.lists(
    st.builds(
        Candidate,
        offer_code=st.sampled_from([f"OFFER{i}" for i in range(12)]),
        p_stay=probability,
        p_accept=probability,
        total_cost=st.floats(min_value=0, max_value=5000, allow_nan=False),
        needs_approval=st.booleans(),
    ),
    max_size=10,
    unique_by=lambda c: c.offer_code,
)
share = st.one_of(st.just(0.0), st.floats(min_value=1e-4, max_value=0.5))  # configured shares, not denormals
policies = st.builds(
    OfferPolicy,
    explore_share=share,
    holdout_share=share,
    max_offers_per_call=st.integers(min_value=1, max_value=5),
    explore_by_rank=st.booleans(),
)
draws = st.tuples(st.floats(min_value=0, max_value=1, exclude_max=True), st.floats(0, 1, exclude_max=True))


def _rank(cands: list[Candidate], policy: OfferPolicy = POLICY, draw: tuple[float, float] = (0.5, 0.5), **kw):
    return rank_offers(
        candidates=cands, p_stay_none=kw.pop("p_none", 0.5), customer_value=5000.0, policy=policy, draws=draw, **kw
    )


@settings(max_examples=300, deadline=None)
@given(cands=candidates, p_none=probability, policy=policies, draw=draws, rules_only=st.booleans())
def test_logged_propensities_are_probabilities_that_sum_to_one_over_each_decision(
    cands: list[Candidate], p_none: float, policy: OfferPolicy, draw: tuple[float, float], rules_only: bool
) -> None:
    decision = _rank(cands, policy, draw, p_none=p_none, rules_only=rules_only)
    propensities = [item.propensity for item in decision.items]
    assert all(0.0 <= p <= 1.0 for p in propensities)
    assert sum(propensities) == pytest.approx(1.0, abs=1e-9)
    # What was chosen could have been chosen, and the stored list matches the distribution it was drawn from.
    assert decision.items[0].propensity > 0
    expected = first_actions(
        candidates=cands, p_stay_none=p_none, customer_value=5000.0, policy=policy, rules_only=rules_only
    )
    assert {i.offer_code: i.propensity for i in decision.items if not i.needs_approval} == pytest.approx(
        {action: p for action, (p, _) in expected.items()}
    )


@settings(max_examples=300, deadline=None)
@given(cands=candidates, policy=policies, draw=draws)
def test_only_the_given_candidates_are_ranked_and_none_more_than_once(
    cands: list[Candidate], policy: OfferPolicy, draw: tuple[float, float]
) -> None:
    decision = _rank(cands, policy, draw)
    codes = [item.offer_code for item in decision.items]
    assert sorted(c for c in codes if c) == sorted(c.offer_code for c in cands)
    assert codes.count(None) == 1
    assert [item.rank for item in decision.items] == list(range(1, len(codes) + 1))
    gated = {c.offer_code for c in cands if c.needs_approval}
    assert all(item.propensity == 0 for item in decision.items if item.offer_code in gated)
    assert decision.chosen not in gated
    assert len(decision.to_present(policy.max_offers_per_call)) <= policy.max_offers_per_call
    assert not set(decision.to_present(policy.max_offers_per_call)) & gated


def test_the_best_incremental_value_wins_not_the_likeliest_acceptance() -> None:
    # A big discount everyone takes (including those who would stay anyway) against a cheap, targeted credit.
    generous = Candidate("DISC30", p_stay=0.62, p_accept=0.9, total_cost=3240)
    targeted = Candidate("CREDIT300", p_stay=0.60, p_accept=0.3, total_cost=300)
    decision = _rank([generous, targeted], p_none=0.5, draw=(0.99, 0.0))
    assert decision.mode == EXPLOIT and decision.chosen == "CREDIT300"
    assert expected_value(targeted, 0.5, 5000) == pytest.approx(0.1 * 5000 - 0.3 * 300)


def test_no_offer_is_chosen_when_every_offer_loses_money() -> None:
    decision = _rank([Candidate("DISC30", 0.52, 0.9, 3240)], p_none=0.5, draw=(0.99, 0.0))
    assert decision.chosen is None and decision.to_present(2) == []
    assert decision.items[0].propensity == pytest.approx(1 - POLICY.explore_share)


def test_exploration_and_holdout_follow_the_first_draw() -> None:
    uniform = replace(POLICY, explore_by_rank=False)
    cands = [Candidate("A", 0.7, 0.3, 100), Candidate("B", 0.55, 0.3, 100), Candidate("C", 0.5, 0.5, 900)]
    holdout = _rank(cands, uniform, draw=(0.01, 0.0))
    assert holdout.mode == HOLDOUT and holdout.chosen is None and holdout.to_present(2) == []
    explore = _rank(cands, uniform, draw=(0.05, 0.99))
    assert explore.mode == EXPLORE and explore.chosen == "C"
    assert explore.items[0].propensity == pytest.approx(POLICY.explore_share / 3)
    exploit = _rank(cands, uniform, draw=(0.5, 0.0))
    assert exploit.chosen == "A"
    assert exploit.items[0].propensity == pytest.approx(1 - POLICY.holdout_share - POLICY.explore_share * 2 / 3)
    assert exploit.to_present(2) == ["A", "B"]  # the follow-up is the next offer worth more than nothing


def test_explored_calls_favour_the_offers_ranked_near_the_top_but_can_draw_any() -> None:
    # Values 1,500, 900, 300 and -1,300: explored with weights 1, 1/2, 1/3 and 1/4 (of their sum, 25/12).
    cands = [
        Candidate("LAST", 0.40, 0.5, 1600),
        Candidate("BEST", 0.90, 0.5, 1000),
        Candidate("THIRD", 0.60, 0.2, 1000),
        Candidate("SECOND", 0.80, 0.5, 1200),
    ]
    weights = {"BEST": 12 / 25, "SECOND": 6 / 25, "THIRD": 4 / 25, "LAST": 3 / 25}
    grid = [(i + 0.5) / 1000 for i in range(1000)]
    drawn = Counter(_rank(cands, draw=(0.05, u)).chosen for u in grid)
    for code, weight in weights.items():
        assert drawn[code] / len(grid) == pytest.approx(weight, abs=0.002)
        item = next(i for i in _rank(cands, draw=(0.05, 0.0)).items if i.offer_code == code)
        exploit = 1 - POLICY.explore_share - POLICY.holdout_share if code == "BEST" else 0.0
        assert item.propensity == pytest.approx(POLICY.explore_share * weight + exploit)


def test_a_decision_survives_its_stored_form() -> None:
    cands = [Candidate("A", 0.7, 0.3, 100), Candidate("B", 0.55, 0.3, 100, needs_approval=True)]
    decision = _rank(cands)
    again = Decision.from_log(decision.mode, [item.as_log() for item in decision.items])
    assert again.to_present(2) == decision.to_present(2)
    assert [i.offer_code for i in again.items] == [i.offer_code for i in decision.items]


def test_customer_value_grows_with_tenure_and_is_capped() -> None:
    assert expected_remaining_months(None) == 12
    assert expected_remaining_months(24) == 24
    assert expected_remaining_months(600) == 60
    assert customer_value(600, 24, 0.35) == pytest.approx(600 * 0.35 * 24)


def _split(code: str, cost: float, s: float, stayer: tuple[float, float], leaver: tuple[float, float]) -> Candidate:
    """An offer the joint model predicts by kind of caller: (P(yes), kept) for one who would stay, one who would go.
    Its P(stay | offer) − P(stay | none) and P(yes) are what the split implies."""
    (g, kept_s), (leave, kept_l) = stayer, leaver
    lift = s * g * kept_s + (1 - s) * leave * kept_l
    responses = (Response(s, g, kept_s), Response(1 - s, leave, kept_l))
    return Candidate(code, 0.5 + lift, s * g + (1 - s) * leave, cost, responses=responses)


@settings(max_examples=200, deadline=None)
@given(s=probability, g=probability, l_=probability, d=probability, d_none=probability, cost=st.floats(0, 5000))
def test_a_plan_of_one_offer_is_worth_its_expected_incremental_value(
    s: float, g: float, l_: float, d: float, d_none: float, cost: float
) -> None:
    split = _split("A", cost, s, (g, d - d_none), (l_, d))
    plain = replace(split, responses=())
    assert plan_value([split], 0.5, 5000.0) == pytest.approx(expected_value(split, 0.5, 5000.0), abs=1e-6)
    assert plan_value([plain], 0.5, 5000.0) == pytest.approx(expected_value(plain, 0.5, 5000.0), abs=1e-6)


def test_the_call_is_planned_as_a_whole_not_offer_by_offer() -> None:
    # Half the callers would stay anyway. A is worth the most alone, but nearly every would-be stayer takes it
    # as a gift; C costs nothing and keeps a few; B keeps leavers only, at a price. Greedy (by value alone) would
    # make A then C; the best plan of two leads with the free C, and whoever declines it hears A.
    s = 0.5
    a = _split("A", 50, s, (0.9, 0.0), (0.4, 1.0))
    b = _split("B", 400, s, (0.0, 0.0), (0.3, 1.0))
    c = _split("C", 0, s, (0.5, 0.2), (0.1, 1.0))
    value = 1000.0
    assert [expected_value(x, 0.5, value) for x in (a, b, c)] == pytest.approx([167.5, 90.0, 100.0])
    # After a "no" to A, few stayers are left (0.05 against 0.3 leavers), so B follows A better than C does.
    assert plan_value([a, b], 0.5, value) == pytest.approx(167.5 + 0.3 * 0.3 * 600)
    assert plan_value([a, c], 0.5, value) == pytest.approx(167.5 + 0.05 * 0.5 * 200 + 0.3 * 0.1 * 1000)
    decision = rank_offers(
        candidates=[a, b, c], p_stay_none=0.5, customer_value=value, policy=POLICY, draws=(0.99, 0.0)
    )
    orders = [[x] for x in (a, b, c)] + [[x, y] for x in (a, b, c) for y in (a, b, c) if x is not y]
    best = max(orders, key=lambda order: plan_value(order, 0.5, value))
    assert decision.to_present(2) == [x.offer_code for x in best] == ["C", "A"]
    assert plan_value(best, 0.5, value) > plan_value([a, b], 0.5, value) > plan_value([a, c], 0.5, value)
    assert [i.offer_code for i in decision.items[:2]] == ["C", "A"]  # the agent's list shows the plan first
    assert decision.items[1].propensity > 0  # A could still have come first (explored)
    again = Decision.from_log(decision.mode, [item.as_log() for item in decision.items])
    assert again.to_present(2) == ["C", "A"] and decision.to_present(1) == ["C"]
    # Explored with A first, the call goes on with the best follow-up to A.
    explored = next(
        d
        for u in (i / 100 for i in range(100))
        if (
            d := rank_offers(
                candidates=[a, b, c], p_stay_none=0.5, customer_value=value, policy=POLICY, draws=(0.05, u)
            )
        ).chosen
        == "A"
    )
    assert explored.mode == EXPLORE and explored.to_present(2) == ["A", "B"]


def test_calls_logged_before_plans_still_follow_up_with_the_next_best_offer() -> None:
    stored = [
        {"offer_code": "A", "rank": 1, "expected_value": 300.0, "propensity": 0.9},
        {"offer_code": None, "rank": 2, "expected_value": 0.0, "propensity": 0.05},
        {"offer_code": "C", "rank": 3, "expected_value": 120.0, "propensity": 0.03},
        {"offer_code": "B", "rank": 4, "expected_value": -10.0, "propensity": 0.02},
    ]
    assert Decision.from_log(EXPLOIT, stored).to_present(2) == ["A", "C"]
