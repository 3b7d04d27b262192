"""Properties of the eligibility rules and the catalog format, over random catalogs and random accounts."""

from __future__ import annotations

import tomllib
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from retention_desk.domain.catalog import OfferSpec, total_cost
from retention_desk.domain.vocabulary import CONTRACT_TYPES, OFFER_KINDS
from retention_desk.offers.eligibility import REFUSAL_CODES, AccountFacts, PastOffer, check_offer, check_offers
from retention_desk.offers.words import describe_refusal
from retention_desk.services.catalog.files import offers_to_toml, parse_offers

PLANS = ["TV_ONLY", "BB_ONLY", "DUO_TV_BB", "TRIO"]
REGIONS = ["Oslo", "Vestland", "Troms", "Agder"]
SEGMENTS = ["family", "young_adult", "single", "senior", "student"]
HOLDINGS = ["tv", "broadband", "mobile", "premium", "tv:TV_MAX", "broadband:BB_1000", "premium:sport", "premium:film"]
CODES = ["DISC10", "DISC20", "CREDIT300", "SPORT3", "PAUSE3"]
TODAY = date(2026, 11, 26)

money = st.decimals(min_value=0, max_value=Decimal("99999999.99"), places=2, allow_nan=False, allow_infinity=False)
months = st.one_of(st.integers(0, 240), st.floats(0, 240, allow_nan=False, allow_infinity=False))
charges = st.one_of(st.integers(0, 3000), st.floats(0, 3000, allow_nan=False, allow_infinity=False))
days = st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31))
texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Z")), min_size=1, max_size=30)


def _subset(values: list[str]) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(values), min_size=1, max_size=len(values), unique=True)


def sometimes(strategy: st.SearchStrategy[Any], empty: Any = None) -> st.SearchStrategy[Any]:
    """``strategy`` about a third of the time: most offers have few rules, so some are permitted."""
    return st.sampled_from([False, True, True]).flatmap(lambda skip: st.just(empty) if skip else strategy)


@st.composite
def ranges(draw: st.DrawFn, low: str, high: str, values: st.SearchStrategy[Any]) -> dict[str, Any]:
    picked = draw(sometimes(st.lists(values, min_size=1, max_size=2), []))
    out: dict[str, Any] = {}
    if len(picked) == 2:
        out = {low: min(picked), high: max(picked)}
    elif picked and draw(st.booleans()):
        out = {low: picked[0]}
    elif picked:
        out = {high: picked[0]}
    return out


@st.composite
def rule_sets(draw: st.DrawFn) -> dict[str, Any]:
    rules: dict[str, Any] = {}
    for key, pool in (
        ("plans", PLANS),
        ("contract_types", list(CONTRACT_TYPES)),
        ("regions", REGIONS),
        ("segments", SEGMENTS),
        ("exclude_if_has", HOLDINGS),
    ):
        picked = draw(sometimes(_subset(pool)))
        if picked:
            rules[key] = picked
    rules.update(draw(ranges("min_tenure_months", "max_tenure_months", months)))
    rules.update(draw(ranges("min_monthly_charge", "max_monthly_charge", charges)))
    return rules


PARAMS = {
    "percent_discount": st.fixed_dictionaries({"percent": st.integers(1, 100)}),
    "bill_credit": st.fixed_dictionaries({"amount": st.integers(0, 5000)}),
    "premium_channel": st.fixed_dictionaries(
        {"channel": st.sampled_from(["sport", "film", "barn"])}, optional={"months": st.integers(1, 12)}
    ),
    "pause": st.fixed_dictionaries({"months": st.integers(1, 6)}),
    "upgrade": st.fixed_dictionaries({}, optional={"service": st.sampled_from(["tv", "broadband"])}),
    "downgrade": st.fixed_dictionaries({}, optional={"steps": st.integers(1, 3)}),
    "loyalty_bonus": st.fixed_dictionaries({}, optional={"amount": st.integers(0, 2000), "note": texts}),
}


@st.composite
def offer_specs(draw: st.DrawFn, code: st.SearchStrategy[str] | None = None) -> OfferSpec:
    kind = draw(st.sampled_from(OFFER_KINDS))
    valid = sorted(draw(sometimes(st.lists(days, min_size=1, max_size=2), [])))
    valid_from = valid[0] if valid and (len(valid) == 2 or draw(st.booleans())) else None
    valid_to = valid[-1] if valid and (len(valid) == 2 or valid_from is None) else None
    return OfferSpec(
        code=draw(st.sampled_from(CODES) if code is None else code),
        name=draw(texts).strip() or "Offer",
        script=draw(st.one_of(st.just(""), texts)).strip(),
        kind=kind,
        params=draw(PARAMS[kind]),
        duration_months=draw(st.one_of(st.none(), st.integers(1, 36))),
        cost_model=draw(st.sampled_from(["monthly", "one_off"])),
        cost_amount=draw(money),
        valid_from=valid_from,
        valid_to=valid_to,
        authority_tier=draw(st.integers(1, 3)),
        monthly_budget=draw(sometimes(money)),
        max_per_year=draw(st.one_of(st.none(), st.integers(1, 4))),
        cooldown_days=draw(st.one_of(st.none(), st.integers(0, 400))),
        prior_acceptance=draw(st.floats(0, 1, allow_nan=False)),
        rules=draw(rule_sets()),
        active=draw(st.sampled_from([True, True, True, True, True, False])),
    )


def past_offers(codes: tuple[str, ...], kinds: tuple[str, ...]) -> st.SearchStrategy[PastOffer]:
    return st.builds(
        PastOffer,
        code=st.sampled_from(codes),
        kind=st.sampled_from(kinds),
        at=st.builds(
            lambda d, s: datetime.combine(d, time(), tzinfo=UTC) + timedelta(seconds=s),
            st.dates(min_value=TODAY - timedelta(days=500), max_value=TODAY + timedelta(days=10)),
            st.integers(0, 86399),
        ),
        accepted=st.booleans(),
    )


def account_facts(
    codes: tuple[str, ...] = tuple(CODES), kinds: tuple[str, ...] = OFFER_KINDS
) -> st.SearchStrategy[AccountFacts]:
    return st.builds(
        AccountFacts,
        plan_code=st.sampled_from([*PLANS, None]),
        contract_type=st.sampled_from(CONTRACT_TYPES),
        tenure_months=st.sampled_from([True, True, True, False]).flatmap(
            lambda known: st.floats(0, 300, allow_nan=False) if known else st.none()
        ),
        monthly_charge=st.floats(0, 3000, allow_nan=False),
        region=st.sampled_from([*REGIONS, None]),
        segment=st.sampled_from([*SEGMENTS, None]),
        holdings=st.frozensets(st.sampled_from(HOLDINGS), max_size=3),
        past_offers=st.lists(past_offers(codes, kinds), max_size=8).map(tuple),
    )


@st.composite
def cases(draw: st.DrawFn) -> tuple[OfferSpec, AccountFacts]:
    """An offer and an account whose history often holds that same offer and kind, so history rules bite."""
    offer = draw(offer_specs())
    facts = draw(account_facts((offer.code, "OTHER"), (offer.kind, "bill_credit", "pause")))
    return offer, facts


budgets = sometimes(money)
tiers = st.integers(1, 3)


def expected_refusals(offer: OfferSpec, facts: AccountFacts, today: date, budget: Decimal | None) -> Counter[str]:
    """The rules restated one by one, each from the catalog README's wording, to compare with check_offer."""
    rules, out = offer.rules, Counter()
    out["inactive"] += not offer.active
    out["not_yet_valid"] += offer.valid_from is not None and today < offer.valid_from
    out["expired"] += offer.valid_to is not None and today > offer.valid_to
    out["plan"] += "plans" in rules and facts.plan_code not in rules["plans"]
    out["contract_type"] += "contract_types" in rules and facts.contract_type not in rules["contract_types"]
    tenure = facts.tenure_months
    out["min_tenure"] += "min_tenure_months" in rules and not (
        tenure is not None and tenure >= rules["min_tenure_months"]
    )
    out["max_tenure"] += "max_tenure_months" in rules and not (
        tenure is not None and tenure <= rules["max_tenure_months"]
    )
    out["min_charge"] += "min_monthly_charge" in rules and facts.monthly_charge < rules["min_monthly_charge"]
    out["max_charge"] += "max_monthly_charge" in rules and facts.monthly_charge > rules["max_monthly_charge"]
    out["region"] += "regions" in rules and facts.region not in rules["regions"]
    out["segment"] += "segments" in rules and facts.segment not in rules["segments"]
    out["already_has"] += len(set(rules.get("exclude_if_has", [])) & facts.holdings)
    ages = [(today - p.at.date()).days for p in facts.past_offers]
    same_kind = [age for age, p in zip(ages, facts.past_offers, strict=True) if p.kind == offer.kind and age >= 0]
    out["cooldown"] += bool(offer.cooldown_days) and bool(same_kind) and min(same_kind) < offer.cooldown_days
    redeemed = [
        age
        for age, p in zip(ages, facts.past_offers, strict=True)
        if p.code == offer.code and p.accepted and 0 <= age < 365
    ]
    out["max_per_year"] += offer.max_per_year is not None and len(redeemed) >= offer.max_per_year
    out["budget_spent"] += budget is not None and budget < total_cost(offer)
    return +out


@settings(max_examples=400, deadline=None)
@given(cases(), budgets, tiers, st.dates(min_value=date(2025, 6, 1), max_value=date(2027, 6, 1)))
def test_every_violated_rule_and_only_those_show_up_as_refusals(
    case: tuple[OfferSpec, AccountFacts], budget: Decimal | None, tier: int, today: date
) -> None:
    offer, facts = case
    verdict = check_offer(offer, facts, today=today, agent_tier=tier, budget_left=budget)
    assert Counter(r.code for r in verdict.refusals) == expected_refusals(offer, facts, today, budget)
    assert verdict.offer_code == offer.code


@settings(max_examples=300, deadline=None)
@given(cases(), budgets, tiers)
def test_permitted_exactly_when_nothing_refuses_and_approval_only_above_the_agents_tier(
    case: tuple[OfferSpec, AccountFacts], budget: Decimal | None, tier: int
) -> None:
    offer, facts = case
    verdict = check_offer(offer, facts, today=TODAY, agent_tier=tier, budget_left=budget)
    assert verdict.permitted == (not verdict.refusals)
    assert verdict.needs_approval == (verdict.permitted and offer.authority_tier > tier)
    for refusal in verdict.refusals:
        assert refusal.code in REFUSAL_CODES
        text = describe_refusal(refusal)
        assert text and "%(" not in text and "not permitted (" not in text


@settings(max_examples=200, deadline=None)
@given(cases(), budgets)
def test_a_stricter_offer_never_refuses_less(case: tuple[OfferSpec, AccountFacts], budget: Decimal | None) -> None:
    """Dropping every rule, limit and date can only take reasons away."""
    offer, facts = case
    loose = replace(offer, rules={}, valid_from=None, valid_to=None, max_per_year=None, cooldown_days=None, active=True)
    strict = check_offer(offer, facts, today=TODAY, agent_tier=3, budget_left=budget)
    relaxed = check_offer(loose, facts, today=TODAY, agent_tier=3, budget_left=budget)
    assert Counter(r.code for r in relaxed.refusals) <= Counter(r.code for r in strict.refusals)
    assert relaxed.permitted or [r.code for r in relaxed.refusals] == ["budget_spent"]


@settings(max_examples=100, deadline=None)
@given(st.lists(offer_specs(), max_size=6), account_facts(), st.dictionaries(st.sampled_from(CODES), budgets), tiers)
def test_check_offers_is_check_offer_for_each(
    offers: list[OfferSpec], facts: AccountFacts, left: dict[str, Decimal | None], tier: int
) -> None:
    verdicts = check_offers(offers, facts, today=TODAY, agent_tier=tier, budget_left=left)
    assert verdicts == [
        check_offer(o, facts, today=TODAY, agent_tier=tier, budget_left=left.get(o.code)) for o in offers
    ]


catalog_codes = st.from_regex(r"[A-Z0-9][A-Z0-9_-]{1,39}", fullmatch=True)


@settings(max_examples=200, deadline=None)
@given(st.lists(offer_specs(code=catalog_codes), min_size=1, max_size=6, unique_by=lambda o: o.code))
def test_exported_random_catalogs_load_back_equal(offers: list[OfferSpec]) -> None:
    assert parse_offers(tomllib.loads(offers_to_toml(offers))) == offers
