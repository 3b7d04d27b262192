"""The seeded synthetic world the simulator runs on: regenerated from the seeding's record, its callers, and what
happens to the accounts between calls (relapsed saves leave, tickets and outages arrive)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
from sqlmodel import Session

from retention_desk.domain.catalog import OfferSpec
from retention_desk.services.seeding import load_plans
from retention_desk.storage.accounts import active_synthetic_ids
from retention_desk.storage.audit import latest_audit_event
from retention_desk.storage.tables import Ticket
from retention_desk.synth.events import SUMMARIES
from retention_desk.synth.simulation import SimulatedWorld


class SimulationError(ValueError):
    """The simulation cannot run; one sentence for the operator."""


def seeded_world(session: Session) -> dict[str, Any]:
    """The seeded synthetic world's size, seed and date (from the seeding's audit row): what regenerates it."""
    event = latest_audit_event(session, "world_seeded")
    if event is None or not event.after:
        raise SimulationError("This database holds no seeded synthetic world; run 'retention-desk seed' first.")
    info = dict(event.after)
    return {"accounts": int(info["accounts"]), "seed": int(info["seed"]), "as_of": date.fromisoformat(info["as_of"])}


def regenerate_world(info: dict[str, Any], catalog: Sequence[OfferSpec]) -> SimulatedWorld:
    """The ground truth of the world ``seeded_world`` describes, answering for these offers."""
    return SimulatedWorld.regenerate(
        n_accounts=info["accounts"],
        seed=info["seed"],
        as_of=info["as_of"],
        plans=load_plans(),
        offers=[o.as_dict() for o in catalog],
    )


def write_tickets(session: Session, events: dict[str, Any], day: int, as_of: date) -> None:
    """The day's tickets and outages reach the database at its end, as a ticket system would feed them."""
    for k in np.flatnonzero(events["day"] == day):
        opened = datetime.combine(as_of + timedelta(days=day), time(0), tzinfo=UTC) + timedelta(
            seconds=int(events["second"][k])
        )
        hours = float(events["hours"][k])
        kind = str(events["kind"][k])
        session.add(
            Ticket(
                account_id=int(events["account_id"][k]),
                kind=kind,
                opened_at=opened,
                closed_at=opened + timedelta(hours=hours if hours == hours else 24),
                duration_hours=hours if kind == "outage" and hours == hours else None,
                summary=SUMMARIES.get(kind, ""),
            )
        )


def active_world_ids(session: Session, n_accounts: int) -> np.ndarray:
    """The possible callers: the seeded world's subscribers that were active when the run began."""
    return np.array(active_synthetic_ids(session, n_accounts), dtype=np.int64)
