"""A seeded world's logged offer history, ground truth and simulated callers, as the offer benchmarks fit and score
the offer model on them.

Needs a world (``retention-desk seed --accounts 20000``) and a churn model (``retention-desk retrain``) in the
database the environment names (``RETENTION_DESK_DATABASE_URL``, ``RETENTION_DESK_MODEL_DIR``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import numpy as np

from retention_desk.config import Settings
from retention_desk.domain.catalog import total_cost
from retention_desk.ml.features import build_features
from retention_desk.ml.offer_data import OfferData, answered_calls, load_offer_data
from retention_desk.ml.offer_fit import FitOptions, fit_on_decisions
from retention_desk.ml.offer_joint import CallAnswers
from retention_desk.ml.offer_model import OfferResponseModel
from retention_desk.offers.eligibility import check_offers, facts_from_snapshot
from retention_desk.services.calls.deciding import value_of
from retention_desk.services.catalog.store import offers_in_database
from retention_desk.services.models.risk import score_accounts
from retention_desk.simulator.world import active_world_ids, regenerate_world, seeded_world
from retention_desk.storage.db import session_scope
from retention_desk.storage.training_data import load_account_snapshots, plan_training_set
from retention_desk.synth.simulation import SimulatedWorld

__all__ = ["Bench", "load_world", "offers_of", "prepare", "simulated_callers"]


@dataclass(frozen=True)
class Bench:
    """A seeded world's history, ground truth and simulated callers.

    Each context in ``contexts`` is (the day's callers, the caller's index, features, cancel reason, churn risk,
    [(permitted offer, needs approval)], customer value)."""

    settings: Settings
    as_of: date
    catalog: list
    data: OfferData
    world: SimulatedWorld
    contexts: list
    costs: dict[str, float]
    kinds: dict[str, str]
    calls: list[CallAnswers]

    @property
    def answers(self) -> int:
        """How many answers the logged history holds."""
        return sum(len(call.answers) for call in self.calls)

    def fit(self, *, with_answers: bool = True, **options: object) -> OfferResponseModel:
        """The offer model fitted on the world's logged history as the nightly job fits it (``options``: the
        variant's ``FitOptions``); without answers, the fallback the nightly job fits when there are too few."""
        calls = self.calls if with_answers else ()
        return fit_on_decisions(self.data.decisions, kinds=self.kinds, calls=calls, options=FitOptions(**options))


def prepare(n_callers: int, seed: int = 5) -> Bench:
    """The configured world (``Settings.from_env``) with ``n_callers`` simulated callers drawn with ``seed``."""
    settings = Settings.from_env()
    info, catalog, data, world = load_world(settings)
    return Bench(
        settings=settings,
        as_of=info["as_of"],
        catalog=catalog,
        data=data,
        world=world,
        contexts=simulated_callers(settings, world, info["as_of"], catalog, n_callers, seed),
        costs={o.code: float(total_cost(o)) for o in catalog},
        kinds={o.code: o.kind for o in catalog},
        calls=answered_calls(data),
    )


def load_world(settings: Settings) -> tuple[dict, list, OfferData, SimulatedWorld]:
    """The seeded world's facts, active catalog and logged offer data, and its ground truth regenerated."""
    with session_scope(settings.database_url) as session:
        info = seeded_world(session)
        catalog = [o for o in offers_in_database(session=session) if o.active]
        data = load_offer_data(session, plan_training_set(session, label_horizon_days=90))
    return info, catalog, data, regenerate_world(info, catalog)


def simulated_callers(settings, world, as_of, catalog, n, seed=5):  # noqa: ANN001, ANN201
    """``n`` simulated callers over three days after the world's date, each with the offers a tier-1 agent may
    make; ``seed`` picks who calls (an experiment may serve one draw and evaluate on another)."""
    rng = np.random.default_rng(seed)
    contexts = []
    with session_scope(settings.database_url) as session:
        active = active_world_ids(session, len(world.acc["id"]))  # as the simulator: who left in the history can't call
    for day in (2, 5, 9):
        callers = world.draw_callers(rng, day=day, active_ids=active, n_calls=n // 3)
        now = datetime.combine(as_of + timedelta(days=day), time(10), tzinfo=UTC)
        ids = [int(a) for a in callers.account_ids]
        with session_scope(settings.database_url) as session:
            snapshots = load_account_snapshots(session, ids)
            risks = score_accounts(session=session, settings=settings, account_ids=ids, as_of=now)
        for i, account_id in enumerate(ids):
            snapshot = snapshots[account_id]
            row = build_features(snapshot, now)
            verdicts = check_offers(
                catalog, facts_from_snapshot(snapshot, now.date()), today=now.date(), agent_tier=1, budget_left={}
            )
            permitted = [
                (o, False) for o, v in zip(catalog, verdicts, strict=True) if v.permitted and not v.needs_approval
            ]
            risk = risks[account_id].probability if account_id in risks else None
            contexts.append((callers, i, row, callers.reasons[i], risk, permitted, value_of(snapshot, row, settings)))
    return contexts


def offers_of(contexts):  # noqa: ANN001, ANN201
    """Every offer permitted to at least one of these callers, once."""
    seen = {}
    for context in contexts:
        for offer, _ in context[5]:
            seen[offer.code] = offer
    return list(seen.values())
