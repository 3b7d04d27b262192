"""Which part of the offer model costs the desk most value? Swap one part of the chosen model's prediction for the
ground truth at a time and value the whole calls it would then plan, against the oracle's plan.

The joint model (ml/offer_joint.py) predicts each caller's answer to an offer in parts: the share who would stay
anyway (s), a stayer's P(yes) (the gift rate, g), a would-be leaver's P(yes) (l) and how long each yes lasts (the
durability, d). A part whose truth lifts the value a lot is where a better estimate pays; "l by offer × reason" puts
in the truth's average leaver rate for each offer and cancel reason, the finest thing the model's default terms can
express, so the gap between it and the model is estimation, and the gap above it is terms the model does not have.

    RETENTION_DESK_DATABASE_URL=sqlite:////tmp/w.sqlite3 RETENTION_DESK_MODEL_DIR=/tmp/w-models \\
        python benchmarks/offer_model_parts.py [--callers 2400]

needs a world (``retention-desk seed --accounts 20000``) and a churn model (``retention-desk retrain``); about a
minute and a half on the demo world.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.offer_world import offers_of, prepare  # noqa: E402
from retention_desk.ml.offer_model import OfferPredictions  # noqa: E402
from retention_desk.offers.ranking import rank_offers  # noqa: E402
from retention_desk.services.calls.deciding import candidates_for
from retention_desk.synth.simulation import TrueParts  # noqa: E402

SWAPS = (
    (),
    ("s",),
    ("l",),
    ("l by offer × reason",),
    ("g",),
    ("d",),
    ("s", "l"),
    ("s", "l by offer × reason"),
    ("s", "l", "g"),
    ("s", "l", "g", "d"),
    # With the rest true, each part of the durability on its own: a stayer's without an offer (d none), what a
    # stayer's yes does to it (d stayer), and a saved leaver's (d leaver).
    ("s", "l", "g", "d none"),
    ("s", "l", "g", "d stayer"),
    ("s", "l", "g", "d leaver"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--callers", type=int, default=2400, help="simulated callers to plan for (over 3 days)")
    args = parser.parse_args()
    bench = prepare(args.callers)
    settings, world, contexts, costs = bench.settings, bench.world, bench.contexts, bench.costs
    model = bench.fit()
    offers = offers_of(contexts)
    column = {o.code: j for j, o in enumerate(offers)}
    got = model.predict_parts([c[2] for c in contexts], [c[3] for c in contexts], offers, [c[4] for c in contexts])
    if got.share is None or got.stayer is None or got.leaver is None:
        raise SystemExit("The chosen model did not fit the joint estimator on this world; nothing to split.")
    truths = [{o.code: world.true_parts(c[0], c[1], o.code) for o, _ in c[5]} for c in contexts]
    averaged = _leaver_rate_by_offer_and_reason(contexts, truths)
    limit = settings.offer_policy.max_offers_per_call
    oracle = sum(
        world.expected(
            c[0], c[1], world.oracle_order(c[0], c[1], [o.code for o, _ in c[5]], c[6], costs, limit), c[6], costs
        )[0]
        for c in contexts
    )
    print(f"{len(contexts):,} callers; the oracle's plan is worth {oracle / len(contexts):,.0f} per caller")
    print("model's part swapped for the truth      value per caller   share of the oracle's plan")
    for swap in SWAPS:
        total = 0.0
        for n, (callers, i, _row, reason, _risk, permitted, value) in enumerate(contexts):
            s_model = float(got.share[n])
            some = next(iter(truths[n].values()), None)
            s = some.share if "s" in swap and some is not None else s_model
            d_none = (
                some.durable_none
                if _swapped(swap, "d none") and some is not None
                else float(got.p_none[n]) / max(s_model, 1e-9)
            )
            p_stay, p_accept, responses = {}, {}, {}
            for offer, _ in permitted:
                j, t = column[offer.code], truths[n][offer.code]
                g = t.gift if "g" in swap else float(got.stayer[0][n, j])
                l_yes = float(got.leaver[0][n, j])
                if "l" in swap:
                    l_yes = t.leaver_yes
                elif "l by offer × reason" in swap:
                    l_yes = averaged[(offer.code, reason)]
                kept_s = t.stayer_kept if _swapped(swap, "d stayer") else float(got.stayer[1][n, j])
                kept_l = t.leaver_kept if _swapped(swap, "d leaver") else float(got.leaver[1][n, j])
                p_stay[offer.code] = s * d_none + s * g * kept_s + (1 - s) * l_yes * kept_l
                p_accept[offer.code] = s * g + (1 - s) * l_yes
                responses[offer.code] = ((s, g, kept_s), (1 - s, l_yes, kept_l))
            prediction = OfferPredictions(s * d_none, p_stay, p_accept, responses)
            decision = rank_offers(
                candidates=candidates_for(permitted, prediction),
                p_stay_none=prediction.p_stay_none,
                customer_value=value,
                policy=settings.offer_policy,
                draws=(0.99, 0.0),  # the exploit branch: the policy's own plan
            )
            total += world.expected(callers, i, decision.to_present(limit), value, costs)[0]
        name = " + ".join(swap) or "none (the model as served)"
        print(f"  {name:<36} {total / len(contexts):>12,.0f} {total / oracle:>20.1%}")


def _swapped(swap: tuple[str, ...], part: str) -> bool:
    """Is this part of the durability the truth's: named alone, or with the whole durability ("d")?"""
    return "d" in swap or part in swap


def _leaver_rate_by_offer_and_reason(contexts, truths: list[dict[str, TrueParts]]) -> dict[tuple[str, str], float]:  # noqa: ANN001
    """The truth's mean P(yes | would leave) over these callers, per offer and cancel reason."""
    rates: dict[tuple[str, str], list[float]] = defaultdict(list)
    for context, truth in zip(contexts, truths, strict=True):
        for code, parts in truth.items():
            rates[(code, context[3])].append(parts.leaver_yes)
    return {key: float(np.mean(values)) for key, values in rates.items()}


if __name__ == "__main__":
    main()
