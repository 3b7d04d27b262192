"""The desk's screens in one call each: the account with its churn risk, and the cancellation call on it.

The call functions wrap services/calls.py (which holds every rule of the call) with what a screen needs: the
signed-in agent's row, the rule that only a call's own agent (or a supervisor) acts on it, and the panel's state
after the step, so a view makes one call and renders.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlmodel import Session

from retention_desk.config import Settings
from retention_desk.domain.catalog import total_cost
from retention_desk.domain.clock import utcnow
from retention_desk.domain.i18n import _
from retention_desk.domain.vocabulary import DISPOSITIONS
from retention_desk.ml.registry import serving_model
from retention_desk.offers.ranking import Decision
from retention_desk.offers.words import describe_refusal
from retention_desk.services.accounts import AccountView, get_account_view
from retention_desk.services.approvals import APPROVED, ApprovalError, request_approval
from retention_desk.services.calls import (
    CallError,
    choose_reason,
    finish_call,
    offer_verdicts,
    present_offer,
    process_cancellation,
    record_response,
    start_call,
    suggested_offers,
)
from retention_desk.services.catalog import offers_in_database
from retention_desk.services.scoring import ModelStatus, RiskScore, score_screen, status_of
from retention_desk.services.users import can_supervise, get_user
from retention_desk.storage.tables import Account, ApprovalRequest, Call, CallOffer, CancelReason, User
from retention_desk.storage.training_data import load_account_snapshot


@dataclass(frozen=True)
class AccountScreen:
    view: AccountView
    risk: RiskScore | None  # None when no model is ready
    model: ModelStatus
    open_call_id: int | None = None  # the signed-in agent's unfinished call on this account, to resume

    @property
    def model_warning(self) -> str | None:
        """What the agent must be told about the model: none ready, or an earlier one standing in."""
        if not self.model.ready or self.model.fell_back:
            return self.model.message
        return None


def open_account(
    *,
    session: Session,
    settings: Settings,
    account_id: int,
    now: datetime | None = None,
    agent_id: int | None = None,
) -> AccountScreen | None:
    """The account with its risk and reasons; the page still works (with a warning) when no model can score."""
    now = now or utcnow()
    view = get_account_view(session=session, account_id=account_id, now=now)
    if view is None:
        return None
    status = status_of(serving_model(session=session, settings=settings))
    screen = (
        score_screen(session=session, settings=settings, account_id=account_id, as_of=now) if status.ready else None
    )
    open_call = open_call_for(session=session, account_id=account_id, agent_id=agent_id) if agent_id else None
    return AccountScreen(view, screen.risk if screen else None, status, open_call)


# --- The call screen: one function per desk action, each returning everything the call panel shows. ---


class NotYourCall(CallError):
    """Another agent's open call: only its agent (or a supervisor taking it over) may act on it."""


@dataclass(frozen=True)
class OfferLine:
    """One line of the offers panel: a ranked item with what the agent needs to say and decide."""

    code: str | None  # None: the "no offer" line
    rank: int
    name: str
    script: str
    cost: Decimal  # what an acceptance costs the company
    keep_points: float  # P(stay | offer) − P(stay | no offer), in percentage points
    expected_value: float
    needs_approval: bool
    approval: ApprovalRequest | None  # the latest request for this offer on this call
    presented: CallOffer | None
    key: int | None = None  # the number key that presents it

    @property
    def approved(self) -> bool:
        return self.approval is not None and self.approval.status == APPROVED

    @property
    def presentable(self) -> bool:
        return self.code is not None and self.presented is None and (not self.needs_approval or self.approved)


@dataclass(frozen=True)
class CallScreen:
    """The open call as the desk shows it: the account screen, the ranked offers and where the call stands."""

    call: Call
    account: AccountScreen | None  # None after a step: the panel is redrawn, the account part stays as it was
    lines: list[OfferLine]
    reasons: list[CancelReason]
    max_offers: int
    suggested: list[str]

    @property
    def dispositions(self) -> tuple[str, ...]:
        return DISPOSITIONS

    @property
    def holdout(self) -> bool:
        return self.call.decision_mode == "holdout"

    @property
    def no_offer_first(self) -> bool:
        return bool(self.lines) and self.lines[0].code is None

    @property
    def closed(self) -> bool:
        return self.call.disposition is not None

    @property
    def presented_count(self) -> int:
        return sum(1 for line in self.lines if line.presented is not None)

    @property
    def limit_reached(self) -> bool:
        return self.presented_count >= self.max_offers

    def line(self, code: str) -> OfferLine | None:
        return next((line for line in self.lines if line.code == code), None)


@dataclass(frozen=True)
class NotPermitted:
    """An active catalog offer this caller cannot get from this agent, and why (in the agent's words)."""

    code: str
    name: str
    reasons: list[str]


def begin_call(
    *, session: Session, settings: Settings, account_id: int, agent_id: int, idempotency_key: str
) -> Call | None:
    """Open a call for the account (time-stamped now); the page's key makes a double submit open it once."""
    if session.get(Account, account_id) is None:
        return None
    return start_call(
        session=session,
        settings=settings,
        account_id=account_id,
        agent=_agent(session, agent_id),
        idempotency_key=idempotency_key,
    )


def call_screen(
    *, session: Session, settings: Settings, call_id: int, now: datetime | None = None
) -> CallScreen | None:
    """Everything the call page shows; None for an unknown call."""
    call = session.get(Call, call_id)
    if call is None:
        return None
    account = open_account(session=session, settings=settings, account_id=call.account_id, now=now)
    if account is None:
        return None
    return _screen(session, settings, call, account)


def give_reason(*, session: Session, settings: Settings, call_id: int, agent_id: int, reason: str) -> CallScreen:
    """Record the caller's reason and rank the offers again for it."""
    _own_open_call(session, call_id, agent_id)
    choose_reason(session=session, settings=settings, call_id=call_id, reason=reason, agent=_agent(session, agent_id))
    return _must_screen(session, settings, call_id)


def make_offer(*, session: Session, settings: Settings, call_id: int, agent_id: int, offer_code: str) -> CallScreen:
    """The agent presents an offer; presenting it again is the same presentation."""
    _own_open_call(session, call_id, agent_id)
    present_offer(session=session, settings=settings, call_id=call_id, offer_code=offer_code)
    return _must_screen(session, settings, call_id)


def answer_offer(
    *, session: Session, settings: Settings, call_id: int, agent_id: int, offer_code: str, accepted: bool
) -> CallScreen:
    """The caller's yes or no to a presented offer; the same answer twice is logged once."""
    _own_open_call(session, call_id, agent_id)
    record_response(session=session, call_id=call_id, offer_code=offer_code, accepted=accepted)
    return _must_screen(session, settings, call_id)


def ask_approval(*, session: Session, settings: Settings, call_id: int, agent_id: int, offer_code: str) -> CallScreen:
    """Ask a supervisor for an offer above the agent's tier; asking again while pending is the same request."""
    call = _own_open_call(session, call_id, agent_id)
    item = next((i for i in call.ranked if i.get("offer_code") == offer_code), None)
    if item is None:
        raise CallError(_("Offer %(code)s is not permitted on this call.", code=offer_code))
    try:
        request_approval(
            session, agent=_agent(session, agent_id), account_id=call.account_id, offer_code=offer_code, call_id=call_id
        )
    except ApprovalError as exc:
        raise CallError(str(exc)) from exc
    return _must_screen(session, settings, call_id)


def close_call(*, session: Session, call_id: int, agent_id: int, disposition: str, notes: str = "") -> Call:
    """The call's outcome and notes; closing it again the same way changes nothing."""
    _own_call(session, call_id, agent_id)
    return finish_call(session=session, call_id=call_id, disposition=disposition, notes=notes)


def cancel_subscription(*, session: Session, call_id: int, agent_id: int, notes: str = "") -> Call:
    """The one-click cancellation, at any moment of the call."""
    _own_call(session, call_id, agent_id)
    return process_cancellation(session=session, call_id=call_id, notes=notes)


def offers_not_permitted(
    *, session: Session, call_id: int, agent_id: int, now: datetime | None = None
) -> list[NotPermitted]:
    """The "why not?" list: active catalog offers this caller cannot get now, each with its reasons."""
    call = session.get(Call, call_id)
    if call is None:
        raise CallError(_("There is no such call."))
    snapshot = load_account_snapshot(session, call.account_id)
    if snapshot is None:
        raise CallError(_("There is no such account."))
    tier = _agent(session, call.agent_id or agent_id).authority_tier
    catalog, verdicts = offer_verdicts(
        session=session, snapshot=snapshot, agent_tier=tier, today=(now or utcnow()).date()
    )
    return [
        NotPermitted(o.code, o.name, [describe_refusal(r) for r in v.refusals])
        for o, v in zip(catalog, verdicts, strict=True)
        if not v.permitted
    ]


def open_call_for(*, session: Session, account_id: int, agent_id: int) -> int | None:
    """The agent's call on this account that is still open, so the account page can offer to resume it."""
    return session.execute(
        select(Call.id)
        .where(Call.account_id == account_id, Call.agent_id == agent_id, Call.disposition.is_(None))
        .order_by(Call.started_at.desc())
        .limit(1)
    ).scalar_one_or_none()


def _screen(session: Session, settings: Settings, call: Call, account: AccountScreen | None) -> CallScreen:
    offers = {o.code: o for o in offers_in_database(session=session)}
    presented = {
        row.offer_code: row for row in session.execute(select(CallOffer).where(CallOffer.call_id == call.id)).scalars()
    }
    approvals: dict[str, ApprovalRequest] = {}
    for request in session.execute(
        select(ApprovalRequest).where(ApprovalRequest.call_id == call.id).order_by(ApprovalRequest.id)
    ).scalars():
        approvals[request.offer_code] = request  # the latest request per offer wins
    decision = Decision.from_log(call.decision_mode, call.ranked, call.customer_value or 0.0)
    lines, key = [], 0
    for item in decision.items:
        offer = offers.get(item.offer_code) if item.offer_code else None
        line = OfferLine(
            code=item.offer_code,
            rank=item.rank,
            name=offer.name if offer else (item.offer_code or ""),
            script=offer.script if offer else "",
            cost=total_cost(offer) if offer else Decimal(0),
            keep_points=round((item.p_stay - decision.p_stay_none) * 100, 1),
            expected_value=item.expected_value,
            needs_approval=item.needs_approval,
            approval=approvals.get(item.offer_code) if item.offer_code else None,
            presented=presented.get(item.offer_code) if item.offer_code else None,
        )
        if line.presentable and key < 9:
            key += 1
            line = replace(line, key=key)
        lines.append(line)
    reasons = list(
        session.execute(
            select(CancelReason).where(CancelReason.active.is_(True)).order_by(CancelReason.sort_order)
        ).scalars()
    )
    return CallScreen(
        call=call,
        account=account,
        lines=lines,
        reasons=reasons,
        max_offers=settings.offer_policy.max_offers_per_call,
        suggested=suggested_offers(call, settings),
    )


def _must_screen(session: Session, settings: Settings, call_id: int) -> CallScreen:
    """The panel after a step, without scoring the account again (the step's response redraws only the panel)."""
    call = session.get(Call, call_id)
    if call is None:
        raise CallError(_("There is no such call."))
    return _screen(session, settings, call, None)


def _agent(session: Session, agent_id: int) -> User:
    user = get_user(session=session, user_id=agent_id)
    if user is None or not user.active:
        raise CallError(_("This desk user is not active."))
    return user


def _own_call(session: Session, call_id: int, agent_id: int) -> Call:
    call = session.get(Call, call_id)
    if call is None:
        raise CallError(_("There is no such call."))
    if call.agent_id not in (None, agent_id) and not can_supervise(_agent(session, agent_id)):
        raise NotYourCall("This call belongs to another agent.")
    return call


def _own_open_call(session: Session, call_id: int, agent_id: int) -> Call:
    call = _own_call(session, call_id, agent_id)
    if call.disposition is not None:
        raise CallError(_("This call is already closed."))
    return call
