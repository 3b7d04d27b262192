"""Finding a caller's account from whatever the agent types, and the account as the desk shows it, with its risk."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlmodel import Session

from retention_desk.config import Settings
from retention_desk.domain.clock import utcnow
from retention_desk.domain.contact import normalise_email, normalise_phone
from retention_desk.services.audit import Viewer, record_account_view
from retention_desk.services.models.risk import ModelStatus, RiskScore, logged_risk, model_status, score_screen
from retention_desk.storage import accounts, calls
from retention_desk.storage.tables import Account, Call

RECENT_DAYS = 90
BILL_HISTORY = 13


@dataclass(frozen=True)
class AccountSummary:
    """One search result: enough for the agent to tell callers with the same name apart."""

    id: int
    account_no: str
    name: str
    phone: str | None
    email: str | None
    city: str | None
    plan_code: str | None
    status: str
    erased: bool = False


@dataclass(frozen=True)
class AccountDetail:
    id: int
    account_no: str
    first_name: str
    last_name: str
    name: str
    phone: str | None
    email: str | None
    address: str | None
    postcode: str | None
    city: str | None
    region: str | None
    segment: str | None
    plan_code: str | None
    contract_type: str
    contract_end: date | None
    customer_since: date | None
    tenure_months: int | None
    monthly_charge: Decimal
    currency: str
    payment_method: str | None
    status: str
    erased_at: datetime | None = None  # the subscriber's personal data was erased at their request


@dataclass(frozen=True)
class ServiceLine:
    kind: str
    code: str
    name: str
    monthly_price: Decimal
    started_on: date | None
    ended_on: date | None


@dataclass(frozen=True)
class BillLine:
    period_start: date
    amount: Decimal
    due_on: date | None
    paid_on: date | None


@dataclass(frozen=True)
class TicketLine:
    kind: str
    opened_at: datetime
    closed_at: datetime | None
    duration_hours: float | None
    summary: str


@dataclass(frozen=True)
class OfferLine:
    offer_code: str
    offer_kind: str
    offered_at: datetime
    response: str
    ends_on: date | None
    cost: Decimal


@dataclass(frozen=True)
class CallLine:
    started_at: datetime
    agent_name: str | None
    cancel_reason: str | None
    disposition: str | None
    offer_code: str | None
    notes: str


@dataclass(frozen=True)
class AccountView:
    """Everything the desk shows about one account, read in one go."""

    account: AccountDetail
    services: list[ServiceLine] = field(default_factory=list)
    bills: list[BillLine] = field(default_factory=list)
    bill_change: Decimal | None = None  # newest bill minus the oldest one shown
    tickets: list[TicketLine] = field(default_factory=list)
    outage_hours: float = 0.0
    offers: list[OfferLine] = field(default_factory=list)
    calls: list[CallLine] = field(default_factory=list)
    recent_days: int = RECENT_DAYS

    @property
    def outages(self) -> list[TicketLine]:
        return [t for t in self.tickets if t.kind == "outage"]


def find_accounts(*, session: Session, query: str, phone_region: str = "NO", limit: int = 20) -> list[AccountSummary]:
    """Accounts matching an account number, id, phone number (any common spelling), e-mail or name prefix.

    Exact matches come first; name matches fill the rest of the list.
    """
    text = " ".join((query or "").split())
    if not text:
        return []
    digits = text.replace(" ", "")
    exact = accounts.accounts_by_keys(
        session,
        account_no=text,
        account_id=int(digits) if digits.isascii() and digits.isdigit() and len(digits) <= 9 else None,
        phone_normalised=normalise_phone(text, phone_region),
        email_normalised=normalise_email(text),
        limit=limit,
    )
    found = {row.id: row for row in exact}
    if len(found) < limit and any(ch.isalpha() for ch in text) and "@" not in text:
        for row in accounts.accounts_by_name_prefix(session, prefix=text.lower(), limit=limit):
            found.setdefault(row.id, row)
    return [_summary(row) for row in list(found.values())[:limit]]


def get_account_view(*, session: Session, account_id: int, now: datetime | None = None) -> AccountView | None:
    """The account with its services, last 13 bills, recent tickets, earlier offers and calls."""
    row = session.get(Account, account_id)
    if row is None:
        return None
    now = now or utcnow()
    bills = [
        BillLine(b.period_start, b.amount, b.due_on, b.paid_on)
        for b in accounts.latest_bills(session, account_id=account_id, limit=BILL_HISTORY)
    ]
    tickets = [
        TicketLine(t.kind, t.opened_at, t.closed_at, t.duration_hours, t.summary)
        for t in accounts.tickets_since(session, account_id=account_id, since=now - timedelta(days=RECENT_DAYS))
    ]
    return AccountView(
        account=_detail(row, today=now.date()),
        services=[
            ServiceLine(s.kind, s.code, s.name, s.monthly_price, s.started_on, s.ended_on)
            for s in accounts.account_services(session, account_id=account_id)
        ],
        bills=bills,
        bill_change=bills[-1].amount - bills[0].amount if len(bills) >= 2 else None,
        tickets=tickets,
        outage_hours=sum(t.duration_hours or 0.0 for t in tickets if t.kind == "outage"),
        offers=[
            OfferLine(o.offer_code, o.offer_kind, o.offered_at, o.response, o.ends_on, o.cost)
            for o in accounts.offer_history(session, account_id=account_id)
        ],
        calls=[
            CallLine(c.started_at, agent, c.cancel_reason, c.disposition, c.offer_code, c.notes)
            for c, agent in calls.calls_with_agents(session, account_id=account_id)
        ],
    )


def tenure_months(since: date | None, today: date) -> int | None:
    """Whole months as a customer (a customer since the 31st has a month on the last day of the next)."""
    if since is None:
        return None
    months = (today.year - since.year) * 12 + today.month - since.month
    if today.day < since.day:
        months -= 1
    return max(months, 0)


def _full_name(row: Account) -> str:
    return " ".join(part for part in (row.first_name, row.last_name) if part) or row.account_no


def _summary(row: Account) -> AccountSummary:
    return AccountSummary(
        id=row.id or 0,
        account_no=row.account_no,
        name=_full_name(row),
        phone=row.phone_normalised or row.phone,
        email=row.email,
        city=row.city,
        plan_code=row.plan_code,
        status=row.status,
        erased=row.erased_at is not None,
    )


def _detail(row: Account, *, today: date) -> AccountDetail:
    return AccountDetail(
        id=row.id or 0,
        account_no=row.account_no,
        first_name=row.first_name,
        last_name=row.last_name,
        name=_full_name(row),
        phone=row.phone_normalised or row.phone,
        email=row.email,
        address=row.address,
        postcode=row.postcode,
        city=row.city,
        region=row.region,
        segment=row.segment,
        plan_code=row.plan_code,
        contract_type=row.contract_type,
        contract_end=row.contract_end,
        customer_since=row.customer_since,
        tenure_months=tenure_months(row.customer_since, today),
        monthly_charge=row.monthly_charge,
        currency=row.currency,
        payment_method=row.payment_method,
        status=row.status,
        erased_at=row.erased_at,
    )


@dataclass(frozen=True)
class AccountScreen:
    """The account page: the account, its churn risk with reasons, and the model behind the risk."""

    view: AccountView
    risk: RiskScore | None  # None when no model is ready
    model: ModelStatus
    open_call_id: int | None = None  # the signed-in agent's unfinished call on this account, to resume

    @property
    def erased(self) -> bool:
        """The subscriber's personal data was erased at their request: nothing to retain, no risk to show."""
        return self.view.account.erased_at is not None

    @property
    def model_warning(self) -> str | None:
        """What the agent must be told about the model: none ready, or an earlier one standing in."""
        if self.erased:
            return None
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
    viewer: Viewer | None = None,
) -> AccountScreen | None:
    """The account with its risk and reasons now; the page still works (with a warning) when no model can score.

    With a ``viewer`` the opening is audited (``account_viewed``) in the session's transaction: the caller commits.
    An erased subscriber is not scored: there is no one left to retain.
    """
    now = now or utcnow()
    view = get_account_view(session=session, account_id=account_id, now=now)
    if view is None:
        return None
    if viewer is not None:
        record_account_view(session=session, account_id=account_id, viewer=viewer)
    status = model_status(session=session, settings=settings)
    scored = status.ready and view.account.erased_at is None
    screen = score_screen(session=session, settings=settings, account_id=account_id, as_of=now) if scored else None
    open_call = calls.open_call_of_agent(session, account_id, agent_id) if agent_id else None
    return AccountScreen(view, screen.risk if screen else None, status, open_call)


def account_beside_call(
    *, session: Session, settings: Settings, call: Call, now: datetime | None = None, viewer: Viewer | None = None
) -> AccountScreen | None:
    """The account next to a call: with the risk the call logged when it ranked its offers, not a second score,
    so the agent reads the figure the ranking used. With a ``viewer`` the opening is audited, as in ``open_account``.
    """
    view = get_account_view(session=session, account_id=call.account_id, now=now or utcnow())
    if view is None:
        return None
    if viewer is not None:
        record_account_view(session=session, account_id=call.account_id, viewer=viewer)
    risk = logged_risk(call)
    if risk is None:
        return AccountScreen(view, None, model_status(session=session, settings=settings))
    status = ModelStatus(True, risk.model_version, f"Risk scored by churn model {risk.model_version} for this call.")
    return AccountScreen(view, risk, status)
