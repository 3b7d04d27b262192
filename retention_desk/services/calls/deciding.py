"""What to offer a caller: eligibility, then the offer model's predictions, then the one ranking.

``decide_offers`` is the single path from an account to a ranked decision; the call steps, the simulator and the
benchmarks all take it. Not-permitted offers never reach the ranking; their verdicts say why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session

from retention_desk.config import Settings
from retention_desk.domain.catalog import OfferSpec, total_cost
from retention_desk.ml.features import build_features
from retention_desk.ml.offer_model import OfferPredictions
from retention_desk.offers.eligibility import Verdict, check_offers, facts_from_snapshot
from retention_desk.offers.ranking import Candidate, Decision, Response, rank_offers
from retention_desk.offers.value import customer_value
from retention_desk.services.catalog.store import offers_in_database
from retention_desk.services.models.offer_predictions import predict_offers
from retention_desk.services.models.risk import RiskScore, score_snapshot
from retention_desk.storage.budgets import budget_left, budget_month
from retention_desk.storage.snapshots import AccountSnapshot


@dataclass(frozen=True)
class OfferChoice:
    """What the desk offers this caller now, and why the other catalog offers are not permitted."""

    decision: Decision
    verdicts: list[Verdict]  # every active catalog offer, permitted or not, with the reasons why not
    risk: RiskScore | None
    offer_model_version: str | None  # None: the catalog's prior acceptance rates


def offer_verdicts(
    *,
    session: Session,
    snapshot: AccountSnapshot,
    agent_tier: int,
    today: date,
    offers: Sequence[OfferSpec] | None = None,
) -> tuple[list[OfferSpec], list[Verdict]]:
    """Every active catalog offer and whether this agent may make it to this caller today (with this month's
    budgets): what the ranking starts from and what "why not?" shows."""
    catalog = [o for o in (offers if offers is not None else offers_in_database(session=session)) if o.active]
    left = budget_left(session, catalog, budget_month(today))
    facts = facts_from_snapshot(snapshot, today)
    return catalog, check_offers(catalog, facts, today=today, agent_tier=agent_tier, budget_left=left)


def decide_offers(
    *,
    session: Session,
    settings: Settings,
    snapshot: AccountSnapshot,
    agent_tier: int,
    reason: str | None,
    now: datetime,
    draws: tuple[float, float],
    risk: RiskScore | None = None,
    offers: Sequence[OfferSpec] | None = None,
) -> OfferChoice:
    """Rank the offers this agent may make to this caller; ``risk`` is scored from the snapshot when not given."""
    catalog, verdicts = offer_verdicts(
        session=session, snapshot=snapshot, agent_tier=agent_tier, today=now.date(), offers=offers
    )
    permitted = [(o, v) for o, v in zip(catalog, verdicts, strict=True) if v.permitted]
    if risk is None:
        risk = score_snapshot(session=session, settings=settings, snapshot=snapshot, as_of=now)
    features = build_features(snapshot, now)
    predictions, version = predict_offers(
        session=session,
        settings=settings,
        rows=[features],
        reasons=[reason],
        offers=[o for o, _ in permitted],
        risks=[risk.probability if risk else None],
    )
    p = predictions[0]
    decision = rank_offers(
        candidates=candidates_for([(o, v.needs_approval) for o, v in permitted], p),
        p_stay_none=p.p_stay_none,
        customer_value=value_of(snapshot, features, settings),
        policy=settings.offer_policy,
        draws=draws,
        rules_only=risk is None,
    )
    return OfferChoice(decision, verdicts, risk, version)


def candidates_for(permitted: Sequence[tuple[OfferSpec, bool]], prediction: OfferPredictions) -> list[Candidate]:
    """Permitted offers (with their needs-approval flag) and one caller's predictions, as the ranking takes them."""
    return [
        Candidate(
            o.code,
            prediction.p_stay[o.code],
            prediction.p_accept[o.code],
            float(total_cost(o)),
            gated,
            tuple(Response(*r) for r in prediction.responses.get(o.code, ())),
        )
        for o, gated in permitted
    ]


def value_of(snapshot: AccountSnapshot, features: dict[str, Any], settings: Settings) -> float:
    """The caller's customer value (offers/value.py) from the same features the models see."""
    tenure = features.get("tenure_months")
    return customer_value(
        snapshot.monthly_charge,
        tenure if isinstance(tenure, float) else None,
        settings.offer_policy.margin_share,
    )
