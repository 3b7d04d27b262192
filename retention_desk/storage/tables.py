"""SQLModel table classes: the stored shape of accounts, offers, calls, model versions, users and audit events.

These classes are storage only: the services validate input before it reaches them, and never bind a form or an
API payload to a ``table=True`` class (they do not validate).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Index, LargeBinary, Numeric, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from retention_desk.domain.clock import utcnow
from retention_desk.storage.types import JSONType, UTCDateTime

# Named constraints, so Alembic's batch mode can alter SQLite tables and PostgreSQL names match.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Money = Numeric(12, 2)


def SearchKey(length: int) -> Any:  # noqa: N802  (a type factory, named like the types it builds)
    return String(length).with_variant(String(length, collation="C"), "postgresql")


def _utc(*, nullable: bool = False, index: bool = False) -> Any:
    return Field(default=None if nullable else ..., sa_type=UTCDateTime, nullable=nullable, index=index)


def _created() -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


def _json(default_factory: type = dict) -> Any:
    return Field(default_factory=default_factory, sa_type=JSONType, nullable=False)


def _money(*, nullable: bool = False) -> Any:
    return Field(default=None if nullable else Decimal("0"), sa_type=Money, nullable=nullable)


def _fk(target: str, *, nullable: bool = False, index: bool = True, ondelete: str | None = None) -> Any:
    kwargs: dict[str, Any] = {"ondelete": ondelete} if ondelete else {}
    return Field(default=None, foreign_key=target, nullable=nullable, index=index, **kwargs)


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=80, unique=True, index=True)
    display_name: str = Field(max_length=120)
    password_hash: str = Field(max_length=256)
    role: str = Field(max_length=20)  # agent | supervisor | admin
    authority_tier: int = 1
    team: str | None = Field(default=None, max_length=80)
    locale: str = Field(default="en", max_length=10)
    active: bool = True
    created_at: datetime = _created()
    last_login_at: datetime | None = _utc(nullable=True)
    # Sessions carry the version they were signed in under; signing out, a new password or disabling the user bumps
    # it, so a copied cookie stops working at once on every node.
    session_version: int = Field(default=0, nullable=False)


class Account(SQLModel, table=True):
    """A subscriber as the billing system knows them; extra import columns live in ``extra``."""

    __tablename__ = "accounts"
    # Name search asks for the first 20 by (key, id): with id in the index a common surname (1-2 % of a base,
    # >10,000 rows at a million accounts) is a 20-row index walk, not a fetch and sort of every namesake.
    __table_args__ = (
        Index("ix_accounts_name_search_id", "name_search", "id"),
        Index("ix_accounts_surname_search_id", "surname_search", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_no: str = Field(max_length=40, unique=True, index=True)
    first_name: str = Field(default="", max_length=80)
    last_name: str = Field(default="", max_length=80)
    # Lower-cased copies so name search can use a prefix (range) index on both databases; byte-order ("C")
    # collation on PostgreSQL, because a locale collation's index cannot serve a prefix range.
    name_search: str = Field(default="", sa_type=SearchKey(170))
    surname_search: str = Field(default="", sa_type=SearchKey(80))
    email: str | None = Field(default=None, max_length=200)
    email_normalised: str | None = Field(default=None, max_length=200, index=True)
    phone: str | None = Field(default=None, max_length=40)
    phone_normalised: str | None = Field(default=None, max_length=20, index=True)  # E.164, e.g. +4791234567
    address: str | None = Field(default=None, max_length=200)
    postcode: str | None = Field(default=None, max_length=12)
    city: str | None = Field(default=None, max_length=80)
    region: str | None = Field(default=None, max_length=80)
    birth_year: int | None = None  # protected: never feeds the offer ranking
    segment: str | None = Field(default=None, max_length=40)
    plan_code: str | None = Field(default=None, max_length=40)
    contract_type: str = Field(default="month_to_month", max_length=20)  # month_to_month | one_year | two_year
    contract_end: date | None = None
    customer_since: date | None = None
    monthly_charge: Decimal = _money()
    currency: str = Field(default="NOK", max_length=3)
    payment_method: str | None = Field(default=None, max_length=30)
    status: str = Field(default="active", max_length=20, index=True)  # active | cancelled | suspended
    status_changed_at: datetime | None = _utc(nullable=True)
    churn_label: bool | None = None  # only from imports that carry a known outcome
    extra: dict[str, Any] = _json()
    source: str = Field(default="synthetic", max_length=80)
    created_at: datetime = _created()
    updated_at: datetime = _created()
    erased_at: datetime | None = _utc(nullable=True)  # personal data removed on the subscriber's request


class AccountService(SQLModel, table=True):
    """One product on the account: TV package, broadband line, mobile subscription or premium channel."""

    __tablename__ = "account_services"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = _fk("accounts.id", ondelete="CASCADE")
    kind: str = Field(max_length=20)  # tv | broadband | mobile | premium
    code: str = Field(max_length=40)
    name: str = Field(max_length=80)
    monthly_price: Decimal = _money()
    started_on: date | None = None
    ended_on: date | None = None


class Bill(SQLModel, table=True):
    __tablename__ = "bills"
    __table_args__ = (Index("ix_bills_account_period", "account_id", "period_start"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = _fk("accounts.id", index=False, ondelete="CASCADE")
    period_start: date
    amount: Decimal = _money()
    due_on: date | None = None
    paid_on: date | None = None


class Ticket(SQLModel, table=True):
    """A service ticket; outages are tickets of kind ``outage`` with their duration."""

    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_account_opened", "account_id", "opened_at"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = _fk("accounts.id", index=False, ondelete="CASCADE")
    kind: str = Field(max_length=20)  # outage | fault | billing | complaint | installation
    opened_at: datetime = _utc()
    closed_at: datetime | None = _utc(nullable=True)
    duration_hours: float | None = None
    summary: str = Field(default="", max_length=300)


class CancelReason(SQLModel, table=True):
    __tablename__ = "cancel_reasons"

    code: str = Field(primary_key=True, max_length=40)
    label: str = Field(max_length=120)
    description: str = Field(default="", max_length=400)
    sort_order: int = 0
    active: bool = True


class Offer(SQLModel, table=True):
    """A catalog entry; eligibility rules are data (see the catalog file in seed/)."""

    __tablename__ = "offers"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True, index=True)
    name: str = Field(max_length=120)
    script: str = Field(default="", max_length=500)
    kind: str = Field(max_length=30)
    params: dict[str, Any] = _json()
    duration_months: int | None = None
    cost_model: str = Field(default="one_off", max_length=20)  # monthly | one_off
    cost_amount: Decimal = _money()
    valid_from: date | None = None
    valid_to: date | None = None
    authority_tier: int = 1
    monthly_budget: Decimal | None = _money(nullable=True)
    max_per_year: int | None = None
    cooldown_days: int | None = None
    rules: dict[str, Any] = _json()
    prior_acceptance: float = 0.2
    active: bool = True
    created_at: datetime = _created()
    updated_at: datetime = _created()
    retired_at: datetime | None = _utc(nullable=True)


class OfferHistory(SQLModel, table=True):
    """Retention offers an account received before, from the desk or from the billing system's past."""

    __tablename__ = "offer_history"
    __table_args__ = (
        Index("ix_offer_history_account_at", "account_id", "offered_at"),
        Index("ix_offer_history_offer_at", "offer_code", "offered_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = _fk("accounts.id", index=False, ondelete="CASCADE")
    offer_code: str = Field(max_length=40)
    offer_kind: str = Field(max_length=30)
    offered_at: datetime = _utc()
    response: str = Field(max_length=20)  # accepted | declined
    ends_on: date | None = None
    cost: Decimal = _money()
    call_id: int | None = _fk("calls.id", nullable=True, ondelete="SET NULL")  # indexed: dashboards join on it


class OfferBudgetMonth(SQLModel, table=True):
    """What an offer's acceptances committed in one month (UTC), counted against its monthly budget."""

    __tablename__ = "offer_budget_months"
    __table_args__ = (UniqueConstraint("offer_code", "month", name="uq_offer_budget_months_offer_month"),)

    id: int | None = Field(default=None, primary_key=True)
    offer_code: str = Field(max_length=40)
    month: date  # the first day of the month
    spent: Decimal = _money()
    accepted: int = 0


class Call(SQLModel, table=True):
    """One desk interaction, with the exact ranked list the agent saw (``ranked``) and how it was chosen."""

    __tablename__ = "calls"
    __table_args__ = (
        Index("ix_calls_agent_started", "agent_id", "started_at"),
        Index("ix_calls_account_started", "account_id", "started_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=64, unique=True)
    account_id: int = _fk("accounts.id", index=False, ondelete="CASCADE")
    agent_id: int | None = _fk("users.id", nullable=True, index=False)
    started_at: datetime = _utc(index=True)
    cancel_requested_at: datetime | None = _utc(nullable=True)
    cancel_reason: str | None = Field(default=None, max_length=40, index=True)
    risk_score: float | None = None
    risk_band: str | None = Field(default=None, max_length=10)
    risk_model_version: str | None = Field(default=None, max_length=60)
    offer_model_version: str | None = Field(default=None, max_length=60)  # None: the catalog's priors ranked
    customer_value: float | None = None  # what keeping this caller was worth to the ranking
    reasons: list[Any] = _json(list)
    ranked: list[Any] = _json(list)  # [{offer_code, rank, p_stay, expected_value, propensity}, ...]
    decision_mode: str = Field(default="exploit", max_length=20)  # exploit | explore | holdout | rules_only
    disposition: str | None = Field(default=None, max_length=30, index=True)
    disposition_at: datetime | None = _utc(nullable=True)
    offer_code: str | None = Field(default=None, max_length=40, index=True)  # the offer that saved the call
    notes: str = Field(default="", max_length=4000)
    source: str = Field(default="desk", max_length=20)  # desk | synthetic | simulator
    ended_at: datetime | None = _utc(nullable=True)


# The log sorted by risk, highest first, walks this index instead of sorting every matching call (docs/supervisor.md,
# "Speed"). SQLite has no NULLS LAST in an index, but there NULLs sort first, so its plain index read backwards gives
# the same order.
_calls = Call.__table__.c  # type: ignore[attr-defined]
Index("ix_calls_risk_score_id", _calls.risk_score.desc().nulls_last(), _calls.id.desc()).ddl_if(dialect="postgresql")
Index("ix_calls_risk_score_id_asc", _calls.risk_score, _calls.id).ddl_if(dialect="sqlite")
# Objects that exist on one database only, by name: what schema comparisons must skip elsewhere.
DIALECT_ONLY = {"ix_calls_risk_score_id": "postgresql", "ix_calls_risk_score_id_asc": "sqlite"}


def belongs_to(dialect: str) -> Callable[..., bool]:
    """An Alembic ``include_object`` hook: leaves out the objects that exist on another database only."""

    def include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:  # noqa: ARG001
        return DIALECT_ONLY.get(name or "", dialect) == dialect

    return include


class CallOffer(SQLModel, table=True):
    """An offer the agent presented during a call, and the caller's answer."""

    __tablename__ = "call_offers"
    __table_args__ = (
        UniqueConstraint("call_id", "offer_code", name="uq_call_offers_call_offer"),
        Index("ix_call_offers_offer_presented", "offer_code", "presented_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    call_id: int = _fk("calls.id", ondelete="CASCADE")
    offer_code: str = Field(max_length=40)
    rank: int | None = None
    propensity: float | None = None
    p_stay: float | None = None
    expected_value: float | None = None
    presented_at: datetime = _utc()
    response: str | None = Field(default=None, max_length=20)  # accepted | declined | None while open
    responded_at: datetime | None = _utc(nullable=True)


class ApprovalRequest(SQLModel, table=True):
    """An agent's request to make an offer above their authority tier, and the decision on it."""

    __tablename__ = "approval_requests"
    __table_args__ = (
        Index("ix_approval_requests_status_requested", "status", "requested_at"),
        Index("ix_approval_requests_account_offer", "account_id", "offer_code"),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = _fk("accounts.id", index=False, ondelete="CASCADE")
    call_id: int | None = _fk("calls.id", nullable=True, ondelete="SET NULL")
    offer_code: str = Field(max_length=40)
    requested_by: int = _fk("users.id", index=False)
    requested_at: datetime = _utc()
    status: str = Field(default="pending", max_length=20)  # pending | approved | denied | withdrawn
    decided_by: int | None = _fk("users.id", nullable=True, index=False)
    decided_at: datetime | None = _utc(nullable=True)
    note: str = Field(default="", max_length=400)


class ModelVersion(SQLModel, table=True):
    """A trained artifact's registry row; serving trusts a file only if its sha256 matches ``sha256``."""

    __tablename__ = "model_versions"

    id: int | None = Field(default=None, primary_key=True)
    version: str = Field(max_length=60, unique=True, index=True)
    kind: str = Field(default="churn", max_length=30)
    status: str = Field(default="challenger", max_length=20, index=True)  # champion | challenger | retired
    created_at: datetime = _created()
    promoted_at: datetime | None = _utc(nullable=True)
    path: str = Field(max_length=400)
    sha256: str = Field(max_length=64)
    sklearn_version: str = Field(max_length=20)
    estimator: str = Field(default="", max_length=80)
    metrics: dict[str, Any] = _json()
    feature_list: list[Any] = _json(list)
    data_window_start: datetime | None = _utc(nullable=True)
    data_window_end: datetime | None = _utc(nullable=True)
    rows_train: int = 0
    rows_holdout: int = 0
    label_horizon_days: int = 90
    # The artifact bytes, so a node that lacks the file can fetch it from the one shared store.
    artifact: bytes | None = Field(default=None, sa_type=LargeBinary, nullable=True)


class SignInCounter(SQLModel, table=True):
    """Sign-in attempts per username or client address in the current window, counted with one atomic upsert so
    parallel guesses cannot all pass the throttle (``storage/users.count_sign_in``)."""

    __tablename__ = "sign_in_counters"

    key: str = Field(primary_key=True, max_length=200)  # "user:<name>" or "address:<ip>"
    window_start: datetime = Field(sa_type=UTCDateTime, nullable=False)
    attempts: int = Field(default=0, nullable=False)


class AuditEvent(SQLModel, table=True):
    """Who did what and when: sign-ins, failed sign-ins, and every change with its before and after."""

    __tablename__ = "audit_events"
    # Who opened an account, and everything else about one entity, is read by (type, id) newest first.
    __table_args__ = (
        Index("ix_audit_events_action_at", "action", "at"),
        Index("ix_audit_events_entity_at", "entity_type", "entity_id", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False, index=True)
    actor_id: int | None = _fk("users.id", nullable=True, index=False, ondelete="SET NULL")
    actor_name: str = Field(default="", max_length=80)
    action: str = Field(max_length=60)
    entity_type: str = Field(default="", max_length=40)
    entity_id: str = Field(default="", max_length=80)
    before: dict[str, Any] | None = Field(default=None, sa_type=JSONType, nullable=True)
    after: dict[str, Any] | None = Field(default=None, sa_type=JSONType, nullable=True)
    ip: str | None = Field(default=None, max_length=64)
    detail: str = Field(default="", max_length=400)
