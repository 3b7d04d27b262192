"""How good are the offer model's choices? Fit estimator variants on a seeded world's logged history and score the
offer each one puts first by its true expected value under the synthetic world's ground truth, against the
oracle's best choice for the same callers.

The off-policy hold-out estimate the nightly job uses rests on a few dozen matching decisions; this measures the
same policies on thousands of callers, which only a synthetic world allows.

    RETENTION_DESK_DATABASE_URL=sqlite:////tmp/w.sqlite3 RETENTION_DESK_MODEL_DIR=/tmp/w-models \\
        python benchmarks/offer_model_truth.py [--callers 2400]

needs a world (``retention-desk seed --accounts 20000``) and a churn model (``retention-desk retrain``).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

import numpy as np

from retention_desk.config import Settings
from retention_desk.ml.features import build_features
from retention_desk.ml.offer_data import OfferData, answered_calls, load_offer_data
from retention_desk.ml.offer_joint import CallAnswers
from retention_desk.ml.offer_model import FitOptions, OfferResponseModel, fit_on_decisions, prior_offer_model
from retention_desk.offers.eligibility import check_offers, facts_from_snapshot, total_cost
from retention_desk.offers.ranking import rank_offers
from retention_desk.services.calls import candidates_for, value_of
from retention_desk.services.catalog import offers_in_database
from retention_desk.services.scoring import score_accounts
from retention_desk.services.simulation import active_world_ids, regenerate_world, seeded_world
from retention_desk.storage.db import session_scope
from retention_desk.storage.training_data import load_account_snapshots, plan_training_set
from retention_desk.synth.simulation import SimulatedWorld


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--callers", type=int, default=2400, help="simulated callers to score (over 3 days)")
    args = parser.parse_args()
    bench = prepare(args.callers)
    settings, world, contexts, costs = bench.settings, bench.world, bench.contexts, bench.costs
    oracle = sum(
        max([0.0] + [world.true_value(c, i, o.code, v, costs[o.code]) for o, _ in p])
        for c, i, _, _, _, p, v in contexts
    )
    print(
        f"{len(bench.data.decisions):,} labelled decisions, {len(bench.presentations):,} presentations; "
        f"{len(contexts):,} callers"
    )
    fit = bench.fit
    print(f"oracle's first offer: {oracle / len(contexts):,.0f} per caller (true expected incremental value)")
    base = frozenset({"kind", "offer", "kind_reason"})
    variants = {
        "catalog priors": prior_offer_model(),
        "direct: P(stay) regression, weighted": fit(estimator="direct"),
        "direct, unweighted": fit(estimator="direct", weighted=False),
        "conversion": fit(estimator="conversion"),
        "joint (chosen)": fit(estimator="joint"),
        "joint, unweighted": fit(estimator="joint", weighted=False),
        "joint, C=1": fit(estimator="joint", accept_c=1.0),
        "joint, C=10": fit(estimator="joint", accept_c=10.0),
        "joint, stay C=1": fit(estimator="joint", stay_c=1.0),
        "joint, gift by kind × reason": fit(estimator="joint", gift_terms=base),
        "joint, C=10, gift by kind × reason": fit(estimator="joint", accept_c=10.0, gift_terms=base),
        "joint + segment, usage": fit(estimator="joint", accept_terms=base | {"segment", "usage"}),
        "mixture (previous)": fit(estimator="mixture"),
        "mixture, C=1": fit(estimator="mixture", accept_c=1.0),
        "mixture, C=10": fit(estimator="mixture", accept_c=10.0),
        "mixture + segment, usage": fit(estimator="mixture", accept_terms=base | {"segment", "usage"}),
        "conversion, unweighted": fit(estimator="conversion", weighted=False),
        "conversion + segment, usage": fit(estimator="conversion", accept_terms=base | {"segment", "usage"}),
    }
    for name, model in variants.items():
        got = _first_offer_value(model, contexts, world, costs, settings)
        print(f"  {name:<40} {got / len(contexts):>7,.0f} per caller = {got / oracle:6.1%} of the oracle's")
    _whole_calls(variants["joint (chosen)"], contexts, world, costs, settings)


@dataclass(frozen=True)
class Bench:
    """A seeded world's history, ground truth and simulated callers, as the offer benchmarks fit and score them."""

    settings: Settings
    as_of: date
    catalog: list
    data: OfferData
    world: SimulatedWorld
    contexts: list
    costs: dict[str, float]
    kinds: dict[str, str]
    presentations: list[tuple]
    calls: list[CallAnswers]

    def fit(self, **options: object) -> OfferResponseModel:
        """The offer model fitted on the world's logged history, as the nightly job fits it (``options``: the
        variant's ``FitOptions``)."""
        return fit_on_decisions(
            self.data.decisions,
            kinds=self.kinds,
            presentations=self.presentations,
            calls=self.calls,
            options=FitOptions(**options),
        )


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
        contexts=_callers(settings, world, info["as_of"], catalog, n_callers, seed),
        costs={o.code: float(total_cost(o)) for o in catalog},
        kinds={o.code: o.kind for o in catalog},
        presentations=[(p.features, p.reason, p.offer_code, p.accepted, p.follow_up) for p in data.presentations],
        calls=answered_calls(data),
    )


def load_world(settings: Settings) -> tuple[dict, list, OfferData, SimulatedWorld]:
    """The seeded world's facts, active catalog and logged offer data, and its ground truth regenerated."""
    with session_scope(settings.database_url) as session:
        info = seeded_world(session)
        catalog = [o for o in offers_in_database(session=session) if o.active]
        data = load_offer_data(session, plan_training_set(session, label_horizon_days=90))
    return info, catalog, data, regenerate_world(info, catalog)


def _whole_calls(model, contexts, world, costs, settings) -> None:  # noqa: ANN001
    """The whole call (up to the offer limit), valued by the ground truth: the policy's plan against the rule
    before plans (the best offer alone first, then the next best by value), each against the oracle's plan and
    the oracle's offers by true value one by one."""
    limit = settings.offer_policy.max_offers_per_call
    alone = replace(settings.offer_policy, max_offers_per_call=1)
    predictions = model.predict(
        [c[2] for c in contexts], [c[3] for c in contexts], _offers(contexts), [c[4] for c in contexts]
    )
    totals = dict.fromkeys(("planned", "one by one", "oracle's plan", "oracle one by one"), 0.0)
    for (callers, i, _row, _reason, _risk, permitted, value), prediction in zip(contexts, predictions, strict=True):
        candidates = candidates_for(permitted, prediction)
        orders = {}
        for name, policy in (("planned", settings.offer_policy), ("one by one", alone)):
            decision = rank_offers(
                candidates=candidates,
                p_stay_none=prediction.p_stay_none,
                customer_value=value,
                policy=policy,
                draws=(0.99, 0.0),
            )
            if name == "one by one":  # stored without a plan, a decision follows up by value (the old rule)
                decision = replace(decision, items=tuple(replace(item, planned=None) for item in decision.items))
            orders[name] = decision.to_present(limit)
        codes = [o.code for o, _ in permitted]
        orders["oracle's plan"] = world.oracle_order(callers, i, codes, value, costs, limit)
        by_truth = sorted(((world.true_value(callers, i, c, value, costs[c]), c) for c in codes), reverse=True)
        orders["oracle one by one"] = [c for v, c in by_truth if v > 0][:limit]
        for name, order in orders.items():
            totals[name] += world.expected(callers, i, order, value, costs)[0]
    print(f"whole calls (up to {limit} offers) with the chosen model, valued by the ground truth:")
    best = totals["oracle's plan"]
    for name, total in totals.items():
        print(f"  {name:<20} {total / len(contexts):>7,.0f} per caller = {total / best:6.1%} of the oracle's plan")


def _callers(settings, world, as_of, catalog, n, seed=5):  # noqa: ANN001, ANN202
    """``n`` simulated callers over three days after the world's date, each with the offers a tier-1 agent may
    make; ``seed`` picks who calls (benchmarks/offer_learning.py serves one draw and evaluates on another)."""
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


def _first_offer_value(model, contexts, world, costs, settings) -> float:  # noqa: ANN001
    """The best single offer by the model, valued alone by the ground truth: how well each estimator ranks offers
    (the desk plans the whole call; ``_whole_calls`` measures that)."""
    alone = replace(settings.offer_policy, max_offers_per_call=1)
    predictions = model.predict(
        [c[2] for c in contexts], [c[3] for c in contexts], _offers(contexts), [c[4] for c in contexts]
    )
    total = 0.0
    for (callers, i, _row, _reason, _risk, permitted, value), prediction in zip(contexts, predictions, strict=True):
        decision = rank_offers(
            candidates=candidates_for(permitted, prediction),
            p_stay_none=prediction.p_stay_none,
            customer_value=value,
            policy=alone,
            draws=(0.99, 0.0),  # the exploit branch: the policy's own choice
        )
        if decision.chosen is not None:
            total += world.true_value(callers, i, decision.chosen, value, costs[decision.chosen])
    return total


def _offers(contexts):  # noqa: ANN001, ANN202
    seen = {}
    for context in contexts:
        for offer, _ in context[5]:
            seen[offer.code] = offer
    return list(seen.values())


if __name__ == "__main__":
    main()
