"""The steps of a cancellation call, in the words the desk uses: start, choose the reason, present an offer,
record the caller's answer, request approval, finish, process the cancellation. This module is the only writer of
calls, and the one place that decides who may act on a call: its own agent, or a supervisor.

Everything is logged so the nightly job can learn from it: the exact ranked list with propensities, the offers
presented and the answers, the disposition. Every step is idempotent: a retried request (same idempotency key, the
same offer presented or answered twice, the same disposition again) returns what is stored instead of writing a
second record, and a double click racing itself is settled by the database (unique keys and conditional updates),
not by the browser. Each step returns the call as it then stands (``state.CallState``).
"""

from __future__ import annotations

import random
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from retention_desk.config import Settings
from retention_desk.domain.catalog import OfferSpec, total_cost
from retention_desk.domain.clock import utcnow
from retention_desk.domain.i18n import _
from retention_desk.domain.vocabulary import ACCEPTED, DECLINED, DISPOSITIONS, WITHDRAWN
from retention_desk.services.calls.approvals import ApprovalError, approved_for, open_request
from retention_desk.services.calls.deciding import decide_offers
from retention_desk.services.calls.state import CallState, state_of
from retention_desk.services.catalog.store import offers_in_database
from retention_desk.services.models.risk import RiskScore, logged_risk, score_snapshot
from retention_desk.services.staff.users import can_supervise, get_user
from retention_desk.storage import calls as stored
from retention_desk.storage.budgets import budget_month, release_budget, reserve_budget
from retention_desk.storage.snapshots import AccountSnapshot
from retention_desk.storage.tables import Account, Call, CallOffer, CancelReason, OfferHistory, User
from retention_desk.storage.training_data import load_account_snapshot

NEEDS_OFFER = ("saved_with_offer", "downgraded")
MAX_NOTES = 4000
MAX_KEY = 64


class CallError(ValueError):
    """A call step that cannot be done; the message is one sentence for the agent."""


class NotFound(CallError):
    """There is no such call or account."""


class NotYourCall(CallError):
    """Another agent's call: only its agent (or a supervisor taking it over) may act on it."""


def start_call(
    *,
    session: Session,
    settings: Settings,
    account_id: int,
    agent_id: int,
    idempotency_key: str,
    reason: str | None = None,
    now: datetime | None = None,
    draws: tuple[float, float] | None = None,
    source: str = "desk",
) -> CallState:
    """Open a call for a cancellation request (time-stamped now), score the caller once and log the first ranked
    list; the page's key makes a double submit open it once."""
    agent = _active_agent(session, agent_id)
    existing = _by_key(session, idempotency_key)
    if existing is not None:
        if existing.account_id != account_id:
            raise CallError(_("This call key belongs to another account; reload the page to start a new call."))
        return state_of(session=session, settings=settings, call=existing)
    now = now or utcnow()
    snapshot = _snapshot(session, account_id)
    if snapshot.erased_at is not None:
        raise CallError(_("This subscriber's personal data was erased at their request: there is nothing to retain."))
    call = Call(
        idempotency_key=idempotency_key,
        account_id=account_id,
        agent_id=agent.id,
        started_at=now,
        cancel_requested_at=now,
        source=source,
    )
    risk = score_snapshot(session=session, settings=settings, snapshot=snapshot, as_of=now)
    _rank(session, settings, call, snapshot, agent, _reason(session, reason), now, draws, risk)
    try:
        with session.begin_nested():
            session.add(call)
    except IntegrityError:  # the same key raced in from a retried request
        found = _by_key(session, idempotency_key)
        if found is None:
            raise
        call = found
    return state_of(session=session, settings=settings, call=call)


def choose_reason(
    *,
    session: Session,
    settings: Settings,
    call_id: int,
    agent_id: int,
    reason: str,
    now: datetime | None = None,
    draws: tuple[float, float] | None = None,
) -> CallState:
    """Record the caller's cancel reason and rank again for it; once an offer is presented the list is fixed."""
    call, _agent = _own_open_call(session, call_id, agent_id)
    reason = _reason(session, reason)
    if call.cancel_reason == reason and call.ranked:
        return state_of(session=session, settings=settings, call=call)
    if stored.presented_on_call(session, call_id):
        raise CallError(_("Offers have already been made on this call; the reason can no longer change the ranking."))
    now = now or utcnow()
    snapshot = _snapshot(session, call.account_id)
    risk = logged_risk(call) or score_snapshot(session=session, settings=settings, snapshot=snapshot, as_of=now)
    _rank(session, settings, call, snapshot, _call_agent(session, call), reason, now, draws, risk)
    session.flush()
    return state_of(session=session, settings=settings, call=call)


def present_offer(
    *, session: Session, settings: Settings, call_id: int, agent_id: int, offer_code: str, now: datetime | None = None
) -> CallState:
    """The agent makes an offer from the call's list; at most ``max_offers_per_call`` per call. Presenting it again
    is the same presentation."""
    call, agent = _own_open_call(session, call_id, agent_id)
    if stored.presented_offer(session, call_id, offer_code) is None:
        _present(session, settings, call, agent, offer_code, now or utcnow())
    return state_of(session=session, settings=settings, call=call)


def answer_offer(
    *,
    session: Session,
    settings: Settings,
    call_id: int,
    agent_id: int,
    offer_code: str,
    accepted: bool,
    now: datetime | None = None,
) -> CallState:
    """The caller's yes or no to a presented offer; an acceptance takes the offer's cost from this month's budget.
    The same answer twice is logged once."""
    call, _agent = _own_open_call(session, call_id, agent_id)
    _answer(session, call, offer_code, accepted, now or utcnow())
    return state_of(session=session, settings=settings, call=call)


def request_approval(
    *, session: Session, settings: Settings, call_id: int, agent_id: int, offer_code: str, now: datetime | None = None
) -> CallState:
    """Ask a supervisor for an offer above the agent's tier; asking again while pending is the same request."""
    call, agent = _own_open_call(session, call_id, agent_id)
    if _ranked_item(call, offer_code) is None:
        raise CallError(_("Offer %(code)s is not permitted on this call.", code=offer_code))
    try:
        open_request(
            session=session, agent=agent, account_id=call.account_id, offer_code=offer_code, call_id=call_id, now=now
        )
    except ApprovalError as exc:
        raise CallError(str(exc)) from exc
    return state_of(session=session, settings=settings, call=call)


def finish_call(
    *,
    session: Session,
    settings: Settings,
    call_id: int,
    agent_id: int,
    disposition: str,
    notes: str = "",
    now: datetime | None = None,
) -> CallState:
    """The call's outcome and notes; a cancellation is processed on the account at once and undoes an accepted
    offer. Closing it again the same way changes nothing."""
    if disposition not in DISPOSITIONS:
        raise CallError(
            _(
                "Unknown outcome %(outcome)r; choose one of %(known)s.",
                outcome=disposition,
                known=", ".join(DISPOSITIONS),
            )
        )
    call, _agent = _own_call(session, call_id, agent_id)
    if call.disposition is None and disposition in NEEDS_OFFER and call.offer_code is None:
        raise CallError(_("Record the accepted offer before closing the call as saved with an offer."))
    now = now or utcnow()
    notes = (notes or "").strip()[:MAX_NOTES]
    closed = stored.claim_disposition(
        session, call_id, disposition=disposition, notes=notes, at=now, needs_offer=disposition in NEEDS_OFFER
    )
    session.refresh(call)
    if not closed:
        if call.disposition == disposition:  # the same outcome twice (a double click, a retry): stored once
            return state_of(session=session, settings=settings, call=call)
        if call.disposition is not None:
            raise CallError(_("This call is already closed as %(outcome)s.", outcome=call.disposition))
        raise CallError(_("Record the accepted offer before closing the call as saved with an offer."))
    if disposition == "cancelled":
        _withdraw_acceptance(session, call, now)
        account = session.get(Account, call.account_id)
        if account is not None and account.status != "cancelled":
            account.status, account.status_changed_at = "cancelled", now
    session.flush()
    return state_of(session=session, settings=settings, call=call)


def process_cancellation(
    *, session: Session, settings: Settings, call_id: int, agent_id: int, notes: str = "", now: datetime | None = None
) -> CallState:
    """One click, at any moment of the call."""
    return finish_call(
        session=session,
        settings=settings,
        call_id=call_id,
        agent_id=agent_id,
        disposition="cancelled",
        notes=notes,
        now=now,
    )


# --- the rules behind the steps ------------------------------------------------------------------------------


def _rank(
    session: Session,
    settings: Settings,
    call: Call,
    snapshot: AccountSnapshot,
    agent: User,
    reason: str | None,
    now: datetime,
    draws: tuple[float, float] | None,
    risk: RiskScore | None,
) -> None:
    """Rank the offers for the call's reason and log the list, the decision and (once) the risk it used."""
    choice = decide_offers(
        session=session,
        settings=settings,
        snapshot=snapshot,
        agent_tier=agent.authority_tier,
        reason=reason,
        now=now,
        draws=draws or (random.random(), random.random()),
        risk=risk,
    )
    call.cancel_reason = reason
    call.ranked = [item.as_log() for item in choice.decision.items]
    call.decision_mode = choice.decision.mode
    call.offer_model_version = choice.offer_model_version
    call.customer_value = round(choice.decision.customer_value, 2)
    if risk is not None and call.risk_score is None:
        call.risk_score = risk.probability
        call.risk_band = risk.band
        call.risk_model_version = risk.model_version
        call.reasons = [r.as_log() for r in (*risk.reasons_up, *risk.reasons_down)]


def _present(session: Session, settings: Settings, call: Call, agent: User, offer_code: str, now: datetime) -> None:
    """The offer must be on the call's list; one above the presenting agent's own tier (whoever ranked the list)
    needs an approval first."""
    item = _ranked_item(call, offer_code)
    if item is None:
        raise CallError(_("Offer %(code)s is not permitted on this call.", code=offer_code))
    if call.decision_mode == "holdout":
        raise CallError(_("This call is in the no-offer hold-out: record the outcome without an offer."))
    above_tier = item.get("needs_approval") or _offer(session, offer_code).authority_tier > agent.authority_tier
    if above_tier and not approved_for(session=session, call_id=call.id or 0, offer_code=offer_code):
        raise CallError(_("Offer %(code)s needs a supervisor's approval first.", code=offer_code))
    limit = settings.offer_policy.max_offers_per_call
    if len(stored.presented_on_call(session, call.id or 0)) >= limit:
        raise CallError(
            _("This call has had its %(num)s offers; record the outcome or process the cancellation.", num=limit)
        )
    row = CallOffer(
        call_id=call.id,
        offer_code=offer_code,
        rank=item.get("rank"),
        propensity=item.get("propensity"),
        p_stay=item.get("p_stay"),
        expected_value=item.get("expected_value"),
        presented_at=now,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # a double click: the first one stored it
        if stored.presented_offer(session, call.id or 0, offer_code) is None:
            raise


def _answer(session: Session, call: Call, offer_code: str, accepted: bool, now: datetime) -> None:
    row = stored.presented_offer(session, call.id or 0, offer_code)
    if row is None:
        raise CallError(_("Offer %(code)s has not been presented on this call.", code=offer_code))
    answer = ACCEPTED if accepted else DECLINED
    if row.response is not None:
        if row.response == answer:
            return
        raise CallError(
            _("The answer to %(code)s is already recorded as %(answer)s.", code=offer_code, answer=row.response)
        )
    if accepted and not stored.claim_acceptance(session, call.id or 0, offer_code):
        session.refresh(call)  # another acceptance (or the call's end) got there first
        if call.offer_code == offer_code:  # the same acceptance twice at once: stored once
            return
        if call.disposition is not None:
            raise CallError(_("This call is already closed as %(outcome)s.", outcome=call.disposition))
        raise CallError(_("The caller has already accepted %(code)s on this call.", code=call.offer_code))
    claimed = stored.claim_answer(session, row.id or 0, answer, now)
    session.refresh(row)
    if not claimed:  # a concurrent request answered first
        if row.response == answer:
            return
        raise CallError(
            _("The answer to %(code)s is already recorded as %(answer)s.", code=offer_code, answer=row.response)
        )
    offer = _offer(session, offer_code)
    if accepted:
        if not reserve_budget(session, offer, budget_month(now.date())):
            raise CallError(_("This month's budget for %(code)s is spent; choose another offer.", code=offer_code))
        session.refresh(call)
    session.add(
        OfferHistory(
            account_id=call.account_id,
            offer_code=offer_code,
            offer_kind=offer.kind,
            offered_at=row.presented_at,
            response=answer,
            ends_on=None,
            cost=total_cost(offer) if accepted else 0,
            call_id=call.id,
        )
    )
    session.flush()


def _withdraw_acceptance(session: Session, call: Call, now: datetime) -> None:
    if call.offer_code is None:
        return
    row = stored.presented_offer(session, call.id or 0, call.offer_code)
    offer = _offer(session, call.offer_code)
    if row is not None and row.response == ACCEPTED:
        release_budget(session, offer, budget_month(row.responded_at.date() if row.responded_at else now.date()))
        row.response = WITHDRAWN
    history = stored.offer_history_of_call(session, call.id or 0, call.offer_code)
    if history is not None:
        history.response, history.cost = WITHDRAWN, 0
    call.offer_code = None


def _active_agent(session: Session, agent_id: int) -> User:
    user = get_user(session=session, user_id=agent_id)
    if user is None or not user.active:
        raise CallError(_("This desk user is not active."))
    return user


def _call_agent(session: Session, call: Call) -> User:
    """The agent who took the call: the offers are ranked for their authority, whoever sets the reason."""
    owner = get_user(session=session, user_id=call.agent_id) if call.agent_id else None
    if owner is None:
        raise CallError(_("This call has no agent to rank its offers for."))
    return owner


def _own_call(session: Session, call_id: int, agent_id: int) -> tuple[Call, User]:
    """The call and the agent acting on it, if they may: its own agent, or a supervisor taking it over."""
    agent = _active_agent(session, agent_id)
    call = session.get(Call, call_id)
    if call is None:
        raise NotFound(_("There is no such call."))
    if call.agent_id not in (None, agent.id) and not can_supervise(agent):
        raise NotYourCall(_("This call belongs to another agent."))
    return call, agent


def _own_open_call(session: Session, call_id: int, agent_id: int) -> tuple[Call, User]:
    call, agent = _own_call(session, call_id, agent_id)
    if call.disposition is not None:
        raise CallError(_("This call is already closed as %(outcome)s.", outcome=call.disposition))
    return call, agent


def _by_key(session: Session, key: str) -> Call | None:
    if not key or len(key) > MAX_KEY:
        raise CallError(_("A call needs a key of 1–64 characters."))
    return stored.call_by_key(session, key)


def _snapshot(session: Session, account_id: int) -> AccountSnapshot:
    snapshot = load_account_snapshot(session, account_id)
    if snapshot is None:
        raise NotFound(_("There is no such account."))
    return snapshot


def _reason(session: Session, code: str | None) -> str | None:
    if code is None or code == "":
        return None
    if session.get(CancelReason, code) is None:
        raise CallError(_("Unknown cancel reason %(code)r.", code=code))
    return code


def _ranked_item(call: Call, offer_code: str) -> dict | None:
    return next((i for i in call.ranked if i.get("offer_code") == offer_code), None)


def _offer(session: Session, code: str) -> OfferSpec:
    for offer in offers_in_database(session=session):
        if offer.code == code:
            return offer
    raise CallError(_("Offer %(code)s is not in the catalog.", code=code))
