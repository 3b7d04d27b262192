"""Generate the synthetic subscriber world as column arrays, vectorised with numpy.

Times are day offsets from the world's "today" (``as_of`` = day 0, the past is negative) until the very end,
where ``to_tables`` turns them into dates and aware-UTC datetimes. The same seed and ``as_of`` give the same
arrays, and therefore the same rows and ids.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from retention_desk.synth import names
from retention_desk.synth.events import bill_grid, outage_and_tickets
from retention_desk.synth.history import AgentRef, desk_history, earlier_offers
from retention_desk.synth.products import PlanBook
from retention_desk.synth.tables import to_tables

SEGMENTS = ("family", "young_adult", "single", "senior", "student")
SEGMENT_SHARE = (0.30, 0.18, 0.25, 0.17, 0.10)
AGE_RANGE = {"family": (28, 56), "young_adult": (22, 35), "single": (30, 72), "senior": (66, 92), "student": (19, 28)}
TENURE_SCALE_MONTHS = {"family": 60, "young_adult": 30, "single": 50, "senior": 90, "student": 14}
CONTRACTS = ("month_to_month", "one_year", "two_year")
PAYMENT_METHODS = ("avtalegiro", "efaktura", "card", "paper_invoice")
# Bundle preference by segment (multiplies the bundle's weight from plans.toml).
BUNDLE_TASTE = {
    "family": {"TRIO": 2.0, "DUO_TV_BB": 1.4, "MOBILE_ONLY": 0.4},
    "student": {"BB_ONLY": 2.0, "MOBILE_ONLY": 2.5, "TRIO": 0.3, "TV_ONLY": 0.2},
    "young_adult": {"DUO_BB_MOBILE": 1.8, "BB_ONLY": 1.4, "TV_ONLY": 0.4},
    "senior": {"TV_ONLY": 3.0, "DUO_TV_BB": 1.3, "MOBILE_ONLY": 0.6, "DUO_BB_MOBILE": 0.4},
}
Progress = Callable[[str], None]


@dataclass
class World:
    """The generated rows, table by table, as column arrays; plus the counts for the summary."""

    as_of: date
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)

    def count(self, table: str) -> int:
        columns = self.tables.get(table)
        return len(next(iter(columns.values()))) if columns else 0


def generate_world(
    *,
    n_accounts: int,
    seed: int,
    as_of: date,
    plans: PlanBook,
    offers: Sequence[dict[str, Any]],
    agents: Sequence[AgentRef],
    step: Progress | None = None,
) -> World:
    """Accounts with their services, bills, tickets, outages, earlier offers and a year of desk calls."""
    rng = np.random.default_rng(seed)
    step = step or (lambda _label: None)
    acc, services, tickets, grid = draw_population(rng, n_accounts, as_of, plans, step)
    calls = desk_history(rng, acc, tickets, grid, offers, agents, seed)
    history = earlier_offers(rng, acc, offers)
    step("desk calls")
    world = World(as_of=as_of)
    world.tables = to_tables(acc, services, tickets, grid, calls, history, as_of, seed)
    step("rows")
    return world


def draw_population(
    rng: np.random.Generator, n_accounts: int, as_of: date, plans: PlanBook, step: Progress | None = None
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Accounts, services, tickets and bills: everything before the desk's call history, which the simulator
    regenerates (same seed, same draws) to know each subscriber's hidden truth."""
    step = step or (lambda _label: None)
    acc = draw_accounts(rng, n_accounts, as_of, plans)
    step("accounts")
    services = draw_services(rng, acc, plans)
    acc["monthly_charge"] = np.round(np.bincount(services["idx"], services["price_now"], n_accounts), 2)
    acc["charge_before_rise"] = np.round(np.bincount(services["idx"], services["price_before"], n_accounts), 2)
    step("services")
    tickets = outage_and_tickets(rng, acc)
    grid = bill_grid(rng, acc, as_of)
    step("tickets and bills")
    return acc, services, tickets, grid


def draw_accounts(rng: np.random.Generator, n: int, as_of: date, plans: PlanBook) -> dict[str, Any]:
    """Who the subscribers are: place, segment, age, tenure, contract, plan, payment habits and usage."""
    acc: dict[str, Any] = {"n": n, "id": np.arange(1, n + 1)}
    region_share = np.array([r[1] for r in names.REGIONS])
    acc["region_idx"] = region = rng.choice(len(names.REGIONS), n, p=region_share / region_share.sum())
    acc["place_idx"] = rng.integers(0, 3, n)  # every region lists at least three places
    acc["competitor_pressure"] = np.array([r[2] for r in names.REGIONS])[region]
    seg = rng.choice(len(SEGMENTS), n, p=SEGMENT_SHARE)
    acc["segment"] = segment = np.asarray(SEGMENTS, dtype=object)[seg]
    low = np.array([AGE_RANGE[s][0] for s in SEGMENTS])[seg]
    high = np.array([AGE_RANGE[s][1] for s in SEGMENTS])[seg]
    acc["birth_year"] = as_of.year - rng.integers(low, high)
    scale = np.array([TENURE_SCALE_MONTHS[s] for s in SEGMENTS])[seg]
    tenure_days = np.clip(rng.exponential(scale * 30.44), 31, 20 * 365).astype(int)
    acc["since_day"] = -tenure_days
    contract_p = np.where((segment == "student")[:, None], [0.75, 0.15, 0.10], [0.42, 0.25, 0.33])
    acc["contract_type"] = np.asarray(CONTRACTS, dtype=object)[_choose_rows(rng, contract_p)]
    period = np.where(acc["contract_type"] == "one_year", 365, 730)
    acc["contract_end_day"] = np.where(
        acc["contract_type"] == "month_to_month",
        np.iinfo(np.int32).min,
        -tenure_days + (tenure_days // period + 1) * period,
    )
    bundle_p = np.array(
        [[b.weight * BUNDLE_TASTE.get(s, {}).get(b.code, 1.0) for b in plans.bundles] for s in SEGMENTS]
    )
    bundle_p /= bundle_p.sum(axis=1, keepdims=True)
    acc["bundle_idx"] = _choose_rows(rng, bundle_p[seg])
    acc["plan_code"] = np.asarray(plans.bundle_codes(), dtype=object)[acc["bundle_idx"]]
    includes = [set(b.includes) for b in plans.bundles]
    for kind in ("tv", "broadband", "mobile"):
        acc[f"has_{kind}"] = np.array([kind in inc for inc in includes])[acc["bundle_idx"]]
    pay_p = np.where((segment == "senior")[:, None], [0.40, 0.25, 0.05, 0.30], [0.45, 0.38, 0.13, 0.04])
    acc["payment_method"] = np.asarray(PAYMENT_METHODS, dtype=object)[_choose_rows(rng, pay_p)]
    troubled = rng.random(n) < np.where(np.isin(segment, ("student", "young_adult")), 0.14, 0.06)
    acc["late_rate"] = np.where(troubled, rng.uniform(0.2, 0.6, n), 0.02) + 0.05 * (
        acc["payment_method"] == "paper_invoice"
    )
    tv_mean = np.select([segment == "senior", segment == "family", segment == "student"], [22.0, 14.0, 5.0], 10.0)
    acc["tv_hours_per_week"] = np.where(acc["has_tv"], np.round(rng.gamma(2.0, tv_mean / 2), 1), 0.0)
    data_mean = np.select([segment == "student", segment == "young_adult", segment == "senior"], [120, 150, 15], 60)
    acc["data_gb_per_month"] = np.round(rng.lognormal(np.log(data_mean), 0.9), 1)
    acc["latent"] = rng.standard_normal(n)
    _price_rise_exposure(acc, as_of, plans)
    _identity(rng, acc)
    return acc


def _price_rise_exposure(acc: dict[str, Any], as_of: date, plans: PlanBook) -> None:
    """The yearly rise, on the first of the month ``rise_months_ago`` before today; new customers and protected
    contracts did not see it. Placed relative to today so every world, whatever its date, has the same shape."""
    months = as_of.year * 12 + as_of.month - 1 - plans.rise_months_ago
    rise = date(months // 12, months % 12 + 1, 1)
    acc["rise_day"] = rise_day = (rise - as_of).days
    protected = np.isin(acc["contract_type"], plans.protected_contracts) & (acc["contract_end_day"] > rise_day)
    acc["rise_exposed"] = (acc["since_day"] < rise_day - 30) & ~protected


def _identity(rng: np.random.Generator, acc: dict[str, Any]) -> None:
    n = acc["n"]
    female = rng.random(n) < 0.5
    first_f = np.asarray(names.FIRST_NAMES_FEMALE, dtype=object)[rng.integers(0, len(names.FIRST_NAMES_FEMALE), n)]
    first_m = np.asarray(names.FIRST_NAMES_MALE, dtype=object)[rng.integers(0, len(names.FIRST_NAMES_MALE), n)]
    acc["first_name"] = np.where(female, first_f, first_m)
    acc["last_name"] = np.asarray(names.LAST_NAMES, dtype=object)[rng.integers(0, len(names.LAST_NAMES), n)]
    # Unique mobile numbers: 8 digits starting 4 (40–41, 45–48) or 9, the ranges Norway gives mobiles.
    blocks = np.array([40, 41, 45, 46, 47, 48] + list(range(90, 100)))
    picks = rng.choice(len(blocks) * 1_000_000, size=n, replace=False)
    acc["phone_digits"] = blocks[picks // 1_000_000] * 1_000_000 + picks % 1_000_000
    acc["street_idx"] = rng.integers(0, len(names.STREETS), n)
    acc["house_no"] = rng.integers(1, 120, n)
    acc["postcode_tail"] = rng.integers(0, 100, n)
    acc["email_domain_idx"] = rng.integers(0, len(names.EMAIL_DOMAINS), n)


def draw_services(rng: np.random.Generator, acc: dict[str, Any], plans: PlanBook) -> dict[str, Any]:
    """One row per product on the account; prices before and after this year's rise."""
    parts: list[dict[str, Any]] = []
    n = acc["n"]
    for kind in ("tv", "broadband", "mobile"):
        products = plans.of_kind(kind)
        weights = np.array([p.weight for p in products])
        idx = np.flatnonzero(acc[f"has_{kind}"])
        if kind == "mobile":
            extra_lines = np.where(
                acc["segment"][idx] == "family", rng.poisson(1.2, len(idx)), rng.random(len(idx)) < 0.15
            )
            idx = np.repeat(idx, 1 + np.minimum(extra_lines, 3))
        choice = rng.choice(len(products), len(idx), p=weights / weights.sum())
        parts.append(_service_part(idx, products, choice, acc["since_day"][idx]))
    premiums = plans.of_kind("premium")
    tv_factor = np.clip(acc["tv_hours_per_week"] / 14, 0.2, 2.0)
    for i, product in enumerate(premiums):
        fit = np.where(acc["segment"] == "family", 2.0, 0.3) if product.channel == "barn" else 1.0
        take = acc["has_tv"] & (rng.random(n) < product.weight * tv_factor * fit)
        idx = np.flatnonzero(take)
        started = np.maximum(acc["since_day"][idx], -rng.integers(30, 2000, len(idx)))
        parts.append(_service_part(idx, premiums, np.full(len(idx), i), started))
    services = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    order = np.argsort(services["idx"], kind="stable")
    services = {key: values[order] for key, values in services.items()}
    exposed = acc["rise_exposed"][services["idx"]]
    services["price_now"] = np.where(exposed, services["list_price"], services["price_before"])
    return services


def _service_part(idx: np.ndarray, products: Sequence[Any], choice: np.ndarray, started: np.ndarray) -> dict[str, Any]:
    price = np.array([p.monthly_price for p in products])[choice]
    rise = np.array([p.rise_percent for p in products])[choice]
    return {
        "idx": idx,
        "kind": np.asarray([p.kind for p in products], dtype=object)[choice],
        "code": np.asarray([p.code for p in products], dtype=object)[choice],
        "name": np.asarray([p.name for p in products], dtype=object)[choice],
        "channel": np.asarray([p.channel or "" for p in products], dtype=object)[choice],
        "list_price": price,
        "price_before": np.round(price / (1 + rise / 100), 0),
        "started_day": started,
    }


def _choose_rows(rng: np.random.Generator, p: np.ndarray) -> np.ndarray:
    """One category per row of a (rows × categories) probability matrix."""
    cumulative = np.cumsum(p, axis=1)
    return np.minimum((rng.random(len(p))[:, None] > cumulative).sum(axis=1), p.shape[1] - 1)
