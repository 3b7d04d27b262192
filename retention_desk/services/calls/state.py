"""The call as the desk and the API show it after every step: the ranked offers with what became of each, the
reasons to choose from, where the call stands; on the full page also the account with the risk the call logged.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from sqlmodel import Session

from retention_desk.config import Settings
from retention_desk.domain.catalog import total_cost
from retention_desk.domain.clock import utcnow
from retention_desk.domain.vocabulary import APPROVED, DISPOSITIONS
from retention_desk.offers.ranking import Decision
from retention_desk.offers.words import describe_refusal
from retention_desk.services.accounts import AccountScreen, account_beside_call
from retention_desk.services.audit import Viewer
from retention_desk.services.calls.deciding import offer_verdicts
from retention_desk.services.catalog.store import offers_in_database
from retention_desk.services.staff.users import get_user
from retention_desk.storage import approvals as stored_approvals
from retention_desk.storage import calls as stored_calls
from retention_desk.storage import catalog as stored_catalog
from retention_desk.storage.tables import ApprovalRequest, Call, CallOffer, CancelReason
from retention_desk.storage.training_data import load_account_snapshot

MAX_KEYS = 9  # number keys 1-9 present the presentable offers


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
class CallState:
    """The call after a step: its ranked offers and where it stands; ``account`` only for the whole page."""

    call: Call
    account: AccountScreen | None
    lines: list[OfferLine]
    reasons: list[CancelReason]
    max_offers: int
    suggested: list[str]  # the offers the agent should make, in order (none on a hold-out call)

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


def call_state(
    *,
    session: Session,
    settings: Settings,
    call_id: int,
    with_account: bool = False,
    now: datetime | None = None,
    viewer: Viewer | None = None,
) -> CallState | None:
    """The call as it stands; with ``with_account`` also the account beside it (the whole page), and with a
    ``viewer`` that page's opening audited (the caller commits). None: no call."""
    call = session.get(Call, call_id)
    if call is None:
        return None
    return state_of(session=session, settings=settings, call=call, with_account=with_account, now=now, viewer=viewer)


def state_of(
    *,
    session: Session,
    settings: Settings,
    call: Call,
    with_account: bool = False,
    now: datetime | None = None,
    viewer: Viewer | None = None,
) -> CallState:
    """``call_state`` for a call already in hand (every step ends with it)."""
    account = None
    if with_account:
        account = account_beside_call(session=session, settings=settings, call=call, now=now, viewer=viewer)
    offers = {o.code: o for o in offers_in_database(session=session)}
    presented = {row.offer_code: row for row in stored_calls.presented_on_call(session, call.id or 0)}
    approvals = {r.offer_code: r for r in stored_approvals.requests_of_call(session, call.id or 0)}  # latest wins
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
        if line.presentable and key < MAX_KEYS:
            key += 1
            line = replace(line, key=key)
        lines.append(line)
    limit = settings.offer_policy.max_offers_per_call
    return CallState(
        call=call,
        account=account,
        lines=lines,
        reasons=stored_catalog.active_reasons(session),
        max_offers=limit,
        suggested=decision.to_present(limit),
    )


def offers_not_permitted(
    *, session: Session, call_id: int, agent_id: int, now: datetime | None = None
) -> list[NotPermitted] | None:
    """The "why not?" list: active catalog offers the call's agent (or, on a call without one, the asking agent)
    cannot make to this caller now, each with its reasons. None for an unknown call."""
    call = session.get(Call, call_id)
    snapshot = load_account_snapshot(session, call.account_id) if call is not None else None
    if call is None or snapshot is None:
        return None
    agent = get_user(session=session, user_id=call.agent_id or agent_id)
    catalog, verdicts = offer_verdicts(
        session=session,
        snapshot=snapshot,
        agent_tier=agent.authority_tier if agent else 1,
        today=(now or utcnow()).date(),
    )
    return [
        NotPermitted(o.code, o.name, [describe_refusal(r) for r in v.refusals])
        for o, v in zip(catalog, verdicts, strict=True)
        if not v.permitted
    ]
