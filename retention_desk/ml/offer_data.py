"""Logged desk calls as offer-model training data: what came first on each call, how likely the logging policy was
to put it first, whether the caller stayed, and every answer given.

A call's decision is its rank-1 item in the stored ranked list (an offer code, or None for "no offer"), with the
propensity the logging policy gave it. The label is the churn model's (``labels.churn_label_of``): stayed = not
churned within the horizon, so only calls older than the horizon (the plan's cutoff) carry one. Answers need no
horizon: an answer is known at once, so they come from every call; so does how a call that accepted nothing ended
(the caller stayed, or cancelled), which the joint estimator reads as well.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session

from retention_desk.ml.features import Feature, build_features
from retention_desk.ml.labels import churn_label_of, ending_of
from retention_desk.ml.offer_joint import CallAnswers
from retention_desk.storage.offer_training_data import Answer, StoredCall, iter_offer_calls
from retention_desk.storage.training_data import TrainingPlan

__all__ = [
    "OfferData",
    "OfferExample",
    "OfferPresentation",
    "RecentCall",
    "answered_calls",
    "decision_of",
    "load_offer_data",
    "offer_data_from",
]


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
    stayed_at_call: bool | None = None  # see ``labels.ending_of``


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


def load_offer_data(session: Session, plan: TrainingPlan) -> OfferData:
    """Decisions old enough to be labelled, and every answer, from the calls storage reads in account chunks."""
    return offer_data_from(iter_offer_calls(session), plan)


def offer_data_from(calls: Iterable[StoredCall], plan: TrainingPlan) -> OfferData:
    """The training data of these stored calls: features as of each call, decisions labelled where old enough."""
    data = OfferData()
    horizon = timedelta(days=plan.label_horizon_days)
    for call in calls:
        started = call.started_at
        features = build_features(call.snapshot, started)
        for n, answer in enumerate(call.answers):
            data.presentations.append(
                OfferPresentation(
                    features, call.reason, answer.offer_code, answer.accepted, n > 0, started, call.call_id
                )
            )
        ending = ending_of(call.disposition)
        if plan.cutoff is None or started > plan.cutoff:
            data.recent.append(RecentCall(features, call.reason, ending, call.call_id))
            continue
        decision = decision_of(call.ranked)
        if decision is None:
            data.skipped_no_decision += 1
            continue
        label = churn_label_of(call.left_at, call.snapshot.bills, started, horizon)
        if label is None:
            data.skipped_unlabelled += 1
            continue
        action, propensity, choices = decision
        accepted_code = next((a.offer_code for a in call.answers if a.accepted), None)
        data.decisions.append(
            OfferExample(
                features,
                started,
                call.reason,
                action,
                propensity,
                not label,
                accepted_code,
                call.call_id,
                choices,
                ending,
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
        given = _answers_of(answers.pop(e.call_id, []))
        if e.call_id not in leave_out:
            out.append(CallAnswers(e.features, e.reason, given, e.stayed, e.propensity, e.stayed_at_call))
    for r in data.recent:
        given = _answers_of(answers.pop(r.call_id, []))
        if r.call_id not in leave_out and (given or r.stayed_at_call is not None):
            out.append(CallAnswers(r.features, r.reason, given, None, None, r.stayed_at_call))
    for call_id, presented in answers.items():
        if call_id not in leave_out:
            out.append(CallAnswers(presented[0].features, presented[0].reason, _answers_of(presented), None))
    return out


def _answers_of(presented: list[OfferPresentation]) -> tuple[Answer, ...]:
    return tuple(Answer(p.offer_code, p.accepted) for p in presented)
