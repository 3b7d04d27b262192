"""How good are the offer model's choices? Fit the desk's model (and its fallback, and the fit options it chose
between) on a seeded world's logged history and score the offer each one puts first by its true expected value
under the synthetic world's ground truth, against the oracle's best choice for the same callers.

The off-policy hold-out estimate the nightly job uses rests on a few dozen matching decisions; this measures the
same policies on thousands of callers, which only a synthetic world allows.

    RETENTION_DESK_DATABASE_URL=sqlite:////tmp/w.sqlite3 RETENTION_DESK_MODEL_DIR=/tmp/w-models \\
        python benchmarks/offer_model_truth.py [--callers 2400]

needs a world (``retention-desk seed --accounts 20000``) and a churn model (``retention-desk retrain``).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.offer_world import offers_of, prepare  # noqa: E402
from retention_desk.ml.offer_model import prior_offer_model  # noqa: E402
from retention_desk.offers.ranking import rank_offers  # noqa: E402
from retention_desk.services.calls.deciding import candidates_for


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
    print(f"{len(bench.data.decisions):,} labelled decisions, {bench.answers:,} answers; {len(contexts):,} callers")
    print(f"oracle's first offer: {oracle / len(contexts):,.0f} per caller (true expected incremental value)")
    fit = bench.fit
    variants = {
        "catalog priors": prior_offer_model(),
        "direct (the fallback without answers)": fit(with_answers=False),
        "direct, unweighted": fit(with_answers=False, weighted=False),
        "joint (the desk's model)": fit(),
        "joint, unweighted": fit(weighted=False),
        "joint, action C=1": fit(action_c=1.0),
        "joint, action C=10": fit(action_c=10.0),
        "joint, stay C=1": fit(stay_c=1.0),
    }
    for name, model in variants.items():
        got = _first_offer_value(model, contexts, world, costs, settings)
        print(f"  {name:<40} {got / len(contexts):>7,.0f} per caller = {got / oracle:6.1%} of the oracle's")
    _whole_calls(variants["joint (the desk's model)"], contexts, world, costs, settings)


def _whole_calls(model, contexts, world, costs, settings) -> None:  # noqa: ANN001
    """The whole call (up to the offer limit), valued by the ground truth: the policy's plan against the rule
    before plans (the best offer alone first, then the next best by value), each against the oracle's plan and
    the oracle's offers by true value one by one."""
    limit = settings.offer_policy.max_offers_per_call
    alone = replace(settings.offer_policy, max_offers_per_call=1)
    predictions = model.predict(
        [c[2] for c in contexts], [c[3] for c in contexts], offers_of(contexts), [c[4] for c in contexts]
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


def _first_offer_value(model, contexts, world, costs, settings) -> float:  # noqa: ANN001
    """The best single offer by the model, valued alone by the ground truth: how well each estimator ranks offers
    (the desk plans the whole call; ``_whole_calls`` measures that)."""
    alone = replace(settings.offer_policy, max_offers_per_call=1)
    predictions = model.predict(
        [c[2] for c in contexts], [c[3] for c in contexts], offers_of(contexts), [c[4] for c in contexts]
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


if __name__ == "__main__":
    main()
