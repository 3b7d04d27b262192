"""How much of the simulator's realised "ours / oracle" ratio is the luck of the dice? Fix one week's callers and both
policies' plans, replay the callers' dice many times, and compare how the ratio scatters under the simulator's
coupling (one die for a whole call, ``synth/simulation.SimulatedWorld.play``) and two others: a die per offer
position (the simulator's design before commit 23d8f2f) and a separate set of dice per policy (no common numbers).

Each replay draws afresh what a real week would: who among the callers would stay anyway, the answers' die and the
durability die. The callers, their reasons and the plans stay fixed, so the scatter is the dice alone; the expected
ratio (the truth's probabilities, no dice) is printed beside it.

    RETENTION_DESK_DATABASE_URL=sqlite:////tmp/w.sqlite3 RETENTION_DESK_MODEL_DIR=/tmp/w-models \\
        python experiments/simulated_luck.py [--callers 1400] [--replays 300]

needs a world (``retention-desk seed --accounts 20000``) and a churn model (``retention-desk retrain``); the plans
are the first day's model's (fitted here as the nightly job would), with the default exploration and hold-out.
About a minute per 100 replays of 1,400 callers.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.offer_world import offers_of, prepare  # noqa: E402
from retention_desk.offers.ranking import rank_offers  # noqa: E402
from retention_desk.services.calls.deciding import candidates_for
from retention_desk.synth.simulation import Callers, Outcome, SimulatedWorld  # noqa: E402

# (world, the callers' dice, a second set for a policy with dice of its own, caller, plan) → what happened on the call
Play = Callable[[SimulatedWorld, Callers, Callers, int, Sequence[str]], Outcome]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--callers", type=int, default=1400, help="one week of the simulator's default 200 a day")
    parser.add_argument("--replays", type=int, default=300)
    args = parser.parse_args()
    bench = prepare(args.callers)
    settings, world, contexts, costs = bench.settings, bench.world, bench.contexts, bench.costs
    model = bench.fit()
    predictions = model.predict(
        [c[2] for c in contexts], [c[3] for c in contexts], offers_of(contexts), [c[4] for c in contexts]
    )
    limit = settings.offer_policy.max_offers_per_call
    draws = np.random.default_rng(2)  # exploration and hold-out, as the simulator's policy stream
    plans = []
    for (callers, i, _row, _reason, _risk, permitted, value), prediction in zip(contexts, predictions, strict=True):
        decision = rank_offers(
            candidates=candidates_for(permitted, prediction),
            p_stay_none=prediction.p_stay_none,
            customer_value=value,
            policy=settings.offer_policy,
            draws=(float(draws.random()), float(draws.random())),
        )
        oracle = world.oracle_order(callers, i, [o.code for o, _ in permitted], value, costs, limit)
        plans.append((decision.to_present(limit), oracle))
    expected = [
        sum(world.expected(c[0], c[1], plan[j], c[6], costs)[0] for c, plan in zip(contexts, plans, strict=True))
        for j in (0, 1)
    ]
    print(f"{len(contexts):,} callers, {args.replays} replays of their dice")
    print(f"expected ours / oracle (no dice): {expected[0] / expected[1]:.1%}")

    couplings: dict[str, Play] = {
        "one die per call (the simulator)": _one_die,
        "a die per offer position": _die_per_position,
        "separate dice per policy": _separate_dice,
    }
    ratios: dict[str, list[float]] = {name: [] for name in couplings}
    rng = np.random.default_rng(1)
    days = {id(c[0]): c[0] for c in contexts}
    for _ in range(args.replays):
        fresh, other = {}, {}
        for key, day in days.items():
            n = len(day)
            stays = (rng.random(n) < 1 - day.churn_p) & ~day.unsavable
            fresh[key] = replace(day, stays_anyway=stays, u_answer=rng.random(n), u_durable=rng.random(n))
            other[key] = replace(fresh[key], u_answer=rng.random(n), u_durable=rng.random(n))
        for name, play in couplings.items():
            totals = [0.0, 0.0]
            for (callers, i, *_rest, value), plan in zip(contexts, plans, strict=True):
                mine = fresh[id(callers)]
                for j, second in ((0, mine), (1, other[id(callers)])):  # the oracle's second set of dice
                    outcome = play(world, mine, second, i, plan[j])
                    totals[j] += outcome.net_value(value, costs.get(outcome.accepted or "", 0.0))
            ratios[name].append(totals[0] / totals[1])
    print(f"{'coupling':<36} {'realised: mean':>14} {'sd':>6} {'share of replays >= 85%':>24}")
    for name, values in ratios.items():
        xs = np.asarray(values)
        print(f"{name:<36} {xs.mean():>14.1%} {xs.std(ddof=1) * 100:>5.1f}pt {np.mean(xs >= 0.85):>24.0%}")


def _one_die(world: SimulatedWorld, callers: Callers, _other: Callers, i: int, plan: Sequence[str]) -> Outcome:
    return world.play(callers, i, plan)


def _separate_dice(world: SimulatedWorld, _callers: Callers, other: Callers, i: int, plan: Sequence[str]) -> Outcome:
    return _one_die(world, other, other, i, plan)


def _die_per_position(world: SimulatedWorld, callers: Callers, _other: Callers, i: int, plan: Sequence[str]) -> Outcome:
    """The offer in position k answered from its own die: the k-th draw of a generator seeded by the caller, so
    both policies read the same die at the same position."""
    dice = np.random.default_rng([int(callers.account_ids[i]), int(callers.u_answer[i] * 2**32)]).random(len(plan))
    accepted = next((code for code, u in zip(plan, dice, strict=True) if u < world.p_yes(callers, i, code)), None)
    # The fate of that answer, by the simulator's own rule: a die of 0 makes the accepted offer a yes.
    forced = replace(callers, u_answer=np.where(np.arange(len(callers)) == i, 0.0, callers.u_answer))
    return world.play(forced, i, [accepted] if accepted else [])


if __name__ == "__main__":
    main()
