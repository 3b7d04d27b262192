"""A cancellation call from the first screen to its disposition: the one service the desk and the simulator use.

``offers_for_call`` is the single path from an account to a ranked decision (eligibility, churn risk, the
offer-response model, ``offers.ranking.rank_offers``). The rest records the call so the nightly job can learn
from it: the exact ranked list with propensities, the offers presented and the answers, the disposition.

Every step is idempotent: a retried request (same idempotency key, the same offer presented or answered twice, the
same disposition again) returns what is stored instead of writing a second record, and a double click racing
itself is settled by the database (unique keys and conditional updates), not by the browser.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from retention_desk.config import Settings
from retention_desk.domain.catalog import OfferSpec, total_cost
from retention_desk.domain.clock import utcnow
from retention_desk.domain.i18n import _
from retention_desk.domain.vocabulary import DISPOSITIONS
from retention_desk.ml.features import build_features
from retention_desk.ml.offer_model import OfferPredictions
from retention_desk.ml.reasons import Reason
from retention_desk.offers.eligibility import Verdict, check_offers, facts_from_snapshot
from retention_desk.offers.ranking import Candidate, Decision, Response, rank_offers
from retention_desk.offers.value import customer_value
from retention_desk.services.approvals import approved_for
from retention_desk.services.catalog import offers_in_database
from retention_desk.services.offer_scoring import predict_offers
from retention_desk.services.scoring import RiskScore, score_screen
from retention_desk.storage.budgets import budget_left, budget_month, release_budget, reserve_budget
from retention_desk.storage.snapshots import AccountSnapshot
from retention_desk.storage.tables import Account, Call, CallOffer, CancelReason, OfferHistory, User
from retention_desk.storage.training_data import load_account_snapshot

ACCEPTED, DECLINED, WITHDRAWN = "accepted", "declined", "withdrawn"
NEEDS_OFFER = ("saved_with_offer", "downgraded")


class CallError(ValueError):
    """A call step that cannot be done; the message is one sentence for the agent."""


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


def offers_for_call(
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
    """Rank the offers this agent may make to this caller; not-permitted offers never reach the ranking."""
    catalog, verdicts = offer_verdicts(
        session=session, snapshot=snapshot, agent_tier=agent_tier, today=now.date(), offers=offers
    )
    permitted = [(o, v) for o, v in zip(catalog, verdicts, strict=True) if v.permitted]
    if risk is None:
        screen = score_screen(session=session, settings=settings, account_id=snapshot.account_id, as_of=now)
        risk = screen.risk if screen else None
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
    candidates = candidates_for([(o, v.needs_approval) for o, v in permitted], p)
    value = value_of(snapshot, features, settings)
    decision = rank_offers(
        candidates=candidates,
        p_stay_none=p.p_stay_none,
        customer_value=value,
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


def suggested_offers(call: Call, settings: Settings) -> list[str]:
    """The offers the agent should make on this call, in order (none on a hold-out call)."""
    decision = Decision.from_log(call.decision_mode, call.ranked)
    return decision.to_present(settings.offer_policy.max_offers_per_call)


def start_call(
    *,
    session: Session,
    settings: Settings,
    account_id: int,
    agent: User | None,
    idempotency_key: str,
    reason: str | None = None,
    now: datetime | None = None,
    draws: tuple[float, float] | None = None,
) -> Call:
    """Open a call for a cancellation request (time-stamped now) and log its first ranked list."""
    existing = _by_key(session, idempotency_key)
    if existing is not None:
        if existing.account_id != account_id:
            raise CallError(_("This call key belongs to another account; reload the page to start a new call."))
        return existing
    now = now or utcnow()
    snapshot = load_account_snapshot(session, account_id)
    if snapshot is None:
        raise CallError(_("There is no such account."))
    call = Call(
        idempotency_key=idempotency_key,
        account_id=account_id,
        agent_id=agent.id if agent else None,
        started_at=now,
        cancel_requested_at=now,
        source="desk",
    )
    _rank_into(session, settings, call, snapshot, agent, _reason(session, reason), now, draws)
    try:
        with session.begin_nested():
            session.add(call)
    except IntegrityError:  # the same key raced in from a retried request
        found = _by_key(session, idempotency_key)
        if found is None:
            raise
        return found
    return call


def choose_reason(
    *,
    session: Session,
    settings: Settings,
    call_id: int,
    reason: str,
    agent: User | None = None,
    now: datetime | None = None,
    draws: tuple[float, float] | None = None,
) -> Call:
    """Record the caller's cancel reason and rank again for it; once an offer is presented the list is fixed."""
    call = _open_call(session, call_id)
    reason = _reason(session, reason)
    if call.cancel_reason == reason and call.ranked:
        return call
    if _presented(session, call_id):
        raise CallError(_("Offers have already been made on this call; the reason can no longer change the ranking."))
    snapshot = load_account_snapshot(session, call.account_id)
    if snapshot is None:
        raise CallError(_("There is no such account."))
    _rank_into(session, settings, call, snapshot, agent, reason, now or utcnow(), draws)
    session.flush()
    return call


def _rank_into(
    session: Session,
    settings: Settings,
    call: Call,
    snapshot: AccountSnapshot,
    agent: User | None,
    reason: str | None,
    now: datetime,
    draws: tuple[float, float] | None,
) -> None:
    draws = draws or (random.random(), random.random())
    tier = agent.authority_tier if agent else 1
    choice = offers_for_call(
        session=session, settings=settings, snapshot=snapshot, agent_tier=tier, reason=reason, now=now, draws=draws
    )
    call.cancel_reason = reason
    call.ranked = [item.as_log() for item in choice.decision.items]
    call.decision_mode = choice.decision.mode
    call.offer_model_version = choice.offer_model_version
    call.customer_value = round(choice.decision.customer_value, 2)
    if choice.risk is not None:
        call.risk_score = choice.risk.probability
        call.risk_band = choice.risk.band
        call.risk_model_version = choice.risk.model_version
        call.reasons = [_reason_log(r) for r in (*choice.risk.reasons_up, *choice.risk.reasons_down)]


def _reason_log(reason: Reason) -> dict[str, Any]:
    """A reason as stored with the call, so the log shows what the agent read."""
    params = {k: _json_value(v) for k, v in reason.params.items()}
    return {
        "feature": reason.feature,
        "code": reason.code,
        "params": params,
        "value": _json_value(reason.value),
        "delta": _json_value(reason.delta),
    }


def _json_value(value: Any) -> Any:
    """JSON has no NaN (PostgreSQL refuses it) and no dates: a missing number is null, a date its ISO form."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def present_offer(
    *, session: Session, settings: Settings, call_id: int, offer_code: str, now: datetime | None = None
) -> CallOffer:
    """The agent makes an offer from the call's list; at most ``max_offers_per_call`` per call."""
    call = _open_call(session, call_id)
    existing = _call_offer(session, call_id, offer_code)
    if existing is not None:
        return existing
    item = next((i for i in call.ranked if i.get("offer_code") == offer_code), None)
    if item is None:
        raise CallError(_("Offer %(code)s is not permitted on this call.", code=offer_code))
    if call.decision_mode == "holdout":
        raise CallError(_("This call is in the no-offer hold-out: record the outcome without an offer."))
    if item.get("needs_approval") and not approved_for(session, call_id=call_id, offer_code=offer_code):
        raise CallError(_("Offer %(code)s needs a supervisor's approval first.", code=offer_code))
    limit = settings.offer_policy.max_offers_per_call
    if len(_presented(session, call_id)) >= limit:
        raise CallError(
            _("This call has had its %(num)s offers; record the outcome or process the cancellation.", num=limit)
        )
    row = CallOffer(
        call_id=call_id,
        offer_code=offer_code,
        rank=item.get("rank"),
        propensity=item.get("propensity"),
        p_stay=item.get("p_stay"),
        expected_value=item.get("expected_value"),
        presented_at=now or utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # a double click: the first one stored it
        found = _call_offer(session, call_id, offer_code)
        if found is None:
            raise
        return found
    return row


def record_response(
    *,
    session: Session,
    call_id: int,
    offer_code: str,
    accepted: bool,
    now: datetime | None = None,
) -> CallOffer:
    """The caller's answer to a presented offer; an acceptance takes the offer's cost from this month's budget."""
    call = _open_call(session, call_id)
    row = _call_offer(session, call_id, offer_code)
    if row is None:
        raise CallError(_("Offer %(code)s has not been presented on this call.", code=offer_code))
    answer = ACCEPTED if accepted else DECLINED
    if row.response is not None:
        if row.response == answer:
            return row
        raise CallError(
            _("The answer to %(code)s is already recorded as %(answer)s.", code=offer_code, answer=row.response)
        )
    if accepted and call.offer_code is not None:
        raise CallError(_("The caller has already accepted %(code)s on this call.", code=call.offer_code))
    now = now or utcnow()
    claimed = session.execute(
        update(CallOffer)
        .where(CallOffer.id == row.id, CallOffer.response.is_(None))
        .values(response=answer, responded_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(row)
    if not claimed:  # a concurrent request answered first
        if row.response == answer:
            return row
        raise CallError(
            _("The answer to %(code)s is already recorded as %(answer)s.", code=offer_code, answer=row.response)
        )
    offer = _offer(session, offer_code)
    if accepted:
        if not reserve_budget(session, offer, budget_month(now.date())):
            raise CallError(_("This month's budget for %(code)s is spent; choose another offer.", code=offer_code))
        call.offer_code = offer_code
    session.add(
        OfferHistory(
            account_id=call.account_id,
            offer_code=offer_code,
            offer_kind=offer.kind,
            offered_at=row.presented_at,
            response=answer,
            ends_on=None,
            cost=total_cost(offer) if accepted else 0,
            call_id=call_id,
        )
    )
    session.flush()
    return row


def finish_call(
    *, session: Session, call_id: int, disposition: str, notes: str = "", now: datetime | None = None
) -> Call:
    """The call's outcome; a cancellation is processed on the account at once and undoes an accepted offer."""
    if disposition not in DISPOSITIONS:
        raise CallError(
            _(
                "Unknown outcome %(outcome)r; choose one of %(known)s.",
                outcome=disposition,
                known=", ".join(DISPOSITIONS),
            )
        )
    call = session.get(Call, call_id)
    if call is None:
        raise CallError(_("There is no such call."))
    if call.disposition is not None:
        if call.disposition == disposition:
            return call
        raise CallError(_("This call is already closed as %(outcome)s.", outcome=call.disposition))
    if disposition in NEEDS_OFFER and call.offer_code is None:
        raise CallError(_("Record the accepted offer before closing the call as saved with an offer."))
    now = now or utcnow()
    if disposition == "cancelled":
        _withdraw_acceptance(session, call, now)
        account = session.get(Account, call.account_id)
        if account is not None and account.status != "cancelled":
            account.status, account.status_changed_at = "cancelled", now
    call.disposition, call.disposition_at, call.ended_at = disposition, now, now
    call.notes = (notes or "").strip()[:4000]
    session.flush()
    return call


def process_cancellation(*, session: Session, call_id: int, notes: str = "", now: datetime | None = None) -> Call:
    """One click, at any moment of the call."""
    return finish_call(session=session, call_id=call_id, disposition="cancelled", notes=notes, now=now)


def _withdraw_acceptance(session: Session, call: Call, now: datetime) -> None:
    if call.offer_code is None:
        return
    row = _call_offer(session, call.id, call.offer_code)
    offer = _offer(session, call.offer_code)
    if row is not None and row.response == ACCEPTED:
        release_budget(session, offer, budget_month(row.responded_at.date() if row.responded_at else now.date()))
        row.response = WITHDRAWN
    history = session.execute(
        select(OfferHistory).where(OfferHistory.call_id == call.id, OfferHistory.offer_code == call.offer_code)
    ).scalar_one_or_none()
    if history is not None:
        history.response, history.cost = WITHDRAWN, 0
    call.offer_code = None


def _by_key(session: Session, key: str) -> Call | None:
    if not key or len(key) > 64:
        raise CallError(_("A call needs a key of 1–64 characters."))
    return session.execute(select(Call).where(Call.idempotency_key == key)).scalar_one_or_none()


def _open_call(session: Session, call_id: int) -> Call:
    call = session.get(Call, call_id)
    if call is None:
        raise CallError(_("There is no such call."))
    if call.disposition is not None:
        raise CallError(_("This call is already closed as %(outcome)s.", outcome=call.disposition))
    return call


def _reason(session: Session, code: str | None) -> str | None:
    if code is None or code == "":
        return None
    if session.get(CancelReason, code) is None:
        raise CallError(_("Unknown cancel reason %(code)r.", code=code))
    return code


def _presented(session: Session, call_id: int) -> list[CallOffer]:
    return list(session.execute(select(CallOffer).where(CallOffer.call_id == call_id)).scalars())


def _call_offer(session: Session, call_id: int, offer_code: str) -> CallOffer | None:
    return session.execute(
        select(CallOffer).where(CallOffer.call_id == call_id, CallOffer.offer_code == offer_code)
    ).scalar_one_or_none()


def _offer(session: Session, code: str) -> OfferSpec:
    for offer in offers_in_database(session=session):
        if offer.code == code:
            return offer
    raise CallError(_("Offer %(code)s is not in the catalog.", code=code))
