"""A small logged desk for the supervisor console's tests: the seed catalog, users, accounts and calls."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlmodel import Session

from retention_desk.services.catalog.files import load_cancel_reasons, load_offers
from retention_desk.services.catalog.store import upsert_cancel_reasons, upsert_offers
from retention_desk.services.staff.users import UserIn, create_user
from retention_desk.storage.tables import ApprovalRequest, Call, CallOffer, OfferBudgetMonth
from tests.web.sign_in_helpers import PASSWORD, add_account

SUPERVISOR_PAGES = [
    ("get", "/supervise/calls"),
    ("get", "/supervise/calls.csv"),
    ("get", "/supervise/calls/1"),
    ("get", "/supervise/catalog"),
    ("get", "/supervise/catalog/new"),
    ("post", "/supervise/catalog/new"),
    ("get", "/supervise/catalog/DISC10"),
    ("post", "/supervise/catalog/DISC10"),
    ("post", "/supervise/catalog/DISC10/retire"),
    ("get", "/supervise/approvals"),
    ("post", "/supervise/approvals/1"),
]


def seed_catalog(session: Session) -> None:
    upsert_offers(session=session, offers=load_offers())
    upsert_cancel_reasons(session=session, reasons=load_cancel_reasons())
    session.commit()


def add_person(session: Session, username: str, role: str, team: str | None = None, tier: int = 1) -> int:
    user = create_user(
        session=session,
        user_in=UserIn(
            username=username,
            password=PASSWORD,
            role=role,
            display_name=username.title(),
            team=team,
            authority_tier=tier,
        ),
    )
    session.commit()
    return user.id or 0


def add_call(
    session: Session,
    *,
    account_id: int,
    agent_id: int,
    started: datetime,
    reason: str = "price",
    band: str = "high",
    disposition: str | None = "saved_with_offer",
    presented: tuple[tuple[str, str | None], ...] = (("DISC10", "accepted"),),
    notes: str = "",
) -> int:
    ranked = [
        {
            "offer_code": "DISC10",
            "rank": 1,
            "p_stay": 0.71,
            "p_accept": 0.4,
            "expected_cost": 420.0,
            "expected_value": 812.5,
            "propensity": 0.9,
            "needs_approval": False,
        },
        {
            "offer_code": "DISC30",
            "rank": 2,
            "p_stay": 0.74,
            "p_accept": 0.45,
            "expected_cost": 3240.0,
            "expected_value": -120.0,
            "propensity": 0.05,
            "needs_approval": True,
        },
        {
            "offer_code": None,
            "rank": 3,
            "p_stay": 0.6,
            "p_accept": 0.0,
            "expected_cost": 0.0,
            "expected_value": 0.0,
            "propensity": 0.05,
            "needs_approval": False,
        },
    ]
    saved_by = next((code for code, response in presented if response == "accepted"), None)
    call = Call(
        idempotency_key=f"k-{account_id}-{started.isoformat()}",
        account_id=account_id,
        agent_id=agent_id,
        started_at=started,
        cancel_requested_at=started,
        cancel_reason=reason,
        risk_score={"high": 0.72, "medium": 0.4, "low": 0.1}[band],
        risk_band=band,
        risk_model_version="churn-test-1",
        offer_model_version="offer-test-1",
        customer_value=5200.0,
        reasons=[
            {"feature": "outages_90d", "code": "outages", "params": {"num": 3, "days": 90}, "value": 3, "delta": 0.12},
            {"feature": "tenure_months", "code": "tenure_years", "params": {"num": 4}, "value": 50, "delta": -0.05},
        ],
        ranked=ranked,
        disposition=disposition,
        disposition_at=started if disposition else None,
        offer_code=saved_by if disposition == "saved_with_offer" else None,
        notes=notes,
        ended_at=started if disposition else None,
    )
    session.add(call)
    session.flush()
    for code, response in presented:
        item = next(i for i in ranked if i["offer_code"] == code)
        session.add(
            CallOffer(
                call_id=call.id,
                offer_code=code,
                rank=item["rank"],
                propensity=item["propensity"],
                p_stay=item["p_stay"],
                expected_value=item["expected_value"],
                presented_at=started,
                response=response,
                responded_at=started if response else None,
            )
        )
    session.commit()
    return call.id or 0


def logged_desk(session: Session) -> dict[str, int]:
    """Two teams, three calls on different days, reasons, bands and outcomes."""
    seed_catalog(session)
    ids = {
        "siri": add_person(session, "siri", "supervisor", "Desk Oslo", 2),
        "anna": add_person(session, "anna", "agent", "Desk Oslo"),
        "bo": add_person(session, "bo", "agent", "Desk Bergen"),
        "acc1": add_account(session, "A-1", "Ola", "Hansen"),
        "acc2": add_account(session, "A-2", "Kari", "Lie"),
    }
    ids["call1"] = add_call(
        session, account_id=ids["acc1"], agent_id=ids["anna"], started=datetime(2026, 3, 2, 10, tzinfo=UTC)
    )
    ids["call2"] = add_call(
        session,
        account_id=ids["acc2"],
        agent_id=ids["bo"],
        started=datetime(2026, 3, 5, 11, tzinfo=UTC),
        reason="moving",
        band="low",
        disposition="cancelled",
        presented=(("DISC10", "declined"),),
        notes='=HYPERLINK("x")',
    )
    ids["call3"] = add_call(
        session,
        account_id=ids["acc1"],
        agent_id=ids["anna"],
        started=datetime(2026, 3, 9, 9, tzinfo=UTC),
        reason="service_quality",
        band="medium",
        disposition=None,
        presented=(),
    )
    return ids


def add_request(session: Session, *, account_id: int, agent_id: int, call_id: int | None, offer: str = "DISC30") -> int:
    request = ApprovalRequest(
        account_id=account_id,
        call_id=call_id,
        offer_code=offer,
        requested_by=agent_id,
        requested_at=datetime.now(UTC),
    )
    session.add(request)
    session.commit()
    return request.id or 0


def spend(session: Session, offer: str, month: datetime, amount: str, accepted: int) -> None:
    session.add(
        OfferBudgetMonth(offer_code=offer, month=month.date().replace(day=1), spent=Decimal(amount), accepted=accepted)
    )
    session.commit()
