"""The offer log: every desk call, filtered, sorted and paged in SQL; streamed as CSV; one call as the agent saw it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlmodel import Session

from retention_desk.domain.i18n import _
from retention_desk.domain.reasons import Reason
from retention_desk.domain.vocabulary import DISPOSITIONS
from retention_desk.services.audit import Viewer, record_account_view
from retention_desk.services.catalog.store import offers_in_database
from retention_desk.services.database import open_session
from retention_desk.services.exports import csv_stream, iso_utc
from retention_desk.storage import approvals, call_log, calls, catalog, users

PAGE_SIZE = 50
MAX_PAGE = 2000  # OFFSET paging: deeper than this, narrow the filters instead
CSV_CHUNK = 1000
RISK_BANDS = ("low", "medium", "high")
SORTS = tuple(call_log.SORT_COLUMNS)
CSV_HEADER = (
    "call_id",
    "started_at",
    "ended_at",
    "account_no",
    "agent",
    "team",
    "cancel_reason",
    "risk_score",
    "risk_band",
    "risk_model_version",
    "offer_model_version",
    "decision_mode",
    "offers_presented",
    "disposition",
    "saved_by_offer",
    "notes",
    "source",
)


class OfferLogError(ValueError):
    """A filter of the offer log is not valid; the message names it."""


@dataclass(frozen=True)
class CallFilter:
    """What the supervisor asked for; dates are inclusive UTC days."""

    date_from: date | None = None
    date_to: date | None = None
    agent_id: int | None = None
    team: str | None = None
    offer_code: str | None = None
    cancel_reason: str | None = None
    disposition: str | None = None
    risk_band: str | None = None
    sort: str = "started"
    descending: bool = True

    def checked(self) -> CallFilter:
        """The same filter, or OfferLogError naming the first value that cannot be right."""
        if self.disposition and self.disposition not in DISPOSITIONS:
            raise OfferLogError(_("There is no disposition %(value)s.", value=repr(self.disposition)))
        if self.risk_band and self.risk_band not in RISK_BANDS:
            raise OfferLogError(_("There is no risk band %(value)s.", value=repr(self.risk_band)))
        if self.sort not in SORTS:
            raise OfferLogError(_("The log cannot be sorted by %(value)s.", value=repr(self.sort)))
        if self.date_from and self.date_to and self.date_to < self.date_from:
            raise OfferLogError(_("The end date is before the start date."))
        return self

    def query(self) -> call_log.CallQuery:
        return call_log.CallQuery(
            since=_day_start(self.date_from),
            until=_day_start(self.date_to + timedelta(days=1)) if self.date_to else None,
            agent_id=self.agent_id,
            team=self.team or None,
            offer_code=self.offer_code or None,
            cancel_reason=self.cancel_reason or None,
            disposition=self.disposition or None,
            risk_band=self.risk_band or None,
            sort=self.sort,
            descending=self.descending,
        )


@dataclass(frozen=True)
class CallLine:
    id: int
    started_at: datetime
    ended_at: datetime | None
    account_no: str
    customer: str
    agent: str
    team: str
    cancel_reason: str | None
    risk_score: float | None
    risk_band: str | None
    decision_mode: str
    disposition: str | None
    offer_code: str | None
    presented: list[tuple[str, str | None]] = field(default_factory=list)  # (offer code, response)


@dataclass(frozen=True)
class CallLogPage:
    rows: list[CallLine]
    page: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.page > 1


@dataclass(frozen=True)
class LogChoices:
    """What the filter lists offer."""

    agents: list[tuple[int, str]]
    teams: list[str]
    offers: list[tuple[str, str]]
    reasons: list[tuple[str, str]]
    dispositions: tuple[str, ...] = DISPOSITIONS
    risk_bands: tuple[str, ...] = RISK_BANDS
    sorts: tuple[str, ...] = SORTS


def call_log_page(*, session: Session, filters: CallFilter, page: int = 1, page_size: int = PAGE_SIZE) -> CallLogPage:
    """One page of the log; one extra row is read to know whether there is a next page."""
    page = min(max(page, 1), MAX_PAGE)
    found = call_log.call_log_rows(
        session, filters.checked().query(), offset=(page - 1) * page_size, limit=page_size + 1
    )
    rows = found[:page_size]
    presented = _presented_by_call(session, [r.id for r in rows])
    return CallLogPage(
        rows=[_line(r, presented.get(r.id, [])) for r in rows], page=page, has_next=len(found) > page_size
    )


def log_choices(*, session: Session) -> LogChoices:
    agents, teams = users.agents_and_teams(session)
    return LogChoices(
        agents=agents, teams=teams, offers=catalog.offer_codes(session), reasons=catalog.cancel_reasons(session)
    )


@dataclass(frozen=True)
class CallLogScreen:
    """What the offer log screen shows: the page (None when the filter is unusable), the filter lists, the error."""

    page: CallLogPage | None
    choices: LogChoices
    error: str | None


def call_log_screen(
    *, session: Session, filters: CallFilter, page: int = 1, filter_error: str | None = None
) -> CallLogScreen:
    """The log screen in one call: a filter the form could not read (``filter_error``) or the query refuses still
    gets its filter lists, so the supervisor can correct it."""
    found, error = None, filter_error
    if error is None:
        try:
            found = call_log_page(session=session, filters=filters, page=page)
        except OfferLogError as exc:
            error = str(exc)
    return CallLogScreen(found, log_choices(session=session), error)


def call_log_csv(*, database_url: str, filters: CallFilter, chunk: int = CSV_CHUNK) -> Iterator[str]:
    """The matching calls as CSV text, a chunk of rows at a time: memory stays flat however many calls match.

    The stream outlives the request that started it, so it opens its own session and closes it when the last row is
    sent or the client goes away (a generator's ``finally``): no connection is left idle in a transaction.
    """
    query = filters.checked().query()
    session = open_session(database_url)
    try:
        yield from csv_stream(CSV_HEADER, _log_rows(session, query, chunk))
    finally:
        session.rollback()
        session.close()


def _log_rows(session: Session, query: call_log.CallQuery, chunk: int) -> Iterator[list[list[Any]]]:
    for rows in call_log.call_log_stream(session, query, chunk=chunk):
        presented = _presented_by_call(session, [r.id for r in rows])
        yield [
            [
                r.id,
                iso_utc(r.started_at),
                iso_utc(r.ended_at),
                r.account_no,
                r.username or "",
                r.team or "",
                r.cancel_reason or "",
                "" if r.risk_score is None else f"{r.risk_score:.4f}",
                r.risk_band or "",
                r.risk_model_version or "",
                r.offer_model_version or "",
                r.decision_mode,
                " ".join(f"{code}:{response or 'open'}" for code, response in presented.get(r.id, [])),
                r.disposition or "",
                r.offer_code or "",
                r.notes or "",
                r.source,
            ]
            for r in rows
        ]


def _presented_by_call(session: Session, call_ids: list[int]) -> dict[int, list[tuple[str, str | None]]]:
    out: dict[int, list[tuple[str, str | None]]] = {}
    for row in call_log.presented_offers(session, call_ids):
        out.setdefault(row.call_id, []).append((row.offer_code, row.response))
    return out


def _line(r: Any, presented: list[tuple[str, str | None]]) -> CallLine:
    return CallLine(
        id=r.id,
        started_at=r.started_at,
        ended_at=r.ended_at,
        account_no=r.account_no,
        customer=f"{r.first_name} {r.last_name}".strip(),
        agent=r.display_name or "",
        team=r.team or "",
        cancel_reason=r.cancel_reason,
        risk_score=r.risk_score,
        risk_band=r.risk_band,
        decision_mode=r.decision_mode,
        disposition=r.disposition,
        offer_code=r.offer_code,
        presented=presented,
    )


def _day_start(day: date | None) -> datetime | None:
    return datetime.combine(day, time.min, tzinfo=UTC) if day else None


# --- one call -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RankedLine:
    """One item of the ranked list as the agent saw it, with what became of it."""

    rank: int
    offer_code: str | None  # None: "no offer"
    offer_name: str
    p_stay: float | None
    p_accept: float | None
    expected_value: float | None
    propensity: float | None
    needs_approval: bool
    response: str | None = None
    presented_at: datetime | None = None
    responded_at: datetime | None = None

    @property
    def presented(self) -> bool:
        return self.presented_at is not None


@dataclass(frozen=True)
class ApprovalLine:
    offer_code: str
    requested_by: str
    requested_at: datetime
    status: str
    decided_by: str | None
    decided_at: datetime | None
    note: str


@dataclass(frozen=True)
class CallRecord:
    """Everything logged about one call."""

    id: int
    account_id: int
    account_no: str
    customer: str
    agent: str
    team: str
    started_at: datetime
    cancel_requested_at: datetime | None
    disposition_at: datetime | None
    ended_at: datetime | None
    cancel_reason: str | None
    risk_score: float | None
    risk_band: str | None
    risk_model_version: str | None
    offer_model_version: str | None
    decision_mode: str
    customer_value: float | None
    reasons: list[Reason]  # as the agent read them
    ranked: list[RankedLine]
    disposition: str | None
    offer_code: str | None
    notes: str
    source: str
    approvals: list[ApprovalLine]
    presented_off_list: list[RankedLine] = field(default_factory=list)  # presented but not on the stored list


def call_record(*, session: Session, call_id: int, viewer: Viewer | None = None) -> CallRecord | None:
    """The call and its account as logged; with a ``viewer`` the opening is audited (the caller commits)."""
    found = calls.call_with_people(session, call_id)
    if found is None:
        return None
    call, account, agent = found
    if viewer is not None:
        record_account_view(session=session, account_id=account.id or 0, viewer=viewer)
    names = {o.code: o.name for o in offers_in_database(session=session)}
    presented = {row.offer_code: row for row in call_log.presented_offers(session, [call_id])}
    ranked = [_ranked_line(item, names, presented) for item in sorted(call.ranked, key=lambda i: i.get("rank", 0))]
    listed = {line.offer_code for line in ranked}
    off_list = [
        replace(
            _ranked_line({"offer_code": code, "rank": row.rank or 0}, names, presented),
            p_stay=row.p_stay,
            expected_value=row.expected_value,
            propensity=row.propensity,
        )
        for code, row in presented.items()
        if code not in listed
    ]
    return CallRecord(
        id=call.id or 0,
        account_id=account.id or 0,
        account_no=account.account_no,
        customer=f"{account.first_name} {account.last_name}".strip(),
        agent=agent.display_name if agent else "",
        team=(agent.team or "") if agent else "",
        started_at=call.started_at,
        cancel_requested_at=call.cancel_requested_at,
        disposition_at=call.disposition_at,
        ended_at=call.ended_at,
        cancel_reason=call.cancel_reason,
        risk_score=call.risk_score,
        risk_band=call.risk_band,
        risk_model_version=call.risk_model_version,
        offer_model_version=call.offer_model_version,
        decision_mode=call.decision_mode,
        customer_value=call.customer_value,
        reasons=[Reason.from_log(r) for r in call.reasons if isinstance(r, dict)],
        ranked=ranked,
        disposition=call.disposition,
        offer_code=call.offer_code,
        notes=call.notes,
        source=call.source,
        approvals=[
            ApprovalLine(r.offer_code, asker, r.requested_at, r.status, decider, r.decided_at, r.note)
            for r, asker, decider in approvals.approval_requests_of_call(session, call_id)
        ],
        presented_off_list=off_list,
    )


def _ranked_line(item: dict[str, Any], names: dict[str, str], presented: dict[str, Any]) -> RankedLine:
    code = item.get("offer_code")
    shown = presented.get(code) if code else None
    return RankedLine(
        rank=int(item.get("rank") or 0),
        offer_code=code,
        offer_name=names.get(code, code) if code else "",
        p_stay=item.get("p_stay"),
        p_accept=item.get("p_accept"),
        expected_value=item.get("expected_value"),
        propensity=item.get("propensity"),
        needs_approval=bool(item.get("needs_approval")),
        response=shown.response if shown else None,
        presented_at=shown.presented_at if shown else None,
        responded_at=shown.responded_at if shown else None,
    )
