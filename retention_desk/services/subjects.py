"""The data subject's rights on the desk: everything stored about one subscriber, exported as one JSON document, and
the erasure of their personal data that keeps the figures, call counts and training rows built on them.

What erasure removes and keeps, and why, is in docs/privacy.md. In short: the account row stays (its id, its
billing-system number, status, plan, contract, charges, region) with its services, bills, offer history, calls and
their ranked lists, because the dashboards, the budgets and the nightly training count them; names, contact details,
address, birth year, the personal import extras and every free text written about the person go.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Session, SQLModel

from retention_desk.domain.clock import utcnow
from retention_desk.domain.i18n import _
from retention_desk.ml.features import EXTRA_PREFIX, is_protected
from retention_desk.services.audit import record_event
from retention_desk.storage import subjects as stored
from retention_desk.storage.tables import Account

EXPORT_FORMAT = "retention-desk subject export 1"
SUBJECT_EXPORTED, SUBJECT_ERASED = "subject_exported", "subject_erased"
# Import extras that name, contact or locate a person, matched on the words of the key (snake_case) and on two
# adjacent words joined ("e_mail", "phone_number"). "phone" and "name" count only as the last word: "phone_service"
# (has the subscriber a phone line?) is a product, "home_phone" a contact. In doubt the rule removes: a wrongly
# removed extra costs the model one feature of one erased account; a wrongly kept one keeps a person's data.
_PERSONAL_WORDS = frozenset(
    {
        "surname", "firstname", "lastname", "fullname", "givenname", "email", "emailaddress", "msisdn", "telephone",
        "address", "street", "postcode", "postalcode", "zipcode", "zip", "city", "town", "dob", "ssn", "nationalid",
        "personalnumber", "iban", "cardnumber", "phonenumber", "mobilenumber",
    }
)  # fmt: skip
_PERSONAL_LAST_WORDS = frozenset({"name", "phone", "mail"})


class SubjectError(ValueError):
    """The subscriber cannot be found (or the request cannot be done); the message is one sentence."""


@dataclass(frozen=True)
class Erasure:
    """What an erasure did: when the data was erased (the first time), and whether this run found it erased."""

    account_no: str
    account_id: int
    erased_at: datetime
    already_erased: bool
    extra_keys_removed: tuple[str, ...]

    def describe(self) -> str:
        when = self.erased_at.strftime("%Y-%m-%d %H:%M UTC")
        if self.already_erased:
            return _(
                "Account %(number)s was already erased on %(when)s; its free text was checked again.",
                number=self.account_no,
                when=when,
            )
        return _(
            "Erased the personal data of account %(number)s; its calls, bills and offers are kept for the figures.",
            number=self.account_no,
        )


def is_personal_extra(key: str) -> bool:
    """An import extra that is personal (names a person, contacts or locates them) or protected (age, gender, …)."""
    if key.startswith("_"):  # "_protected": the columns the mapping marked protected, kept only for measurement
        return True
    words = [w for w in key.lower().replace("-", "_").split("_") if w]
    if not words or is_protected(key) or "birth" in "".join(words):
        return True
    pairs = [first + second for first, second in zip(words, words[1:], strict=False)]
    return words[-1] in _PERSONAL_LAST_WORDS or any(w in _PERSONAL_WORDS for w in (*words, *pairs))


def find_subject(*, session: Session, account_no: str) -> Account:
    """The account with this number; SubjectError with one sentence when there is none."""
    account = stored.account_by_number(session, account_no.strip())
    if account is None:
        raise SubjectError(_("There is no account with the number %(number)s.", number=repr(account_no.strip())))
    return account


def export_subject(*, session: Session, account_no: str, actor_name: str = "cli") -> dict[str, Any]:
    """Everything stored about the subscriber as one JSON-ready document (dates ISO, money as strings); audited."""
    account = find_subject(session=session, account_no=account_no)
    account_id = account.id or 0
    calls = stored.calls_of(session, account_id)
    presented: dict[int, list[dict[str, Any]]] = {}
    for row in stored.offers_presented_on(session, [call.id or 0 for call, _agent in calls]):
        presented.setdefault(row.call_id, []).append(_row(row))
    document = {
        "format": EXPORT_FORMAT,
        "exported_at": _plain(utcnow()),
        "account": _row(account),
        "services": [_row(r) for r in stored.services_of(session, account_id)],
        "bills": [_row(r) for r in stored.bills_of(session, account_id)],
        "tickets": [_row(r) for r in stored.tickets_of(session, account_id)],
        "offer_history": [_row(r) for r in stored.offer_history_of(session, account_id)],
        "calls": [
            {**_row(call), "agent": agent, "presented_offers": presented.get(call.id or 0, [])} for call, agent in calls
        ],
        "approval_requests": [_row(r) for r in stored.approval_requests_of(session, account_id)],
        "audit_events": [_row(r) for r in stored.audit_events_about(session, account_id)],
    }
    record_event(
        session=session,
        action=SUBJECT_EXPORTED,
        actor_name=actor_name,
        entity_type="account",
        entity_id=account_id,
        detail="everything stored about the subscriber, exported as JSON",
    )
    return document


def erase_subject(
    *, session: Session, account_no: str, actor_name: str = "cli", now: datetime | None = None
) -> Erasure:
    """Remove the subscriber's personal data and keep what the figures rest on; erasing again checks the free text
    again and keeps the first date. Audited without any of the erased values."""
    account = find_subject(session=session, account_no=account_no)
    account_id, first_erased = account.id or 0, account.erased_at
    removed = tuple(sorted(k for k in (account.extra or {}) if is_personal_extra(k)))
    kept_extra = {k: v for k, v in (account.extra or {}).items() if k not in removed}
    erased_at = first_erased or now or utcnow()
    stored.erase_account(session, account_id, extra=kept_extra, at=None if first_erased else erased_at)
    stored.erase_free_text(session, account_id)
    _scrub_logged_reasons(session, account_id)
    _scrub_audit_notes(session, account_id)
    record_event(
        session=session,
        action=SUBJECT_ERASED,
        actor_name=actor_name,
        entity_type="account",
        entity_id=account_id,
        after={
            "erased_at": _plain(erased_at),
            "cleared": [*stored.ERASED_ACCOUNT_VALUES, "calls.notes", "tickets.summary", "approval_requests.note"],
            "extra_keys_removed": list(removed),
        },
        detail="already erased; free text checked again" if first_erased else "personal data erased on request",
    )
    return Erasure(account.account_no, account_id, erased_at, first_erased is not None, removed)


def _scrub_logged_reasons(session: Session, account_id: int) -> None:
    """A call logs the reasons behind its risk with each feature's value; a personal extra's value goes."""
    changed: dict[int, list[Any]] = {}
    for call, _agent in stored.calls_of(session, account_id):
        reasons = [dict(r) for r in call.reasons if isinstance(r, dict)]
        personal = [r for r in reasons if _is_personal_feature(str(r.get("feature") or ""))]
        for reason in personal:
            reason.update(value=None, params={})
        if personal:
            changed[call.id or 0] = reasons
    stored.replace_call_reasons(session, changed)


def _is_personal_feature(feature: str) -> bool:
    return feature.startswith(EXTRA_PREFIX) and is_personal_extra(feature[len(EXTRA_PREFIX) :])


def _scrub_audit_notes(session: Session, account_id: int) -> None:
    """Approval decisions are audited with the supervisor's note, which can speak of the person: the note goes.
    (No other audit row holds subscriber data: views, exports and erasures name the account by its id only.)"""
    changes = {}
    for event in stored.audit_events_about(session, account_id):
        before, after = _without_note(event.before), _without_note(event.after)
        if (before, after) != (event.before, event.after):
            changes[event.id or 0] = (before, after)
    stored.replace_audit_changes(session, changes)


def _without_note(document: dict[str, Any] | None) -> dict[str, Any] | None:
    if not document or not document.get("note"):
        return document
    return {**document, "note": ""}


def _row(row: SQLModel) -> dict[str, Any]:
    """Every stored column of a table row, as JSON-ready values (binary columns are not subscriber data)."""
    table = row.__table__  # type: ignore[attr-defined]
    return {c.key: _plain(getattr(row, c.key)) for c in table.columns if not isinstance(getattr(row, c.key), bytes)}


def _plain(value: Any) -> Any:
    """Dates and times as ISO text (times in UTC), money as a string so no cent is rounded, JSON as it is."""
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo else value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value
