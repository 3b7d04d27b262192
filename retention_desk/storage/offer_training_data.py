"""Logged desk decisions as offer-response training data: what came first on each call, how likely the logging
policy was to put it first, and whether the caller stayed.

A call's decision is its rank-1 item in ``Call.ranked`` (an offer code, or None for "no offer"), with the
propensity the logging policy gave it. The label is the churn model's (``churn_label_of``): stayed = not churned
within the horizon, so only calls older than the horizon (``plan_training_set``'s cutoff) carry one. Presentations
(``CallOffer`` rows) need no horizon: the answer is known at once, so they come from every call; so does how a call
that accepted nothing ended (the caller stayed, or cancelled), which the joint estimator reads as well.

Calls are read in account chunks with the same bulk loader as the churn training set, so the two read the same
snapshots and the same label rule.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session

from retention_desk.ml.features import Feature, build_features
from retention_desk.ml.offer_joint import CallAnswers
from retention_desk.storage.tables import Call, CallOffer
from retention_desk.storage.training_data import (
    CHUNK,
    TrainingPlan,
    _aware,
    _chunks,
    _load_chunk,
    churn_label_of,
)

ACCEPTED = "accepted"
DECLINED = "declined"


@dataclass(frozen=True)
class OfferExample:
    """One labelled decision: the caller as the desk saw them, what came first, and whether they stayed."""

    features: dict[str, Feature]
    as_of: datetime
    reason: str | None
    action: str | None  # the rank-1 offer code; None = no offer
    propensity: float  # P(the logging policy put ``action`` first on this call)
    stayed: bool
    accepted_code: str | None  # the offer the caller accepted during the call, if any
    call_id: int
    # Every action the logging policy could have put first (propensity > 0), with that propensity: what an
    # off-policy estimate needs to ask "what would another policy have chosen here?".
    choices: dict[str | None, float] = field(default_factory=dict)
    stayed_at_call: bool | None = None  # see ``ending_of``


@dataclass(frozen=True)
class RecentCall:
    """A call younger than the horizon: no fate yet, but its answers and how it ended are known."""

    features: dict[str, Feature]
    reason: str | None
    stayed_at_call: bool | None
    call_id: int


@dataclass(frozen=True)
class OfferPresentation:
    """One offer presented during a call and the caller's answer; ``follow_up`` = presented after a decline."""

    features: dict[str, Feature]
    reason: str | None
    offer_code: str
    accepted: bool
    follow_up: bool
    as_of: datetime
    call_id: int


@dataclass
class OfferData:
    """Everything one training run reads, with the counts of what it had to leave out."""

    decisions: list[OfferExample] = field(default_factory=list)
    presentations: list[OfferPresentation] = field(default_factory=list)
    skipped_no_decision: int = 0  # empty ranked list, or a rank-1 propensity missing or 0
    skipped_unlabelled: int = 0  # old enough, but the account had left before the call
    recent: list[RecentCall] = field(default_factory=list)  # younger than the horizon: answers and endings, no label

    @property
    def too_recent(self) -> int:
        return len(self.recent)


def decision_of(ranked: list | None) -> tuple[str | None, float, dict[str | None, float]] | None:
    """(action, propensity, every action with its propensity) of a stored ranked list; None when unusable."""
    if not ranked:
        return None
    items = sorted((i for i in ranked if isinstance(i, dict)), key=lambda i: i.get("rank") or 0)
    if not items:
        return None
    first = items[0]
    propensity = first.get("propensity")
    if propensity is None or not float(propensity) > 0:
        return None
    choices = {i.get("offer_code"): float(i["propensity"]) for i in items if (i.get("propensity") or 0) > 0}
    return first.get("offer_code"), float(propensity), choices


def ending_of(disposition: str | None) -> bool | None:
    """How a call ended, as the joint estimator reads it: True = the caller stayed without taking an offer, False =
    they cancelled; None when the disposition does not say (an accepted offer, a callback, an escalation, open)."""
    if disposition == "saved_without_offer":
        return True
    if disposition == "cancelled":
        return False
    return None


def load_offer_data(session: Session, plan: TrainingPlan) -> OfferData:
    """Decisions old enough to be labelled, and every presentation, read in account chunks."""
    data = OfferData()
    horizon = timedelta(days=plan.label_horizon_days)
    calls = session.execute(
        select(Call.id, Call.account_id, Call.started_at, Call.cancel_reason, Call.ranked, Call.disposition).order_by(
            Call.account_id, Call.started_at
        )
    ).all()
    for chunk in _chunks(calls, CHUNK):
        snapshots, leaving = _load_chunk(session, {row.account_id for row in chunk})
        answers = _answers(session, [row.id for row in chunk])
        for call_id, account_id, started_at, reason, ranked, disposition in chunk:
            started = _aware(started_at)
            snapshot = snapshots[account_id]
            features = build_features(snapshot, started)
            presented = answers.get(call_id, [])
            for n, (code, accepted) in enumerate(presented):
                data.presentations.append(OfferPresentation(features, reason, code, accepted, n > 0, started, call_id))
            if plan.cutoff is None or started > plan.cutoff:
                data.recent.append(RecentCall(features, reason, ending_of(disposition), call_id))
                continue
            decision = decision_of(ranked)
            if decision is None:
                data.skipped_no_decision += 1
                continue
            label = churn_label_of(leaving.get(account_id), snapshot.bills, started, horizon)
            if label is None:
                data.skipped_unlabelled += 1
                continue
            action, propensity, choices = decision
            accepted_code = next((code for code, accepted in presented if accepted), None)
            data.decisions.append(
                OfferExample(
                    features,
                    started,
                    reason,
                    action,
                    propensity,
                    not label,
                    accepted_code,
                    call_id,
                    choices,
                    ending_of(disposition),
                )
            )
    data.decisions.sort(key=lambda e: (e.as_of, e.call_id))
    return data


def answered_calls(data: OfferData, leave_out: Collection[int] = ()) -> list[CallAnswers]:
    """Every call with its answers in order, how it ended and, when labelled, its fate and decision propensity (the
    joint estimator's input), except the calls in ``leave_out`` (a hold-out). A call with no answers, no ending and
    no fate says nothing and is skipped."""
    answers: dict[int, list[OfferPresentation]] = {}
    for p in data.presentations:
        answers.setdefault(p.call_id, []).append(p)
    leave_out = set(leave_out)
    out = []
    for e in data.decisions:
        given = tuple((p.offer_code, p.accepted) for p in answers.pop(e.call_id, []))
        if e.call_id not in leave_out:
            out.append(CallAnswers(e.features, e.reason, given, e.stayed, e.propensity, e.stayed_at_call))
    for r in data.recent:
        given = tuple((p.offer_code, p.accepted) for p in answers.pop(r.call_id, []))
        if r.call_id not in leave_out and (given or r.stayed_at_call is not None):
            out.append(CallAnswers(r.features, r.reason, given, None, None, r.stayed_at_call))
    for call_id, given in answers.items():
        if call_id not in leave_out:
            said = tuple((p.offer_code, p.accepted) for p in given)
            out.append(CallAnswers(given[0].features, given[0].reason, said, None))
    return out


def iter_offer_examples(session: Session, plan: TrainingPlan) -> Iterator[OfferExample]:
    """The labelled decisions of ``load_offer_data``, oldest first."""
    yield from load_offer_data(session, plan).decisions


def _answers(session: Session, call_ids: list[int]) -> dict[int, list[tuple[str, bool]]]:
    """Per call, the answered presentations in the order they were made."""
    out: dict[int, list[tuple[str, bool]]] = {}
    rows = session.execute(
        select(CallOffer.call_id, CallOffer.offer_code, CallOffer.response)
        .where(CallOffer.call_id.in_(call_ids), CallOffer.response.in_([ACCEPTED, DECLINED]))
        .order_by(CallOffer.call_id, CallOffer.presented_at, CallOffer.rank)
    )
    for call_id, code, response in rows:
        out.setdefault(call_id, []).append((code, response == ACCEPTED))
    return out
