"""The simulator's view of the synthetic world: who calls on a simulated day, and how each caller answers.

This is the only bridge from the ground truth to the simulator. It regenerates the seeded world's subscribers
(same seed, same draws, so account ids match the database) to know what the database does not: each
subscriber's usage, latent taste and true risk. Callers answer offers per the ground truth, with common random
numbers: every policy compared on a day meets the same callers with the same dice, so differences between
policies are differences of policy, not of luck. A call's answers are all read from one die, each offer taking its
share of what the offers before it left: the first is accepted when the die falls below its P(yes) p1, the second
when it falls in the next (1 − p1) × p2, and so on. Each answer keeps its true probability given the noes before
it, and a caller says yes to some offer of the call exactly when the die falls below the whole plan's chance of
a yes: a would-be leaver whom a call with lower odds keeps is kept by any call with better odds, in whatever order
its offers come. Only the luck two policies share grows: their difference is measured with less noise than with a
die per offer or per position (``benchmarks/simulated_luck.py``).

A caller who would stay anyway accepts an offer with P = 0.25 + 0.5 × lift (a gift is welcome); one who would
leave accepts exactly the offers that keep them (P = lift). A kept caller is still a subscriber at the horizon
with the ground truth's durability for the offer that kept them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from retention_desk.offers.ranking import Candidate, Response, plan_values
from retention_desk.synth import ground_truth as gt
from retention_desk.synth.events import outage_and_tickets
from retention_desk.synth.history import CALL_SHARE, account_features
from retention_desk.synth.products import PlanBook
from retention_desk.synth.world import draw_population


@dataclass
class Callers:
    """One simulated day's callers and their dice (arrays, one row per caller; offer columns follow ``codes``)."""

    day: int
    account_ids: np.ndarray
    reasons: np.ndarray
    unsavable: np.ndarray
    churn_p: np.ndarray
    stays_anyway: np.ndarray
    lift: np.ndarray  # callers × offers: P(the offer keeps the caller if they would leave)
    u_answer: np.ndarray  # callers: the die every answer of the call is read from
    u_durable: np.ndarray  # callers: the die the save's durability is read from
    contract_type: np.ndarray

    def __len__(self) -> int:
        return len(self.account_ids)


@dataclass(frozen=True)
class Outcome:
    """What happened on one call under one policy."""

    answers: tuple[tuple[str, bool], ...]  # (offer code, accepted) in the order presented
    accepted: str | None
    saved: bool  # still a subscriber when the call ends
    durable: bool  # still a subscriber at the horizon
    durable_without_offer: bool  # what the same caller would have done had nothing been offered
    leave_in_days: int | None  # days after the call the account closes; None if it stays

    def net_value(self, value: float, cost: float) -> float:
        """Net retained value of the call: the customer value of a caller kept at the horizon who would otherwise have
        gone (or lost whom the offer made go), less what the accepted offer cost."""
        return (self.durable - self.durable_without_offer) * value - cost


@dataclass(frozen=True)
class TrueParts:
    """One caller's truth about one offer, in the joint offer model's terms (``ml/offer_joint.py``)."""

    share: float  # P(the caller would stay anyway); 0 for the unsavable
    durable_none: float  # P(a stayer without an offer is still here at the horizon)
    gift: float  # P(yes | would stay anyway)
    stayer_kept: float  # what a stayer's yes adds to P(still here at the horizon)
    leaver_yes: float  # P(yes | would leave) = the offer's lift
    leaver_kept: float  # P(still here at the horizon | a leaver said yes)


class SimulatedWorld:
    """The hidden truth about the seeded subscribers, and the callers' answers."""

    def __init__(self, acc: dict[str, Any], tickets: dict[str, Any], grid: dict[str, Any], offers: Sequence[dict]):
        self.acc, self.tickets, self.grid = acc, tickets, grid
        self.offers = list(offers)
        self.codes = [o["code"] for o in self.offers]
        self.kinds = {o["code"]: o["kind"] for o in self.offers}
        self._column = {code: i for i, code in enumerate(self.codes)}

    @classmethod
    def regenerate(
        cls, *, n_accounts: int, seed: int, as_of: date, plans: PlanBook, offers: Sequence[dict]
    ) -> SimulatedWorld:
        """The same subscribers ``generate_world`` drew for this seed and date (ids 1..n)."""
        acc, _services, tickets, grid = draw_population(np.random.default_rng(seed), n_accounts, as_of, plans)
        return cls(acc, tickets, grid, offers)

    def extend_events(self, rng: np.random.Generator, days: int) -> dict[str, Any]:
        """Tickets and outages on days 1..``days`` after the world's date, at the world's own rates, so the world
        keeps living while the simulation runs (else recent trouble fades and callers drift to low risk).
        Returns them (account ids, kind, day, second, hours) for the simulator to hand to the database day by day."""
        future = outage_and_tickets(rng, self.acc, 1, days + 1)
        self.tickets = {key: np.concatenate([self.tickets[key], future[key]]) for key in self.tickets}
        return {**future, "account_id": future["idx"] + 1}

    def draw_callers(self, rng: np.random.Generator, *, day: int, active_ids: np.ndarray, n_calls: int) -> Callers:
        """``n_calls`` callers on ``day`` (days after the world's date): active subscribers, likelier the riskier
        they are (the same call hazard that drew the year of history)."""
        idx = np.asarray(active_ids, dtype=np.int64) - 1
        feats = account_features(self.acc, self.tickets, self.grid, idx, np.full(len(idx), day))
        weight = gt.call_probability(gt.churn_logit(feats), CALL_SHARE)
        p = weight / weight.sum()
        n = min(n_calls, len(idx))
        pick = np.sort(rng.choice(len(idx), size=n, replace=False, p=p))
        chosen = {k: np.asarray(v)[pick] for k, v in feats.items()}
        reasons = gt.draw_cancel_reason(chosen, rng)
        unsavable = gt.draw_unsavable(reasons, rng)
        churn_p = gt.churn_probability(chosen)
        stays = (rng.random(n) < 1 - churn_p) & ~unsavable
        lift = np.column_stack([gt.offer_lift(o, reasons, chosen, unsavable) for o in self.offers]) if n else None
        return Callers(
            day=day,
            account_ids=idx[pick] + 1,
            reasons=reasons,
            unsavable=unsavable,
            churn_p=churn_p,
            stays_anyway=stays,
            lift=lift if lift is not None else np.zeros((0, len(self.offers))),
            u_answer=rng.random(n),
            u_durable=rng.random(n),
            contract_type=np.asarray(chosen["contract_type"]),
        )

    def p_yes(self, callers: Callers, i: int, code: str) -> float:
        """P(caller ``i`` accepts this offer when it is made), by the truth: a stayer's or a leaver's rate."""
        return float(gt.acceptance_probability(callers.lift[i, self._column[code]], callers.stays_anyway[i]))

    def play(self, callers: Callers, i: int, presented: Sequence[str]) -> Outcome:
        """Offers made in order until one is accepted, and the caller's fate (one die for the whole call)."""
        answers: list[tuple[str, bool]] = []
        accepted = None
        below = 0.0  # the share of the die taken by the offers made so far (the die fell above the earlier ones)
        for code in presented:
            below += (1.0 - below) * self.p_yes(callers, i, code)
            yes = bool(callers.u_answer[i] < below)
            answers.append((code, yes))
            if yes:
                accepted = code
                break
        stays = bool(callers.stays_anyway[i])
        saved = stays or accepted is not None
        durable = saved and callers.u_durable[i] < self._durability(callers, i, accepted)
        durable_none = stays and callers.u_durable[i] < self._durability(callers, i, None)
        leave = None
        if not saved:
            leave = 0
        elif not durable:
            leave = 14 + int(callers.u_durable[i] * 1000) % 76  # relapses close 14–89 days after the call
        return Outcome(tuple(answers), accepted, saved, bool(durable), bool(durable_none), leave)

    def expected(
        self, callers: Callers, i: int, presented: Sequence[str], value: float, costs: dict[str, float]
    ) -> tuple[float, float]:
        """(expected net retained value, expected offer cost) of making these offers in order, by the ground
        truth's probabilities rather than this caller's dice: the same figure without the luck of the draw."""
        s = 0.0 if callers.unsavable[i] else 1.0 - float(callers.churn_p[i])
        d_none = self._durability(callers, i, None)
        kept, cost = 0.0, 0.0
        for stays, weight in ((True, s), (False, 1.0 - s)):
            still_open = weight
            for code in presented:
                lift = float(callers.lift[i, self._column[code]])
                p = float(gt.acceptance_probability(lift, stays))
                yes = still_open * p
                cost += yes * costs[code]
                kept += yes * self._durability(callers, i, code)
                still_open -= yes
            if stays:
                kept += still_open * d_none
        return (kept - s * d_none) * value - cost, cost

    def _durability(self, callers: Callers, i: int, code: str | None) -> float:
        kind = self.kinds[code] if code else None
        return float(
            gt.durable_probability(
                np.array([kind], dtype=object),
                callers.reasons[i : i + 1],
                callers.contract_type[i : i + 1],
                callers.churn_p[i : i + 1],
            )[0]
        )

    def true_value(self, callers: Callers, i: int, code: str, value: float, cost: float) -> float:
        """The expected incremental value of making this offer first, by the ground truth's probabilities."""
        t = self.true_parts(callers, i, code)
        kept = t.share * t.gift * t.stayer_kept + (1 - t.share) * t.leaver_yes * t.leaver_kept
        return kept * value - (t.share * t.gift + (1 - t.share) * t.leaver_yes) * cost

    def oracle_order(
        self, callers: Callers, i: int, permitted: Sequence[str], value: float, costs: dict[str, float], limit: int
    ) -> list[str]:
        """The offers a clairvoyant of probabilities (not of dice) would make: the best plan of at most ``limit``
        offers by the ground truth, searched by the same planner as our policy's (``offers.ranking``)."""
        candidates = [self._true_candidate(callers, i, code, costs[code]) for code in permitted]
        plans = plan_values(candidates, 0.0, value, limit)
        if not plans:
            return []
        best, plan = max(plans, key=lambda vp: vp[0])
        return [candidates[j].offer_code for j in plan] if best > 0 else []

    def true_parts(self, callers: Callers, i: int, code: str) -> TrueParts:
        """Caller ``i``'s true answer to an offer, split as the joint offer model splits its prediction."""
        s = 0.0 if callers.unsavable[i] else 1.0 - float(callers.churn_p[i])
        lift = float(callers.lift[i, self._column[code]])
        d, d_none = self._durability(callers, i, code), self._durability(callers, i, None)
        return TrueParts(s, d_none, float(gt.acceptance_probability(lift, True)), d - d_none, lift, d)

    def logged_truth(
        self, account_ids: np.ndarray, days: np.ndarray, reasons: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The truth behind logged calls (account ids, days after the world's date, reasons): each caller's chance of
        staying anyway and, per offer (columns follow ``codes``), a stayer's and a would-be leaver's P(yes). The log
        does not say who could not be saved, so they count at their reason's share, as an estimate from the log
        would see them."""
        account_ids, days = np.asarray(account_ids, dtype=np.int64), np.asarray(days, dtype=np.int64)
        reasons = np.asarray(reasons, dtype=object)
        churn, lift = np.zeros(len(account_ids)), np.zeros((len(account_ids), len(self.offers)))
        # One pass per occurrence: account_features reads one day per account, and an account may have called twice.
        occurrence, seen = np.zeros(len(account_ids), dtype=np.int64), {}
        for n, account in enumerate(account_ids.tolist()):
            occurrence[n] = seen.get(account, 0)
            seen[account] = occurrence[n] + 1
        for k in range(int(occurrence.max(initial=-1)) + 1):
            rows = np.flatnonzero(occurrence == k)
            feats = account_features(self.acc, self.tickets, self.grid, account_ids[rows] - 1, days[rows])
            churn[rows] = gt.churn_probability(feats)
            lift[rows] = np.column_stack([gt.offer_lift(o, reasons[rows], feats) for o in self.offers])
        savable = 1.0 - np.array([gt.UNSAVABLE_SHARE.get(r, 0.0) for r in reasons])
        share = savable * (1.0 - churn)
        leaver_yes = lift * (savable * churn / np.maximum(1.0 - share, 1e-12))[:, None]
        return share, gt.acceptance_probability(lift, True), leaver_yes

    def _true_candidate(self, callers: Callers, i: int, code: str, cost: float) -> Candidate:
        """An offer's true answers by kind of caller: one who would stay anyway takes it as a gift, one who would
        leave is kept by it (``expected`` and ``true_value`` read the same truth)."""
        t = self.true_parts(callers, i, code)
        responses = (Response(t.share, t.gift, t.stayer_kept), Response(1.0 - t.share, t.leaver_yes, t.leaver_kept))
        return Candidate(code, 0.0, t.share * t.gift + (1.0 - t.share) * t.leaver_yes, cost, responses=responses)
