"""How fast does the offer model learn from the desk's own calls, and does exploring more make it learn faster?

A learning loop without the database: each simulated day serves callers of a seeded world with the desk's ranking
(``offers.ranking.rank_offers``), the callers answer per the ground truth, and each night the joint model is refitted
on the logged history plus every served call (its answers, and how it ended when nothing was accepted: what the
nightly job reads of a call younger than the label horizon). Strategies: exploration shares of 0, 5 and 10%
(by rank, 2% hold-out), and Thompson sampling by bootstrap (each night B models fitted on resampled calls; each call
is ranked by one of them drawn at random, still with the 2% hold-out).

Reported per strategy: the nightly model's whole-call value (planned, no exploration) on 2,400 other callers of the
same world, as a share of the oracle's plan, at day 0, 10, 20 and the end; and the expected value of the calls it
served in the last 7 days against the oracle's plan for the same callers (exploration and hold-out included).

    RETENTION_DESK_DATABASE_URL=sqlite:////tmp/w.sqlite3 RETENTION_DESK_MODEL_DIR=/tmp/w-models \\
        python experiments/offer_learning.py [--days 30] [--calls-per-day 200] [--strategies explore0,explore5,thompson]

needs a world (``retention-desk seed --accounts 20000``) and a churn model (``retention-desk retrain``). Unlike
``retention-desk simulate``, callers do not drift (both draws come from the same three days after the world's date)
and the loop writes nothing; 4–5 minutes a strategy, Thompson sampling about twice that with B = 8.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.offer_world import Bench, offers_of, prepare, simulated_callers  # noqa: E402
from retention_desk.ml.offer_fit import fit_on_decisions  # noqa: E402
from retention_desk.ml.offer_joint import CallAnswers  # noqa: E402
from retention_desk.ml.offer_model import OfferResponseModel  # noqa: E402
from retention_desk.offers.ranking import rank_offers  # noqa: E402
from retention_desk.services.calls.deciding import candidates_for
from retention_desk.storage.offer_training_data import Answer  # noqa: E402

LAST_WEEK = 7


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--calls-per-day", type=int, default=200)
    parser.add_argument("--strategies", default="explore0,explore5,explore10,thompson")
    parser.add_argument("--bootstrap", type=int, default=8, help="models per night for Thompson sampling")
    parser.add_argument("--seed", type=int, default=1, help="dice for exploration and the bootstrap")
    args = parser.parse_args()
    bench = prepare(2400, seed=5)
    evaluation = bench.contexts
    served = simulated_callers(
        bench.settings, bench.world, bench.as_of, bench.catalog, args.days * args.calls_per_day, seed=6
    )
    np.random.default_rng(args.seed).shuffle(served)
    loop = _Loop(bench, offers_of(evaluation + served), args.bootstrap)
    print(
        f"{len(bench.data.decisions):,} labelled decisions, {bench.answers:,} answers in the history; "
        f"{len(served):,} callers served over {args.days} days, {len(evaluation):,} to evaluate on"
    )
    for strategy in args.strategies.split(","):
        started = time.monotonic()
        checkpoints, last_week = loop.run(strategy, served, evaluation, args.days, args.calls_per_day, args.seed)
        marks = ", ".join(f"day {d} {v:.1%}" for d, v in checkpoints)
        print(
            f"  {strategy:<10} model on other callers: {marks}; served in the last {LAST_WEEK} days: "
            f"{last_week:.1%} of the oracle's plan ({time.monotonic() - started:.0f} s)",
            flush=True,
        )


class _Loop:
    def __init__(self, bench: Bench, offers, bootstrap):  # noqa: ANN001
        self.world, self.offers, self.bootstrap = bench.world, offers, bootstrap
        self.policy = bench.settings.offer_policy
        self.limit = self.policy.max_offers_per_call
        self.costs, self.kinds = bench.costs, bench.kinds
        self.decisions = bench.data.decisions
        self.history = bench.calls

    def fit(self, calls: list[CallAnswers]) -> OfferResponseModel:
        return fit_on_decisions(self.decisions, kinds=self.kinds, calls=calls)

    def order(self, model: OfferResponseModel, context, policy, draws) -> list[str]:  # noqa: ANN001
        callers, i, row, reason, risk, permitted, value = context
        prediction = model.predict([row], [reason], self.offers, [risk])[0]
        decision = rank_offers(
            candidates=candidates_for(permitted, prediction),
            p_stay_none=prediction.p_stay_none,
            customer_value=value,
            policy=policy,
            draws=draws,
        )
        return decision.to_present(self.limit)

    def oracle(self, context) -> float:  # noqa: ANN001
        callers, i, _row, _reason, _risk, permitted, value = context
        plan = self.world.oracle_order(callers, i, [o.code for o, _ in permitted], value, self.costs, self.limit)
        return self.world.expected(callers, i, plan, value, self.costs)[0]

    def evaluate(self, model: OfferResponseModel, contexts) -> float:  # noqa: ANN001
        got = sum(
            self.world.expected(c[0], c[1], self.order(model, c, self.policy, (0.99, 0.0)), c[6], self.costs)[0]
            for c in contexts
        )
        return got / sum(self.oracle(c) for c in contexts)

    def run(self, strategy, served, evaluation, days, per_day, seed):  # noqa: ANN001, ANN201
        rng = np.random.default_rng(seed)
        thompson = strategy == "thompson"
        policy = self.policy if thompson else replace(self.policy, explore_share=int(strategy[7:]) / 100)
        logged: list[CallAnswers] = []
        model, models = self.nightly(logged, thompson, rng)
        checkpoints = [(0, self.evaluate(model, evaluation))]
        ours = oracle = 0.0
        for day in range(1, days + 1):
            for context in served[(day - 1) * per_day : day * per_day]:
                callers, i, row, reason, _risk, _permitted, value = context
                u = rng.random(2)
                if thompson and u[0] >= policy.holdout_share:
                    order = self.order(models[int(u[1] * len(models))], context, policy, (0.99, 0.0))
                else:
                    order = self.order(model, context, policy, (float(u[0]), float(u[1])))
                outcome = self.world.play(callers, i, order)
                ending = outcome.saved if outcome.accepted is None else None
                answers = tuple(Answer(code, yes) for code, yes in outcome.answers)
                logged.append(CallAnswers(row, reason, answers, None, None, ending))
                if day > days - LAST_WEEK:
                    ours += self.world.expected(callers, i, order, value, self.costs)[0]
                    oracle += self.oracle(context)
            model, models = self.nightly(logged, thompson, rng)
            if day % 10 == 0 or day == days:
                checkpoints.append((day, self.evaluate(model, evaluation)))
        return checkpoints, ours / oracle

    def nightly(self, logged, thompson, rng):  # noqa: ANN001, ANN201
        calls = self.history + logged
        model = self.fit(calls)
        if not thompson:
            return model, []
        resampled = (rng.integers(0, len(calls), len(calls)) for _ in range(self.bootstrap))
        return model, [self.fit([calls[j] for j in pick]) for pick in resampled]


if __name__ == "__main__":
    main()
