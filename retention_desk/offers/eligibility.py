"""Which catalog offers an agent may make to an account, and every reason why not.

Pure functions over plain data (no database, no Flask), so the desk, the simulator and the property tests call
exactly the same rules. The catalog side of each rule is described in seed/README.md.

Decisions worth knowing:

- A rule that cannot be checked refuses: an unknown tenure fails both tenure rules, an unknown plan, region or
  segment is not "in the list". The agent sees why, and nothing is given away on a guess.
- ``max_per_year`` counts *redemptions* (the issue's word): offers of this code the account accepted in the
  365 days up to today. Declined offers do not count; spacing out offers the caller turned down is what the
  cooldown is for.
- ``cooldown_days`` counts from the last offer of the same kind the account received, accepted or declined.
- Only history dated on or before ``today`` counts; a service counts as held from its start day up to the day
  before its end day (the present, unlike the churn features, which see only what was true before the day began).
- Authority is not a refusal: an offer above the agent's tier is permitted and ``needs_approval``.
- An offer whose month's budget cannot cover its total cost is refused; ``budget_left=None`` means no cap.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from retention_desk.domain.catalog import OfferSpec, total_cost
from retention_desk.storage.snapshots import AccountSnapshot

DAYS_PER_MONTH = 30.4375  # the same month the churn features measure tenure in
REDEMPTION_WINDOW_DAYS = 365

# Refusal codes, in the order check_offer reports them.
INACTIVE = "inactive"
NOT_YET_VALID = "not_yet_valid"
EXPIRED = "expired"
PLAN = "plan"
CONTRACT_TYPE = "contract_type"
MIN_TENURE = "min_tenure"
MAX_TENURE = "max_tenure"
MIN_CHARGE = "min_charge"
MAX_CHARGE = "max_charge"
REGION = "region"
SEGMENT = "segment"
ALREADY_HAS = "already_has"
COOLDOWN = "cooldown"
MAX_PER_YEAR = "max_per_year"
BUDGET_SPENT = "budget_spent"
REFUSAL_CODES = (
    INACTIVE,
    NOT_YET_VALID,
    EXPIRED,
    PLAN,
    CONTRACT_TYPE,
    MIN_TENURE,
    MAX_TENURE,
    MIN_CHARGE,
    MAX_CHARGE,
    REGION,
    SEGMENT,
    ALREADY_HAS,
    COOLDOWN,
    MAX_PER_YEAR,
    BUDGET_SPENT,
)


@dataclass(frozen=True)
class PastOffer:
    """A retention offer the account received before, and whether it was accepted."""

    code: str
    kind: str
    at: datetime
    accepted: bool


@dataclass(frozen=True)
class AccountFacts:
    """What the eligibility rules read about an account.

    ``holdings`` names what the account has now: bare service kinds ("tv", "premium"), ``kind:code``
    ("broadband:BB_1000", "premium:PREM_SPORT") and, for premium channels, ``premium:<channel>`` ("premium:sport").
    """

    plan_code: str | None
    contract_type: str
    tenure_months: float | None
    monthly_charge: float
    region: str | None
    segment: str | None
    holdings: frozenset[str] = frozenset()
    past_offers: tuple[PastOffer, ...] = ()


@dataclass(frozen=True)
class Refusal:
    """One reason an offer is not permitted: a code from ``REFUSAL_CODES`` and the figures behind it."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    offer_code: str
    permitted: bool
    needs_approval: bool
    refusals: tuple[Refusal, ...] = ()


def facts_from_snapshot(snapshot: AccountSnapshot, today: date) -> AccountFacts:
    """The account's facts as of ``today``."""
    since = snapshot.customer_since
    return AccountFacts(
        plan_code=snapshot.plan_code,
        contract_type=snapshot.contract_type,
        tenure_months=None if since is None else (today - since).days / DAYS_PER_MONTH,
        monthly_charge=float(snapshot.monthly_charge),
        region=snapshot.region,
        segment=snapshot.segment,
        holdings=frozenset(_holdings(snapshot, today)),
        past_offers=tuple(
            sorted(
                (
                    PastOffer(o.offer_code, o.offer_kind, o.offered_at, o.response == "accepted")
                    for o in snapshot.offers
                ),
                key=lambda p: p.at,
            )
        ),
    )


def _holdings(snapshot: AccountSnapshot, today: date) -> Iterable[str]:
    for service in snapshot.services:
        if service.started_on is not None and service.started_on > today:
            continue
        if service.ended_on is not None and service.ended_on <= today:
            continue
        yield service.kind
        if service.code:
            yield f"{service.kind}:{service.code}"
            if service.kind == "premium":
                yield f"premium:{premium_channel(service.code)}"


def premium_channel(code: str) -> str:
    """The channel a premium product code stands for: PREM_SPORT and sport are both "sport"."""
    lowered = code.strip().lower()
    for prefix in ("premium_", "prem_"):
        if lowered.startswith(prefix):
            return lowered[len(prefix) :]
    return lowered


def check_offer(
    offer: OfferSpec, facts: AccountFacts, *, today: date, agent_tier: int, budget_left: Decimal | None = None
) -> Verdict:
    """Permitted or not, with every reason why not; a permitted offer above the agent's tier needs approval."""
    refusals = [
        *_catalog_refusals(offer, today),
        *_rule_refusals(offer.rules, facts),
        *_history_refusals(offer, facts.past_offers, today),
    ]
    if budget_left is not None and budget_left < total_cost(offer):
        refusals.append(Refusal(BUDGET_SPENT, {"left": budget_left, "cost": total_cost(offer)}))
    permitted = not refusals
    return Verdict(
        offer_code=offer.code,
        permitted=permitted,
        needs_approval=permitted and offer.authority_tier > agent_tier,
        refusals=tuple(refusals),
    )


def check_offers(
    offers: Iterable[OfferSpec],
    facts: AccountFacts,
    *,
    today: date,
    agent_tier: int,
    budget_left: Mapping[str, Decimal | None],
) -> list[Verdict]:
    """One verdict per offer, in the catalog's order; an offer missing from ``budget_left`` counts as uncapped."""
    return [
        check_offer(offer, facts, today=today, agent_tier=agent_tier, budget_left=budget_left.get(offer.code))
        for offer in offers
    ]


def _catalog_refusals(offer: OfferSpec, today: date) -> Iterable[Refusal]:
    if not offer.active:
        yield Refusal(INACTIVE, {})
    if offer.valid_from is not None and today < offer.valid_from:
        yield Refusal(NOT_YET_VALID, {"from": offer.valid_from})
    if offer.valid_to is not None and today > offer.valid_to:
        yield Refusal(EXPIRED, {"to": offer.valid_to})


def _rule_refusals(rules: Mapping[str, Any], facts: AccountFacts) -> Iterable[Refusal]:
    listed = (
        ("plans", PLAN, facts.plan_code),
        ("contract_types", CONTRACT_TYPE, facts.contract_type),
    )
    for key, code, value in listed:
        if key in rules and value not in rules[key]:
            yield Refusal(code, {"allowed": list(rules[key]), "has": value})
    tenure = facts.tenure_months
    if "min_tenure_months" in rules and (tenure is None or tenure < rules["min_tenure_months"]):
        yield Refusal(MIN_TENURE, {"months": rules["min_tenure_months"], "has": tenure})
    if "max_tenure_months" in rules and (tenure is None or tenure > rules["max_tenure_months"]):
        yield Refusal(MAX_TENURE, {"months": rules["max_tenure_months"], "has": tenure})
    charge = facts.monthly_charge
    if "min_monthly_charge" in rules and charge < rules["min_monthly_charge"]:
        yield Refusal(MIN_CHARGE, {"amount": rules["min_monthly_charge"], "has": charge})
    if "max_monthly_charge" in rules and charge > rules["max_monthly_charge"]:
        yield Refusal(MAX_CHARGE, {"amount": rules["max_monthly_charge"], "has": charge})
    for key, code, value in (("regions", REGION, facts.region), ("segments", SEGMENT, facts.segment)):
        if key in rules and value not in rules[key]:
            yield Refusal(code, {"allowed": list(rules[key]), "has": value})
    for item in rules.get("exclude_if_has", ()):
        if item in facts.holdings:
            yield Refusal(ALREADY_HAS, {"item": item})


def _history_refusals(offer: OfferSpec, past: Iterable[PastOffer], today: date) -> Iterable[Refusal]:
    seen = [p for p in past if p.at.date() <= today]
    if offer.cooldown_days:
        same_kind = [p.at.date() for p in seen if p.kind == offer.kind]
        if same_kind:
            days_ago = (today - max(same_kind)).days
            if days_ago < offer.cooldown_days:
                yield Refusal(COOLDOWN, {"kind": offer.kind, "days_ago": days_ago, "wait_days": offer.cooldown_days})
    if offer.max_per_year is not None:
        since = today - timedelta(days=REDEMPTION_WINDOW_DAYS)
        count = sum(1 for p in seen if p.code == offer.code and p.accepted and p.at.date() > since)
        if count >= offer.max_per_year:
            yield Refusal(MAX_PER_YEAR, {"limit": offer.max_per_year, "count": count})
