"""Who may be offered what: every rule refuses with its reason in the agent's words, and authority is not a rule."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from flask import Flask
from flask_babel import Babel

from retention_desk.domain.catalog import DEFAULT_OPEN_ENDED_MONTHS, OfferSpec, total_cost
from retention_desk.offers import eligibility as el
from retention_desk.offers.eligibility import (
    AccountFacts,
    PastOffer,
    Refusal,
    check_offer,
    check_offers,
    facts_from_snapshot,
)
from retention_desk.offers.words import PHRASES, describe_refusal
from retention_desk.services.catalog.files import load_offers
from retention_desk.storage.snapshots import AccountSnapshot, OfferItem, ServiceItem

TODAY = date(2026, 11, 26)


def offer(**changes: object) -> OfferSpec:
    base = OfferSpec(
        code="TEST",
        name="Test offer",
        kind="percent_discount",
        cost_model="monthly",
        cost_amount=Decimal("100.00"),
        params={"percent": 10},
        duration_months=6,
    )
    return replace(base, **changes)


def facts(**changes: object) -> AccountFacts:
    base = AccountFacts(
        plan_code="TRIO",
        contract_type="month_to_month",
        tenure_months=30.0,
        monthly_charge=900.0,
        region="Oslo",
        segment="family",
        holdings=frozenset({"tv", "tv:TV_BASIC", "broadband", "broadband:BB_300"}),
        past_offers=(),
    )
    return replace(base, **changes)


def days_ago(days: int) -> datetime:
    return datetime.combine(TODAY - timedelta(days=days), datetime.min.time(), tzinfo=UTC) + timedelta(hours=10)


def codes(verdict: el.Verdict) -> list[str]:
    return [r.code for r in verdict.refusals]


def words(verdict: el.Verdict) -> list[str]:
    return [describe_refusal(r) for r in verdict.refusals]


def check(spec: OfferSpec, account: AccountFacts | None = None, **kwargs: object) -> el.Verdict:
    kwargs.setdefault("agent_tier", 1)
    return check_offer(spec, account or facts(), today=TODAY, **kwargs)


# --- total cost ---------------------------------------------------------------------------------------------


def test_a_monthly_offer_costs_its_monthly_amount_times_its_duration() -> None:
    assert total_cost(offer(cost_amount=Decimal("70"), duration_months=6)) == Decimal("420.00")


def test_a_monthly_offer_without_a_duration_counts_a_year() -> None:
    assert DEFAULT_OPEN_ENDED_MONTHS == 12
    assert total_cost(offer(cost_amount=Decimal("150"), duration_months=None)) == Decimal("1800.00")


def test_a_one_off_offer_costs_its_amount_whatever_its_duration() -> None:
    assert total_cost(offer(cost_model="one_off", cost_amount=Decimal("600"), duration_months=12)) == Decimal("600.00")


# --- single rules -------------------------------------------------------------------------------------------


def test_an_offer_without_rules_is_permitted_and_needs_no_approval_at_the_agents_tier() -> None:
    verdict = check(offer())
    assert verdict == el.Verdict("TEST", permitted=True, needs_approval=False, refusals=())


def test_an_offer_above_the_agents_tier_is_permitted_but_needs_approval() -> None:
    verdict = check(offer(authority_tier=2), agent_tier=1)
    assert verdict.permitted and verdict.needs_approval and verdict.refusals == ()
    assert not check(offer(authority_tier=2), agent_tier=2).needs_approval


def test_a_refused_offer_never_needs_approval() -> None:
    verdict = check(offer(authority_tier=3, active=False), agent_tier=1)
    assert not verdict.permitted and not verdict.needs_approval


def test_a_retired_offer_is_refused() -> None:
    verdict = check(offer(active=False))
    assert codes(verdict) == ["inactive"]
    assert words(verdict) == ["this offer is retired"]


def test_the_validity_window_includes_its_first_and_last_day() -> None:
    assert check(offer(valid_from=TODAY, valid_to=TODAY)).permitted
    early = check(offer(valid_from=TODAY + timedelta(days=1)))
    late = check(offer(valid_to=TODAY - timedelta(days=1)))
    assert codes(early) == ["not_yet_valid"] and words(early) == ["can be offered from Nov 27, 2026"]
    assert codes(late) == ["expired"] and words(late) == ["could be offered until Nov 25, 2026"]


def test_plan_and_contract_rules_name_what_the_account_has() -> None:
    verdict = check(offer(rules={"plans": ["TV_ONLY", "DUO_TV_BB"], "contract_types": ["one_year", "two_year"]}))
    assert codes(verdict) == ["plan", "contract_type"]
    assert words(verdict) == [
        "only for plans TV_ONLY, DUO_TV_BB (has TRIO)",
        "only for one-year, two-year contracts (has month-to-month)",
    ]


def test_tenure_limits_are_inclusive_and_count_whole_months_in_words() -> None:
    assert check(offer(rules={"min_tenure_months": 30, "max_tenure_months": 30})).permitted
    young = check(offer(rules={"min_tenure_months": 6}), facts(tenure_months=3.9))
    assert young.refusals == (Refusal("min_tenure", {"months": 6, "has": 3.9}),)
    assert words(young) == ["needs 6 months with us (has 3)"]
    old = check(offer(rules={"max_tenure_months": 12}))
    assert words(old) == ["only for customers of at most 12 months (has 30)"]


def test_an_unknown_tenure_fails_both_tenure_rules() -> None:
    verdict = check(offer(rules={"min_tenure_months": 1, "max_tenure_months": 12}), facts(tenure_months=None))
    assert codes(verdict) == ["min_tenure", "max_tenure"]
    assert words(verdict)[0] == "needs 1 month with us (how long is not known)"


def test_charge_limits_are_inclusive() -> None:
    assert check(offer(rules={"min_monthly_charge": 900, "max_monthly_charge": 900})).permitted
    verdict = check(offer(rules={"min_monthly_charge": 1000, "max_monthly_charge": 500}))
    assert codes(verdict) == ["min_charge", "max_charge"]
    assert words(verdict) == [
        "needs a monthly charge of at least 1,000 (pays 900)",
        "only for a monthly charge of at most 500 (pays 900)",
    ]


def test_region_and_segment_rules_refuse_other_and_unknown_values() -> None:
    spec = offer(rules={"regions": ["Vestland"], "segments": ["young_adult", "student"]})
    assert words(check(spec)) == [
        "only in Vestland (lives in Oslo)",
        "only for customers who are young adult, student (is family)",
    ]
    assert words(check(spec, facts(region=None, segment=None))) == [
        "only in Vestland (region not known)",
        "only for customers who are young adult, student (segment not known)",
    ]


def test_each_excluded_holding_the_account_has_is_its_own_reason() -> None:
    spec = offer(rules={"exclude_if_has": ["tv", "broadband:BB_1000", "premium:sport", "broadband:BB_300"]})
    verdict = check(spec)
    assert verdict.refusals == (
        Refusal("already_has", {"item": "tv"}),
        Refusal("already_has", {"item": "broadband:BB_300"}),
    )
    assert words(verdict) == ["already has TV", "already has broadband BB_300"]


def test_the_cooldown_counts_from_the_last_offer_of_the_same_kind_accepted_or_declined() -> None:
    past = (
        PastOffer("DISC10", "percent_discount", days_ago(200), accepted=True),
        PastOffer("DISC20", "percent_discount", days_ago(40), accepted=False),
        PastOffer("CREDIT300", "bill_credit", days_ago(1), accepted=True),
    )
    verdict = check(offer(cooldown_days=90), facts(past_offers=past))
    assert verdict.refusals == (Refusal("cooldown", {"kind": "percent_discount", "days_ago": 40, "wait_days": 90}),)
    assert words(verdict) == ["had a discount 40 days ago; wait 90 days between offers of this kind"]
    assert check(offer(cooldown_days=40), facts(past_offers=past)).permitted
    assert check(offer(cooldown_days=0), facts(past_offers=past)).permitted


def test_an_offer_made_earlier_today_starts_the_cooldown() -> None:
    past = (PastOffer("X", "percent_discount", days_ago(0), accepted=False),)
    assert words(check(offer(cooldown_days=1), facts(past_offers=past))) == [
        "had a discount today; wait 1 day between offers of this kind"
    ]


def test_max_per_year_counts_only_acceptances_of_this_offer_in_the_last_365_days() -> None:
    past = (
        PastOffer("TEST", "percent_discount", days_ago(364), accepted=True),
        PastOffer("TEST", "percent_discount", days_ago(365), accepted=True),  # just outside the window
        PastOffer("TEST", "percent_discount", days_ago(30), accepted=False),  # declined: not a redemption
        PastOffer("OTHER", "percent_discount", days_ago(10), accepted=True),  # another offer
    )
    refused = check(offer(max_per_year=1), facts(past_offers=past))
    assert refused.refusals == (Refusal("max_per_year", {"limit": 1, "count": 1}),)
    assert words(refused) == ["accepted it 1 time in the last 12 months; at most 1 a year"]
    assert check(offer(max_per_year=2), facts(past_offers=past)).permitted


def test_offers_dated_after_today_are_not_history_yet() -> None:
    future = (PastOffer("TEST", "percent_discount", days_ago(-3), accepted=True),)
    assert check(offer(max_per_year=1, cooldown_days=90), facts(past_offers=future)).permitted


def test_a_budget_that_cannot_cover_the_total_cost_refuses_and_no_budget_means_no_cap() -> None:
    spec = offer(monthly_budget=Decimal("10000"))  # total cost 600
    assert check(spec, budget_left=Decimal("600")).permitted
    verdict = check(spec, budget_left=Decimal("599.99"))
    assert verdict.refusals == (Refusal("budget_spent", {"left": Decimal("599.99"), "cost": Decimal("600.00")}),)
    assert words(verdict) == ["this month's budget is spent"]
    assert check(spec, budget_left=None).permitted


def test_every_reason_that_applies_is_given_not_just_the_first() -> None:
    spec = offer(
        active=False,
        valid_to=TODAY - timedelta(days=1),
        rules={"plans": ["BB_ONLY"], "min_tenure_months": 48, "exclude_if_has": ["tv"]},
        cooldown_days=30,
    )
    past = (PastOffer("X", "percent_discount", days_ago(5), accepted=True),)
    verdict = check(spec, facts(past_offers=past), budget_left=Decimal("0"))
    assert codes(verdict) == ["inactive", "expired", "plan", "min_tenure", "already_has", "cooldown", "budget_spent"]


def test_check_offers_gives_one_verdict_per_offer_with_its_own_budget() -> None:
    offers = [offer(code="A", monthly_budget=Decimal("100")), offer(code="B"), offer(code="C", authority_tier=2)]
    verdicts = check_offers(offers, facts(), today=TODAY, agent_tier=1, budget_left={"A": Decimal("0")})
    assert [(v.offer_code, v.permitted, v.needs_approval) for v in verdicts] == [
        ("A", False, False),
        ("B", True, False),
        ("C", True, True),
    ]


# --- facts from a stored account ----------------------------------------------------------------------------


def test_facts_from_a_snapshot_hold_tenure_current_services_and_offer_history() -> None:
    snapshot = AccountSnapshot(
        account_id=1,
        contract_type="one_year",
        customer_since=TODAY - timedelta(days=365),
        monthly_charge=712.5,
        segment="senior",
        region="Oslo",
        plan_code="DUO_TV_BB",
        services=[
            ServiceItem("tv", "TV_MAX", 399.0, started_on=date(2020, 1, 1)),
            ServiceItem("premium", "PREM_SPORT", 499.0, started_on=TODAY),  # started today: held
            ServiceItem("premium", "PREM_FILM", 149.0, started_on=date(2024, 1, 1), ended_on=TODAY),  # ended
            ServiceItem("broadband", "BB_1000", 699.0, started_on=TODAY + timedelta(days=1)),  # not yet
        ],
        offers=[
            OfferItem("DISC10", "percent_discount", days_ago(10), "declined"),
            OfferItem("SPORT3", "premium_channel", days_ago(100), "accepted"),
        ],
    )
    got = facts_from_snapshot(snapshot, TODAY)
    assert got.tenure_months == pytest.approx(12.0, abs=0.01)
    assert got.holdings == {"tv", "tv:TV_MAX", "premium", "premium:PREM_SPORT", "premium:sport"}
    assert got.past_offers == (
        PastOffer("SPORT3", "premium_channel", days_ago(100), True),
        PastOffer("DISC10", "percent_discount", days_ago(10), False),
    )
    assert (got.plan_code, got.contract_type, got.monthly_charge, got.region, got.segment) == (
        "DUO_TV_BB",
        "one_year",
        712.5,
        "Oslo",
        "senior",
    )


def test_an_account_without_a_start_date_has_an_unknown_tenure() -> None:
    assert facts_from_snapshot(AccountSnapshot(account_id=1), TODAY).tenure_months is None


def test_the_seed_catalogs_sport_offer_is_refused_to_an_account_with_sport_already() -> None:
    sport = next(o for o in load_offers() if o.code == "SPORT3")
    snapshot = AccountSnapshot(
        account_id=1,
        plan_code="TRIO",
        customer_since=date(2020, 1, 1),
        services=[ServiceItem("tv", "TV_BASIC"), ServiceItem("premium", "PREM_SPORT")],
    )
    verdict = check(sport, facts_from_snapshot(snapshot, TODAY))
    assert words(verdict) == ["already has premium channel sport"]


# --- words --------------------------------------------------------------------------------------------------


def test_every_refusal_code_has_words() -> None:
    assert set(PHRASES) == set(el.REFUSAL_CODES)


def test_an_unknown_refusal_code_still_reads_as_a_sentence() -> None:
    assert describe_refusal(Refusal("new_rule", {})) == "not permitted (new_rule)"


def test_words_are_the_same_inside_a_flask_app_as_outside_in_english() -> None:
    refusals = [
        Refusal("min_tenure", {"months": 6, "has": 3.2}),
        Refusal("cooldown", {"kind": "bill_credit", "days_ago": 1, "wait_days": 60}),
        Refusal("min_charge", {"amount": 1200, "has": 999.5}),
        Refusal("expired", {"to": date(2026, 1, 31)}),
        Refusal("budget_spent", {"left": Decimal("0"), "cost": Decimal("300")}),
    ]
    outside = [describe_refusal(r) for r in refusals]
    app = Flask(__name__)
    Babel(app)
    with app.test_request_context():
        inside = [describe_refusal(r) for r in refusals]
    assert (
        inside
        == outside
        == [
            "needs 6 months with us (has 3)",
            "had a bill credit 1 day ago; wait 60 days between offers of this kind",
            "needs a monthly charge of at least 1,200 (pays 999.5)",
            "could be offered until Jan 31, 2026",
            "this month's budget is spent",
        ]
    )
