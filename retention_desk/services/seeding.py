"""Seed (or re-seed) the demo world: cancel reasons, offer catalog, desk users and the synthetic subscribers."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from retention_desk.config import ConfigError
from retention_desk.domain.progress import SILENT, Progress
from retention_desk.services.audit import record_event
from retention_desk.services.catalog.files import CatalogError, load_cancel_reasons, load_offers, read_toml
from retention_desk.services.catalog.store import upsert_cancel_reasons, upsert_offers
from retention_desk.services.seed_files import seed_file
from retention_desk.services.staff.users import UserIn, create_user, get_user_by_username, set_password
from retention_desk.storage import bulk
from retention_desk.storage.db import session_scope
from retention_desk.synth.history import AgentRef
from retention_desk.synth.products import PlanBook
from retention_desk.synth.world import generate_world

SYNTHETIC = "synthetic"
GENERATION_STEPS = 5  # the steps generate_world reports


@dataclass(frozen=True)
class SeedSummary:
    """What a seeding run wrote."""

    accounts: int
    services: int
    bills: int
    tickets: int
    offer_history: int
    calls: int
    call_offers: int
    offers: int
    users: int
    seconds: float
    seed: int = 0
    as_of: date | None = None

    def describe(self) -> str:
        return (
            f"Seeded {self.accounts:,} accounts ({self.services:,} services, {self.bills:,} bills, "
            f"{self.tickets:,} tickets, {self.calls:,} desk calls with {self.call_offers:,} offers presented, "
            f"{self.offer_history:,} offers on record), {self.offers} catalog offers and {self.users} desk users "
            f"in {self.seconds:.1f} s.\n"
            f"Seed {self.seed}, as of {self.as_of}: the same seed and date give the same world."
        )


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str
    authority_tier: int


@dataclass(frozen=True)
class _DeskUser:
    username: str
    display_name: str
    role: str
    authority_tier: int
    team: str | None
    login: bool
    password: str | None


def _desk_users() -> list[_DeskUser]:
    items = read_toml(seed_file("users.toml")).get("users", [])
    users = []
    for number, item in enumerate(items, start=1):
        login = bool(item.get("login", False))
        password = item.get("password")
        if not item.get("username") or (login and not isinstance(password, str)):
            raise CatalogError(f"user #{number}: a username, and a password for users with login = true, are required")
        users.append(
            _DeskUser(
                username=item["username"],
                display_name=item.get("display_name", ""),
                role=item.get("role", "agent"),
                authority_tier=int(item.get("authority_tier", 1)),
                team=item.get("team"),
                login=login,
                password=password if login else None,
            )
        )
    return users


def load_plans(path: Path | None = None) -> PlanBook:
    """The synthetic operator's products, bundles and yearly price rise (plans.toml); only the world uses them."""
    try:
        return PlanBook.from_dict(read_toml(path or seed_file("plans.toml")))
    except ValueError as exc:
        if isinstance(exc, CatalogError):
            raise
        raise CatalogError(str(exc)) from None


def demo_logins() -> list[DemoLogin]:
    """The demo users one can sign in as (printed by ``retention-desk demo``)."""
    return [
        DemoLogin(username=u.username, password=u.password or "", role=u.role, authority_tier=u.authority_tier)
        for u in _desk_users()
        if u.login
    ]


def world_is_seeded(*, url: str) -> bool:
    """True when the database already holds a synthetic subscriber world."""
    return bulk.any_account_from(url, SYNTHETIC)


def seed_demo_world(
    *,
    url: str,
    accounts: int,
    seed: int,
    as_of: date | None,
    demo_users: bool = False,
    progress: Progress = SILENT,
) -> SeedSummary:
    """Replace the synthetic world with a fresh one; same seed and ``as_of`` give identical rows and ids.

    The world's desk team (the agents of its calls) is always there, with passwords nobody knows; only with
    ``demo_users`` do the demo logins get the passwords the README prints, and the demo supervisor and admin exist.
    """
    started = time.perf_counter()
    if accounts < 1:
        raise ConfigError("The number of accounts to seed must be at least 1.")
    as_of = as_of or datetime.now(UTC).date()
    foreign = bulk.count_accounts_not_from(url, SYNTHETIC)
    if foreign:
        raise ConfigError(
            f"This database holds {foreign:,} accounts that are not synthetic (imported?); seeding would delete them. "
            "Seed a separate database instead."
        )
    offers, reasons, plans = load_offers(), load_cancel_reasons(), load_plans()
    with session_scope(url) as session:
        upsert_cancel_reasons(session=session, reasons=reasons)
        upsert_offers(session=session, offers=offers)
        agents, n_users = _ensure_users(session, demo_users=demo_users)
    progress.stage(f"Generating {accounts:,} accounts", total=GENERATION_STEPS, unit=" steps")
    world = generate_world(
        n_accounts=accounts,
        seed=seed,
        as_of=as_of,
        plans=plans,
        offers=[o.as_dict() for o in offers if o.active],
        agents=agents,
        step=lambda label: progress.advance(1, note=label),
    )
    progress.stage("Writing the world", total=sum(world.count(t) for t in world.tables), unit=" rows")
    bulk.replace_world(url, world.tables, on_rows=lambda _table, count: progress.advance(count))
    progress.done()
    summary = SeedSummary(
        accounts=world.count("accounts"),
        services=world.count("account_services"),
        bills=world.count("bills"),
        tickets=world.count("tickets"),
        offer_history=world.count("offer_history"),
        calls=world.count("calls"),
        call_offers=world.count("call_offers"),
        offers=len(offers),
        users=n_users,
        seconds=round(time.perf_counter() - started, 2),
        seed=seed,
        as_of=as_of,
    )
    with session_scope(url) as session:
        record_event(
            session=session,
            action="world_seeded",
            actor_name="cli",
            entity_type="world",
            after={"accounts": summary.accounts, "calls": summary.calls, "seed": seed, "as_of": as_of.isoformat()},
        )
    return summary


def _ensure_users(session: Any, *, demo_users: bool) -> tuple[list[AgentRef], int]:
    """Create the desk team that is missing (a random password nobody sees) and, with ``demo_users``, the demo
    logins with their printed passwords; returns the agents the world's calls are assigned to."""
    agents, made = [], 0
    for spec in _desk_users():
        if spec.login and spec.role != "agent" and not demo_users:
            continue  # the demo supervisor and admin are sign-ins only, not part of the world's desk
        user = get_user_by_username(session=session, username=spec.username)
        if user is None:
            user = create_user(
                session=session,
                user_in=UserIn(
                    username=spec.username,
                    password=secrets.token_urlsafe(24),
                    role=spec.role,
                    display_name=spec.display_name,
                    authority_tier=spec.authority_tier,
                    team=spec.team,
                ),
            )
        if spec.login and demo_users:
            set_password(session=session, username=spec.username, password=spec.password or "")
        made += 1
        if user.role == "agent" and user.id is not None:
            agents.append(AgentRef(id=user.id, authority_tier=user.authority_tier))
    return agents, made


def ensure_demo_logins(*, url: str) -> None:
    """The demo logins with the passwords the demo prints, in a world seeded without them."""
    with session_scope(url) as session:
        _ensure_users(session, demo_users=True)
