"""Queries that read the desk's logged calls for the offer model: each call with its account, the ranked list it
showed, the answers the caller gave, how it ended and when the account left.

Storage reads these facts only; which calls carry a label, what the decision was and how a call's ending reads are
the offer model's (``ml.offer_data``). Calls are read in account chunks with the same bulk loader as the churn
training set, so the two read the same snapshots.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from retention_desk.domain.vocabulary import ACCEPTED, DECLINED
from retention_desk.storage.snapshots import AccountSnapshot
from retention_desk.storage.tables import Call, CallOffer
from retention_desk.storage.training_data import CHUNK, _aware, _chunks, _load_chunk

__all__ = ["Answer", "StoredCall", "iter_offer_calls"]


@dataclass(frozen=True)
class Answer:
    """A caller's answer to one offer presented during a call."""

    offer_code: str
    accepted: bool


@dataclass(frozen=True)
class StoredCall:
    """One logged desk call as stored, with its account's snapshot (shared by the account's calls of a chunk)."""

    call_id: int
    snapshot: AccountSnapshot
    started_at: datetime
    reason: str | None
    ranked: list[Any] | None  # the ranked list the desk showed, as stored (``Call.ranked``)
    disposition: str | None
    answers: tuple[Answer, ...]  # the answered presentations, in the order they were made
    left_at: datetime | None  # when the account left, if it has


def iter_offer_calls(session: Session) -> Iterator[StoredCall]:
    """Every logged call, ordered by account and start, read in account chunks."""
    calls = session.execute(
        select(Call.id, Call.account_id, Call.started_at, Call.cancel_reason, Call.ranked, Call.disposition).order_by(
            Call.account_id, Call.started_at
        )
    ).all()
    for chunk in _chunks(calls, CHUNK):
        snapshots, leaving = _load_chunk(session, {row.account_id for row in chunk})
        answers = _answers(session, [row.id for row in chunk])
        for call_id, account_id, started_at, reason, ranked, disposition in chunk:
            yield StoredCall(
                call_id,
                snapshots[account_id],
                _aware(started_at),
                reason,
                ranked,
                disposition,
                tuple(answers.get(call_id, ())),
                leaving.get(account_id),
            )


def _answers(session: Session, call_ids: list[int]) -> dict[int, list[Answer]]:
    """Per call, the answered presentations in the order they were made."""
    out: dict[int, list[Answer]] = {}
    rows = session.execute(
        select(CallOffer.call_id, CallOffer.offer_code, CallOffer.response)
        .where(CallOffer.call_id.in_(call_ids), CallOffer.response.in_([ACCEPTED, DECLINED]))
        .order_by(CallOffer.call_id, CallOffer.presented_at, CallOffer.rank)
    )
    for call_id, code, response in rows:
        out.setdefault(call_id, []).append(Answer(code, response == ACCEPTED))
    return out
