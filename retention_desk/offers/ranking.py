"""The one ranking of counter-offers, called by the desk and by the simulator alike.

Each permitted offer is worth its expected incremental value:

    (P(stay | offer) − P(stay | no offer)) × customer value − P(accept | offer) × the offer's total cost

and "no offer" competes with value 0. Most calls take the best action (``exploit``). A configurable share of calls
draws the first offer at random among the permitted ones (``explore``) so the response model keeps learning about
offers it would not pick: every offer can be drawn, the k-th best by the model with weight 1 / k (or all alike,
``explore_by_rank`` off), so exploring costs less and teaches most about the offers that could be the best. A small
share gets no offer at all (``holdout``) to measure what offering adds.
Every item of the shown list carries its propensity: the probability that this policy, on this call, would have
put it first. Over one decision the propensities sum to 1, which is what unbiased learning and off-policy
evaluation need.

A call can hear up to ``max_offers_per_call`` offers, so the policy plans the whole call, not only its first
offer: a caller who says no to the first is likelier one who would leave (one who would stay anyway takes most
gifts), and the second offer is worth more or less depending on the first. Each first action is worth the best
plan that starts with it (``plan_values``): with the response model's split by kind of caller (``Response``),

    Σ over kinds of caller  share × Σ over the plan's offers  P(every earlier offer declined) × P(yes) ×
                                                              (kept × customer value − the offer's total cost)

The decision is the first action of the best plan; the rest of that plan is what the agent offers next
(``RankedItem.planned``). A plan of one offer is worth exactly its expected incremental value.

Offers that need approval are listed after the rest with propensity 0: the policy never starts a call with an
offer the agent cannot make, but the agent can still ask for one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from retention_desk.config import OfferPolicy

EXPLOIT, EXPLORE, HOLDOUT, RULES_ONLY = "exploit", "explore", "holdout", "rules_only"
NO_OFFER = None


# Plans longer than two offers are searched keeping this many best partial plans per first offer (two-offer plans
# are searched exhaustively).
PLAN_BEAM = 8


@dataclass(frozen=True)
class Response:
    """How one kind of caller (e.g. one who would stay anyway) answers an offer."""

    share: float  # P(the caller is of this kind); the same for every offer of a call
    accept: float  # P(yes | this kind of caller)
    kept: float  # P(still a subscriber at the horizon | yes, kind) − P(the same | no offer at all, kind)


@dataclass(frozen=True)
class Candidate:
    """A permitted offer with the response model's predictions for this caller."""

    offer_code: str
    p_stay: float  # P(the caller stays | this offer is made)
    p_accept: float  # P(the caller says yes)
    total_cost: float  # what an acceptance costs the company
    needs_approval: bool = False
    responses: tuple[Response, ...] = ()  # by kind of caller; () = one kind, from p_stay and p_accept


@dataclass(frozen=True)
class RankedItem:
    offer_code: str | None  # None: no offer
    rank: int  # 1 = the decision
    p_stay: float
    p_accept: float
    expected_cost: float
    expected_value: float  # incremental, in money; 0 for no offer
    propensity: float  # P(this policy puts this item first on this call)
    needs_approval: bool = False
    planned: int | None = None  # position in the offers the agent should make (1 = first); None: not planned

    def as_log(self) -> dict[str, Any]:
        """The stored form (``Call.ranked``)."""
        planned = {} if self.planned is None else {"planned": self.planned}
        return {
            **planned,
            "offer_code": self.offer_code,
            "rank": self.rank,
            "p_stay": round(self.p_stay, 6),
            "p_accept": round(self.p_accept, 6),
            "expected_cost": round(self.expected_cost, 2),
            "expected_value": round(self.expected_value, 2),
            "propensity": round(self.propensity, 9),
            "needs_approval": self.needs_approval,
        }

    @classmethod
    def from_log(cls, item: dict[str, Any]) -> RankedItem:
        """An item as stored; the historical synthetic calls have no predictions (zeros here)."""
        return cls(
            item.get("offer_code"),
            int(item["rank"]),
            float(item.get("p_stay") or 0.0),
            float(item.get("p_accept") or 0.0),
            float(item.get("expected_cost") or 0.0),
            float(item.get("expected_value") or 0.0),
            float(item.get("propensity") or 0.0),
            bool(item.get("needs_approval")),
            None if item.get("planned") is None else int(item["planned"]),
        )


@dataclass(frozen=True)
class Decision:
    mode: str  # exploit | explore | holdout | rules_only
    items: tuple[RankedItem, ...]  # the shown list; items[0] is the decision
    customer_value: float
    p_stay_none: float

    @classmethod
    def from_log(cls, mode: str, ranked: Sequence[dict[str, Any]], customer_value: float = 0.0) -> Decision:
        items = tuple(sorted((RankedItem.from_log(i) for i in ranked), key=lambda i: i.rank))
        none = next((i for i in items if i.offer_code is None), None)
        return cls(mode, items, customer_value, none.p_stay if none else 0.0)

    @property
    def chosen(self) -> str | None:
        return self.items[0].offer_code

    def to_present(self, limit: int) -> list[str]:
        """The offers the agent should make, in order, until one is accepted: the call's plan (the decision first);
        nothing on a hold-out call or when no offer is the best action."""
        if self.mode == HOLDOUT or self.chosen is None:
            return []
        planned = sorted((i for i in self.items if i.planned is not None and i.offer_code), key=lambda i: i.planned)
        if planned:
            return [i.offer_code for i in planned if i.offer_code][:limit]
        # Calls logged before plans: the decision, then the better-than-nothing offers by value.
        rest = [
            i.offer_code
            for i in self.items[1:]
            if i.offer_code is not None and not i.needs_approval and i.expected_value > 0
        ]
        return [self.chosen, *rest][:limit]

    def propensity_of(self, offer_code: str | None) -> float:
        for item in self.items:
            if item.offer_code == offer_code:
                return item.propensity
        return 0.0


def expected_value(candidate: Candidate, p_stay_none: float, customer_value: float) -> float:
    """Incremental value of making this offer rather than none."""
    return (candidate.p_stay - p_stay_none) * customer_value - candidate.p_accept * candidate.total_cost


def plan_value(plan: Sequence[Candidate], p_stay_none: float, customer_value: float) -> float:
    """Expected incremental value of making these offers in order until one is accepted (module docstring)."""
    if not plan:
        return 0.0
    share, accept, gain = _answers(plan, p_stay_none, customer_value)
    still_open, total = share, 0.0
    for j in range(len(plan)):
        total += float(still_open @ gain[j])
        still_open = still_open * (1.0 - accept[j])
    return total


def plan_values(
    candidates: Sequence[Candidate], p_stay_none: float, customer_value: float, limit: int
) -> list[tuple[float, tuple[int, ...]]]:
    """For each candidate, the best plan of at most ``limit`` offers that starts with it: (its value, the
    candidates' indices in order). A plan stops where one more offer would not add value."""
    if not candidates:
        return []
    share, accept, gain = _answers(candidates, p_stay_none, customer_value)  # gain: offers × kinds of caller
    k = len(candidates)
    out = []
    for first in range(k):
        best = (float(share @ gain[first]), (first,))
        beam = [(best[0], best[1], share * (1.0 - accept[first]))]
        for _ in range(1, limit):
            grown = []
            for value, plan, still_open in beam:
                more = gain @ still_open
                more[list(plan)] = -np.inf
                for nxt in np.argsort(-more, kind="stable")[:PLAN_BEAM]:
                    if np.isfinite(more[nxt]):
                        grown.append((value + float(more[nxt]), (*plan, int(nxt)), still_open * (1.0 - accept[nxt])))
            if not grown:
                break
            grown.sort(key=lambda entry: -entry[0])
            beam = grown[:PLAN_BEAM]
            if beam[0][0] > best[0]:
                best = (beam[0][0], beam[0][1])
        out.append(best)
    return out


def _answers(
    candidates: Sequence[Candidate], p_stay_none: float, customer_value: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(share of each kind of caller; P(yes) and P(yes) × the money a yes brings, offers × kinds): the model's
    split when every offer has one alike, else one kind of caller whose yes is worth the whole predicted lift (so
    a plan of one offer is worth ``expected_value`` either way)."""
    if all(c.responses for c in candidates) and len({len(c.responses) for c in candidates}) == 1:
        share = np.array([r.share for r in candidates[0].responses])
        accept = np.array([[r.accept for r in c.responses] for c in candidates])
        kept = np.array([[r.kept for r in c.responses] for c in candidates])
        cost = np.array([[c.total_cost] for c in candidates])
        return share, accept, accept * (kept * customer_value - cost)
    accept = np.array([[c.p_accept] for c in candidates])
    gain = np.array([[expected_value(c, p_stay_none, customer_value)] for c in candidates])
    return np.ones(1), accept, gain


def explore_weights(values: Sequence[float], by_rank: bool) -> list[float]:
    """P(an explored call draws offer i): weight 1 / (i's rank by value, best first; ties keep their order), or
    uniform. Every offer keeps a share, so every logged action has a propensity above 0."""
    k = len(values)
    if not by_rank:
        return [1.0 / k] * k
    order = sorted(range(k), key=lambda i: (-values[i], i))
    weight = [0.0] * k
    for rank, i in enumerate(order, start=1):
        weight[i] = 1.0 / rank
    total = sum(weight)
    return [w / total for w in weight]


def action_probabilities(
    values: Sequence[float], policy: OfferPolicy, *, explore: bool = True
) -> tuple[list[float], float, int | None]:
    """(P(offer i first) for each presentable offer, P(no offer first), index of the best action or None).

    ``values`` are the presentable offers' expected values. Ties go to no offer, then to the earlier offer.
    """
    k = len(values)
    best = max(range(k), key=lambda i: (values[i], -i), default=None)
    if best is not None and values[best] <= 0:
        best = None
    if k == 0:
        return [], 1.0, None
    explore_share = policy.explore_share if explore else 0.0
    holdout_share = policy.holdout_share if explore else 0.0
    exploit_share = 1.0 - explore_share - holdout_share
    explore = explore_weights(values, policy.explore_by_rank)
    probs = [explore_share * explore[i] + (exploit_share if i == best else 0.0) for i in range(k)]
    none = holdout_share + (exploit_share if best is None else 0.0)
    return probs, none, best


def first_actions(
    *,
    candidates: Sequence[Candidate],
    p_stay_none: float,
    customer_value: float,
    policy: OfferPolicy,
    rules_only: bool = False,
) -> dict[str | None, tuple[float, float]]:
    """Each first action's (P(this policy takes it first), value of the best plan that starts with it; no offer
    0): what ``rank_offers`` draws from, for off-policy evaluation, where P(stay | no offer) × customer value plus
    the value is the call's expected reward after that action."""
    presentable, plans, probs, p_none, _ = _first_action_table(
        candidates, p_stay_none, customer_value, policy, rules_only
    )
    out: dict[str | None, tuple[float, float]] = {
        c.offer_code: (p, v) for c, p, (v, _) in zip(presentable, probs, plans, strict=True)
    }
    out[NO_OFFER] = (p_none, 0.0)
    return out


def _first_action_table(
    candidates: Sequence[Candidate], p_stay_none: float, customer_value: float, policy: OfferPolicy, rules_only: bool
) -> tuple[list[Candidate], list[tuple[float, tuple[int, ...]]], list[float], float, int | None]:
    """(the offers the agent may make, each one's best plan, P(each comes first), P(no offer first), the best
    offer's index or None): what both ``rank_offers`` and ``first_actions`` rest on."""
    presentable = [c for c in candidates if not c.needs_approval]
    plans = plan_values(presentable, p_stay_none, customer_value, policy.max_offers_per_call)
    probs, p_none, best = action_probabilities([v for v, _ in plans], policy, explore=not rules_only)
    return presentable, plans, probs, p_none, best


def _draw(weights: Sequence[float], u: float) -> int:
    """The index whose slice of [0, 1) holds ``u`` (the last one absorbs rounding)."""
    edge = 0.0
    for i, w in enumerate(weights):
        edge += w
        if u < edge:
            return i
    return len(weights) - 1


def rank_offers(
    *,
    candidates: Sequence[Candidate],
    p_stay_none: float,
    customer_value: float,
    policy: OfferPolicy,
    draws: tuple[float, float],
    rules_only: bool = False,
) -> Decision:
    """Rank the permitted offers for one call and choose the first action.

    ``draws`` are two uniform numbers in [0, 1): the first picks exploit / explore / hold-out, the second the
    explored offer. The desk passes fresh random numbers, the simulator seeded ones; the arithmetic is the same.
    Without a churn model (``rules_only``) the predictions come from the catalog's priors and nothing explores.
    """
    presentable, plans, probs, p_none, best = _first_action_table(
        candidates, p_stay_none, customer_value, policy, rules_only
    )
    values = [v for v, _ in plans]
    gated = [c for c in candidates if c.needs_approval]

    u_mode, u_pick = draws
    k = len(presentable)
    if rules_only:
        mode, chosen = RULES_ONLY, best
    elif k and u_mode < policy.holdout_share:
        mode, chosen = HOLDOUT, None
    elif k and u_mode < policy.holdout_share + policy.explore_share:
        mode, chosen = EXPLORE, _draw(explore_weights(values, policy.explore_by_rank), u_pick)
    else:
        mode, chosen = EXPLOIT, best

    plan = () if chosen is None or mode == HOLDOUT else plans[chosen][1]
    position = {index: n for n, index in enumerate(plan, start=1)}

    def item(c: Candidate, propensity: float, planned: int | None = None) -> RankedItem:
        cost = c.p_accept * c.total_cost
        value = expected_value(c, p_stay_none, customer_value)
        return RankedItem(c.offer_code, 0, c.p_stay, c.p_accept, cost, value, propensity, c.needs_approval, planned)

    offers = [item(c, p, position.get(j)) for j, (c, p) in enumerate(zip(presentable, probs, strict=True))]
    none = RankedItem(NO_OFFER, 0, p_stay_none, 0.0, 0.0, 0.0, p_none)
    first = none if chosen is None else offers[chosen]
    follow = [offers[j] for j in plan[1:]]
    others = [i for i in (none, *offers) if i is not first and i.planned is None]
    others.sort(key=lambda i: -i.expected_value)  # stable: no offer stays ahead of offers of equal value
    tail = sorted((item(c, 0.0) for c in gated), key=lambda i: -i.expected_value)
    ordered = [first, *follow, *others, *tail]
    items = tuple(replace(i, rank=rank) for rank, i in enumerate(ordered, start=1))
    return Decision(mode, items, customer_value, p_stay_none)
