"""The simulator's figures: per policy and day, the last week's summary against the oracle and the best baseline,
the plain-text table and the chart."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from retention_desk.ml.policy_value import paired_ratio
from retention_desk.simulator.estimate import OPE_SWITCH_WEIGHT
from retention_desk.synth.simulation import Outcome

OURS = "ours"


BASELINES = ("no_offer", "random_offer", "largest_discount")


ORACLE = "oracle"


POLICIES = (OURS, *BASELINES, ORACLE)


LAST_WEEK = 7


@dataclass
class Tally:
    calls: int = 0
    saved: int = 0
    durable: int = 0
    cost: float = 0.0
    reward: float = 0.0
    # Per call, in the order served (every policy meets the same callers in the same order, so lists of two
    # policies pair up call by call): the totals below, and the interval of "ours against the oracle".
    net_values: list[float] = field(default_factory=list)
    expected_net_values: list[float] = field(default_factory=list)  # valued by the truth's probabilities, not dice

    @property
    def net_value(self) -> float:
        return float(sum(self.net_values))

    @property
    def expected_net_value(self) -> float:
        return float(sum(self.expected_net_values))

    def add(self, outcome: Outcome, cost: float, value: float, expected_net_value: float = 0.0) -> None:
        self.calls += 1
        self.saved += outcome.saved
        self.durable += outcome.durable
        self.cost += cost
        self.reward += outcome.durable * value - cost
        self.net_values.append(outcome.net_value(value, cost))
        self.expected_net_values.append(expected_net_value)

    def merged(self, other: Tally) -> Tally:
        """Both days' figures; the per-call lists are concatenated (list + list)."""
        return Tally(*(getattr(self, f) + getattr(other, f) for f in self.__dataclass_fields__))

    def as_dict(self) -> dict[str, Any]:
        n = max(self.calls, 1)
        return {
            "calls": self.calls,
            "save_rate": round(self.saved / n, 4),
            "durable_save_rate": round(self.durable / n, 4),
            "offer_cost": round(self.cost, 2),
            "net_retained_value": round(self.net_value, 2),
            "expected_net_retained_value": round(self.expected_net_value, 2),
            "mean_reward": round(self.reward / n, 2),
        }


@dataclass
class DayResult:
    day: int
    date: date
    policies: dict[str, Tally]
    modes: Counter
    offer_model: str | None
    ope_estimate: float | None = None  # SWITCH-DR estimate, made the night before, of this day's mean reward
    ope_low: float | None = None
    ope_high: float | None = None
    ope_self_normalised: float | None = None  # the same with self-normalised weights (ml/policy_value.py)
    ope_doubly_robust: float | None = None  # plain DR, every logged correction kept: for comparison


@dataclass
class SimulationReport:
    world: dict[str, Any]
    calls_per_day: int
    days: list[DayResult] = field(default_factory=list)

    def totals(self, days: Sequence[DayResult]) -> dict[str, Tally]:
        out = {p: Tally() for p in POLICIES}
        for day in days:
            for p in POLICIES:
                out[p] = out[p].merged(day.policies[p])
        return out

    def summary(self) -> dict[str, Any]:
        """The last week (or the whole run when shorter) per policy, the ratios the issue asks about, and the
        off-policy estimate against the realised value."""
        window = self.days[-LAST_WEEK:]
        totals = self.totals(window)
        ours, oracle = totals[OURS].net_value, totals[ORACLE].net_value
        best = max(BASELINES, key=lambda p: totals[p].net_value)
        best_value = totals[best].net_value
        expected = {p: totals[p].expected_net_value for p in POLICIES}
        best_expected = max(BASELINES, key=lambda p: expected[p])
        estimated = [d for d in window if d.ope_estimate is not None]
        estimate = float(np.mean([d.ope_estimate for d in estimated])) if estimated else None
        normalised = [d.ope_self_normalised for d in estimated if d.ope_self_normalised is not None]
        estimate_sn = float(np.mean(normalised)) if normalised and len(normalised) == len(estimated) else None
        plain = [d.ope_doubly_robust for d in estimated if d.ope_doubly_robust is not None]
        estimate_dr = float(np.mean(plain)) if plain and len(plain) == len(estimated) else None
        realised = (
            float(np.mean([d.policies[OURS].reward / max(d.policies[OURS].calls, 1) for d in estimated]))
            if estimated
            else None
        )
        return {
            "window_days": [window[0].day, window[-1].day] if window else None,
            "policies": {p: totals[p].as_dict() for p in POLICIES},
            "ours_vs_oracle": _ratio(ours, oracle),
            "ours_vs_oracle_interval": _ratio_interval(totals[OURS].net_values, totals[ORACLE].net_values),
            "best_baseline": best,
            "ours_vs_best_baseline": _ratio(ours, best_value),
            **_above(ours, best_value),
            "expected": {
                "ours_vs_oracle": _ratio(expected[OURS], expected[ORACLE]),
                "ours_vs_oracle_interval": _ratio_interval(
                    totals[OURS].expected_net_values, totals[ORACLE].expected_net_values
                ),
                "best_baseline": best_expected,
                "ours_vs_best_baseline": _ratio(expected[OURS], expected[best_expected]),
                **_above(expected[OURS], expected[best_expected]),
            },
            "off_policy": {
                "estimator": "switch_doubly_robust",
                "switch_weight": OPE_SWITCH_WEIGHT,
                "estimated_mean_reward": None if estimate is None else round(estimate, 2),
                "realised_mean_reward": None if realised is None else round(realised, 2),
                "relative_error": _relative_error(estimate, realised),
                "self_normalised_estimate": None if estimate_sn is None else round(estimate_sn, 2),
                "self_normalised_relative_error": _relative_error(estimate_sn, realised),
                "doubly_robust_estimate": None if estimate_dr is None else round(estimate_dr, 2),
                "doubly_robust_relative_error": _relative_error(estimate_dr, realised),
            },
        }

    def as_json(self) -> dict[str, Any]:
        return {
            "world": self.world,
            "calls_per_day": self.calls_per_day,
            "summary": self.summary(),
            "days": [
                {
                    "day": d.day,
                    "date": d.date.isoformat(),
                    "offer_model": d.offer_model,
                    "modes": dict(d.modes),
                    "policies": {p: d.policies[p].as_dict() for p in POLICIES},
                    "off_policy": {
                        "estimated_mean_reward": _round(d.ope_estimate),
                        "self_normalised_estimate": _round(d.ope_self_normalised),
                        "doubly_robust_estimate": _round(d.ope_doubly_robust),
                        "interval": [_round(d.ope_low), _round(d.ope_high)],
                        "realised_mean_reward": round(d.policies[OURS].reward / max(d.policies[OURS].calls, 1), 2),
                    },
                }
                for d in self.days
            ],
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _ratio(a: float, b: float) -> float | None:
    return None if b == 0 else round(a / b, 4)


def _relative_error(estimate: float | None, realised: float | None) -> float | None:
    return None if not (estimate and realised) else round(abs(estimate / realised - 1), 4)


def _ratio_interval(ours: Sequence[float], oracle: Sequence[float]) -> list[float] | None:
    """95% interval of ours / oracle over the window's callers (ml/policy_value.paired_ratio); None if undefined."""
    _, low, high = paired_ratio(ours, oracle)
    return [round(low, 4), round(high, 4)] if math.isfinite(low) and math.isfinite(high) else None


def _above(ours: float, best: float) -> dict[str, Any]:
    """How far ours is above the best baseline in money, and whether by at least 20% of it; a ratio says nothing
    when the best baseline is no offer (0) or loses money."""
    return {
        "ours_minus_best_baseline": round(ours - best, 2),
        "ours_at_least_20pct_above_best_baseline": bool(ours > best and ours - best >= 0.2 * abs(best)),
    }


def progress_line(day: DayResult) -> str:
    ours, oracle = day.policies[OURS], day.policies[ORACLE]
    return f"day {day.day}: {ours.calls} calls, ours {ours.net_value:,.0f} vs oracle {oracle.net_value:,.0f}"


def format_table(report: SimulationReport) -> str:
    """A plain-text table: per day and policy the four figures, then the summary."""
    lines = []
    header = f"{'day':>4} {'policy':<17} {'calls':>6} {'saved':>7} {'durable':>8} {'cost':>12} {'net value':>12}"
    lines.append(header)
    for day in report.days:
        for p in POLICIES:
            t = day.policies[p].as_dict()
            lines.append(
                f"{day.day:>4} {p:<17} {t['calls']:>6} {t['save_rate']:>7.1%} {t['durable_save_rate']:>8.1%} "
                f"{t['offer_cost']:>12,.0f} {t['net_retained_value']:>12,.0f}"
            )
    summary = report.summary()
    lines.append("")
    first, last = summary["window_days"]
    whole = first == report.days[0].day  # the summary's window reaches back to the first day
    span = f"The whole run, {len(report.days)} days" if whole else f"Last {LAST_WEEK} days"
    lines.append(f"{span} (days {first}–{last}):")
    for p in POLICIES:
        t = summary["policies"][p]
        lines.append(
            f"  {p:<17} save {t['save_rate']:.1%}, durable {t['durable_save_rate']:.1%}, "
            f"cost {t['offer_cost']:,.0f}, net retained value {t['net_retained_value']:,.0f} "
            f"(expected {t['expected_net_retained_value']:,.0f})"
        )
    for label, part in (("realised", summary), ("expected", summary["expected"])):
        interval = part["ours_vs_oracle_interval"]
        luck = f" (95% interval {_pct(interval[0])}–{_pct(interval[1])})" if interval else ""
        lines.append(
            f"  {label}: ours / oracle = {_pct(part['ours_vs_oracle'])}{luck}; ours / best baseline "
            f"({part['best_baseline']}) = {_pct(part['ours_vs_best_baseline'])}, "
            f"{part['ours_minus_best_baseline']:,.0f} above it"
        )
    ope = summary["off_policy"]
    if ope["estimated_mean_reward"] is not None:
        lines.append(
            f"  off-policy estimate {ope['estimated_mean_reward']:,.0f} per call vs realised "
            f"{ope['realised_mean_reward']:,.0f} (relative error {_pct(ope['relative_error'])}; SWITCH-DR, "
            f"weights above {OPE_SWITCH_WEIGHT:g} left to the model)"
        )
    if ope["doubly_robust_estimate"] is not None:
        lines.append(
            f"  plain doubly robust estimate {ope['doubly_robust_estimate']:,.0f} per call "
            f"(relative error {_pct(ope['doubly_robust_relative_error'])})"
        )
    return "\n".join(lines)


def _pct(value: float | None) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.1%}"


def write_chart(report: SimulationReport, path: Path) -> None:
    """Net retained value per day by policy, and the off-policy estimate against the realised reward."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    days = [d.day for d in report.days]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 7), sharex=True, constrained_layout=True)
    for p in POLICIES:
        top.plot(days, [d.policies[p].net_value for d in report.days], marker="o", markersize=3, label=p)
    top.axhline(0, color="grey", linewidth=0.8)
    top.set_ylabel(f"net retained value per day ({'NOK'})")
    top.set_title("Simulated cancel desk: our policy against baselines and the oracle")
    top.legend(loc="best", fontsize=8)
    realised = [d.policies[OURS].reward / max(d.policies[OURS].calls, 1) for d in report.days]
    bottom.plot(days, realised, marker="o", markersize=3, label="realised mean reward (ours)")
    est = [(d.day, d.ope_estimate, d.ope_low, d.ope_high) for d in report.days if d.ope_estimate is not None]
    if est:
        bottom.plot([e[0] for e in est], [e[1] for e in est], marker="s", markersize=3, label="off-policy estimate")
        bottom.fill_between([e[0] for e in est], [e[2] for e in est], [e[3] for e in est], alpha=0.2)
    bottom.set_xlabel("simulated day")
    bottom.set_ylabel("mean reward per call")
    bottom.legend(loc="best", fontsize=8)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
