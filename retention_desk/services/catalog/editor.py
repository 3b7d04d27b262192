"""The catalog editor: offers as a form reads them, checked by the catalog's own validation, saved through the
audited upsert; retiring an offer; this month's spending against each cap; one offer's audit trail.

A form gives texts. They are turned into the values a catalog file would hold (numbers, dates, lists) and then
validated by ``catalog.parse_offers``, so the editor and ``retention-desk catalog load`` accept exactly the same
offers and word their refusals the same way.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlmodel import Session

from retention_desk.domain.catalog import OfferSpec
from retention_desk.domain.clock import utcnow
from retention_desk.domain.i18n import _
from retention_desk.services.audit import record_event
from retention_desk.services.catalog.files import LIST_RULES, NUMBER_RULES, CatalogError, parse_offers
from retention_desk.services.catalog.store import upsert_offers
from retention_desk.services.staff.users import get_user
from retention_desk.storage import audit, budgets, catalog
from retention_desk.storage.budgets import budget_month
from retention_desk.storage.tables import AuditEvent, Offer, User

WHOLE_FIELDS = ("duration_months", "authority_tier", "max_per_year", "cooldown_days")
MONEY_FIELDS = ("cost_amount", "monthly_budget")
TEXT_FIELDS = ("name", "script", "kind", "cost_model")
DATE_FIELDS = ("valid_from", "valid_to")
MAX_DIGITS = 12
_FIELD_IN_MESSAGE = re.compile(r"field '([a-z_]+(?:\.[a-z_]+)?)'")


class OfferEditError(CatalogError):
    """An offer cannot be saved as entered; ``field`` names the form field at fault (None: the whole offer)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class OfferSummary:
    """One catalog line with what it committed this month."""

    code: str
    name: str
    kind: str
    authority_tier: int
    active: bool
    retired_at: datetime | None
    monthly_budget: Decimal | None
    spent: Decimal
    accepted: int

    @property
    def share_used(self) -> float | None:
        """The part of the cap used (0–1+); None without a cap."""
        if not self.monthly_budget:
            return None
        return float(self.spent / self.monthly_budget)


def catalog_overview(*, session: Session, now: datetime | None = None) -> tuple[date, list[OfferSummary]]:
    """Every offer with this month's (UTC) spending and acceptances; the month is returned too."""
    month = budget_month(now or utcnow())
    spent = budgets.spent_in_month(session, month)
    return month, [
        OfferSummary(
            code=o.code,
            name=o.name,
            kind=o.kind,
            authority_tier=o.authority_tier,
            active=o.active,
            retired_at=o.retired_at,
            monthly_budget=o.monthly_budget,
            spent=spent.get(o.code, (Decimal("0.00"), 0))[0],
            accepted=spent.get(o.code, (Decimal("0.00"), 0))[1],
        )
        for o in catalog.offers_table(session)
    ]


def offer_for_editing(*, session: Session, code: str) -> Offer | None:
    return catalog.offer_row(session, code)


def offer_audit(*, session: Session, code: str) -> list[AuditEvent]:
    return audit.offer_audit_events(session, code)


def form_values(offer: Offer | OfferSpec) -> dict[str, str]:
    """An offer as the form's texts (the inverse of ``offer_from_form``)."""
    values: dict[str, str] = {"code": offer.code}
    for name in (*TEXT_FIELDS, *WHOLE_FIELDS, *MONEY_FIELDS, *DATE_FIELDS, "prior_acceptance"):
        value = getattr(offer, name)
        values[name] = "" if value is None else (value.isoformat() if isinstance(value, date) else str(value))
    values["params"] = "\n".join(f"{k} = {_toml_value(v)}" for k, v in offer.params.items())
    for rule in LIST_RULES:
        values[f"rules.{rule}"] = ", ".join(offer.rules.get(rule, []))
    for rule in NUMBER_RULES:
        values[f"rules.{rule}"] = "" if rule not in offer.rules else str(offer.rules[rule])
    values["active"] = "yes" if offer.active else ""
    return values


def offer_from_form(form: dict[str, str], *, code: str) -> OfferSpec:
    """The offer the form describes, validated as a catalog entry; OfferEditError names the field at fault."""
    item: dict[str, Any] = {"code": code.strip().upper()}
    for name in TEXT_FIELDS:
        item[name] = (form.get(name) or "").strip()
    for name in WHOLE_FIELDS:
        _put(item, name, form.get(name), _whole)
    for name in MONEY_FIELDS:
        _put(item, name, form.get(name), _number)
    for name in DATE_FIELDS:
        _put(item, name, form.get(name), _date)
    _put(item, "prior_acceptance", form.get("prior_acceptance"), _number)
    item["params"] = _params(form.get("params") or "")
    rules: dict[str, Any] = {}
    for rule in LIST_RULES:
        parts = [p.strip() for p in (form.get(f"rules.{rule}") or "").split(",") if p.strip()]
        if parts:
            rules[rule] = parts
    for rule in NUMBER_RULES:
        _put(rules, rule, form.get(f"rules.{rule}"), _number, where=f"rules.{rule}")
    item["rules"] = rules
    item["active"] = form.get("active") in ("yes", "on", "true", "1")
    try:
        return parse_offers({"offers": [item]})[0]
    except CatalogError as exc:
        found = _FIELD_IN_MESSAGE.search(str(exc))
        name = found.group(1) if found else "code"
        raise OfferEditError(str(exc), "params" if name.startswith("params.") else name) from None


def create_offer(*, session: Session, spec: OfferSpec, actor_id: int) -> Offer:
    """Add a new offer (audited); a code already in the catalog is refused."""
    actor = _actor(session, actor_id)
    if catalog.offer_row(session, spec.code) is not None:
        raise OfferEditError(_("offer %(code)s: field 'code' is already used by another offer", code=spec.code), "code")
    upsert_offers(session=session, offers=[spec], actor=actor)
    return catalog.offer_row(session, spec.code)  # type: ignore[return-value]


def update_offer(*, session: Session, spec: OfferSpec, actor_id: int, seen_version: str | None = None) -> Offer:
    """Save the changed fields (audited with before and after); refused if someone saved it after the form was read.

    Making a retired offer active again clears its retirement.
    """
    actor = _actor(session, actor_id)
    row = catalog.offer_row(session, spec.code)
    if row is None:
        raise OfferEditError(_("There is no offer %(code)s in the catalog.", code=spec.code))
    if seen_version and seen_version != version_of(row):
        raise OfferEditError(
            _("offer %(code)s: someone else saved it after you opened it; reload and try again", code=spec.code)
        )
    was_retired = row.retired_at
    upsert_offers(session=session, offers=[spec], actor=actor)
    if spec.active and was_retired is not None:
        row.retired_at = None
        record_event(
            session=session,
            action="offer_reinstated",
            actor=actor,
            entity_type="offer",
            entity_id=spec.code,
            before={"retired_at": was_retired.isoformat()},
            after={"retired_at": None},
        )
        session.flush()
    return row


def retire_offer(*, session: Session, code: str, actor_id: int, now: datetime | None = None) -> Offer:
    """Take the offer off the desk (active = false, retired_at = now), audited; it stays in the log and reports."""
    actor = _actor(session, actor_id)
    row = catalog.offer_row(session, code)
    if row is None:
        raise OfferEditError(_("There is no offer %(code)s in the catalog.", code=code))
    if row.retired_at is not None:
        raise OfferEditError(_("Offer %(code)s is already retired.", code=code))
    now = now or utcnow()
    before = {"active": row.active, "retired_at": None}
    row.active, row.retired_at, row.updated_at = False, now, now
    record_event(
        session=session,
        action="offer_retired",
        actor=actor,
        entity_type="offer",
        entity_id=code,
        before=before,
        after={"active": False, "retired_at": now.isoformat()},
    )
    session.flush()
    return row


def _actor(session: Session, actor_id: int) -> User:
    """The signed-in user the audit row names; a user who no longer exists may not change the catalog."""
    actor = get_user(session=session, user_id=actor_id)
    if actor is None or not actor.active:
        raise OfferEditError(_("Only an active user may change the catalog."))
    return actor


def version_of(row: Offer) -> str:
    """What the edit form carries to notice a concurrent save."""
    return row.updated_at.isoformat()


def _put(target: dict[str, Any], name: str, text: str | None, parse: Any, where: str | None = None) -> None:
    text = (text or "").strip()
    if text:
        target[name] = parse(text, where or name)


def _whole(text: str, name: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise OfferEditError(_("field '%(name)s' must be a whole number", name=name), name) from None


def _number(text: str, name: str) -> int | float:
    try:
        value = Decimal(text.replace(" ", "").replace("\u00a0", ""))
    except InvalidOperation:
        raise OfferEditError(_("field '%(name)s' must be a number", name=name), name) from None
    if not value.is_finite():
        raise OfferEditError(_("field '%(name)s' must be a number", name=name), name)
    if value.adjusted() >= MAX_DIGITS:  # past any amount or count a catalog holds (and past what a float keeps)
        raise OfferEditError(_("field '%(name)s' is too large", name=name), name)
    return int(value) if value == value.to_integral_value() else float(value)


def _date(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise OfferEditError(_("field '%(name)s' must be a date such as 2026-01-31", name=name), name) from None


def _params(text: str) -> dict[str, Any]:
    """``key = value`` lines, as in the catalog file's ``params`` table."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise OfferEditError(
            _("field 'params' must be lines such as percent = 10 (%(problem)s)", problem=str(exc)), "params"
        ) from None


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value)
