"""Two subscribers with everything the desk stores about a person: contact details, personal import extras, services,
bills, tickets, offers, calls with notes, an approval decided with a note, and the audit rows of people opening them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import update
from sqlmodel import Session

from retention_desk.services.audit import Viewer, record_account_view
from retention_desk.services.calls.approvals import decide
from retention_desk.storage.tables import Account, AccountService, Bill, Call, OfferHistory, Ticket, User
from tests.web.sign_in_helpers import add_account
from tests.web.supervise_helpers import add_call, add_person, add_request, seed_catalog

# What the first subscriber's erasure must remove, wherever it was written.
OLA = {
    "name": "Ola",
    "surname": "Nordmann",
    "phone": "+4791234567",
    "email": "ola.nordmann@example.no",
    "address": "Storgata 1",
    "postcode": "0155",
    "city": "Lillehammer",
    "birth_year": 1961,
    "extra_name": "Ola Fjellstue",
    "extra_phone": "+47 22 33 44 55",
    "note": "Ola says his wife Randi is moving to Storgata 1",
    "ticket": "Fibre box at Storgata 1 reset for Ola",
    "approval": "Randi called about it too",
}
KARI_NOTE = "Kari-only note about the neighbour"
EXTRA = {
    "customer_name": OLA["extra_name"],  # personal: a name
    "home_phone": OLA["extra_phone"],  # personal: a contact
    "date_of_birth": "1961-04-02",  # personal: birth
    "_protected": {"gender": "male"},  # marked protected by the mapping
    "phone_service": True,  # a product: kept, the model reads it
    "total_charges": 18250.5,  # kept
}
WHEN = datetime(2026, 3, 2, 10, tzinfo=UTC)


def subject_world(session: Session) -> dict[str, int]:
    """Two subscribers on a logged desk; returns the ids the tests need."""
    seed_catalog(session)
    ids = {
        "siri": add_person(session, "siri", "supervisor", "Desk Oslo", 2),
        "anna": add_person(session, "anna", "agent", "Desk Oslo"),
        "ola": add_account(session, "A-1", OLA["name"], OLA["surname"], OLA["phone"], OLA["email"]),
        "kari": add_account(session, "A-2", "Kari", "Lie", "+4798765432", "kari@example.no"),
    }
    session.execute(
        update(Account)
        .where(Account.id == ids["ola"])
        .values(
            address=OLA["address"],
            postcode=OLA["postcode"],
            city=OLA["city"],
            region="Innlandet",
            birth_year=OLA["birth_year"],
            extra=EXTRA,
        )
    )
    ola = ids["ola"]
    session.add(AccountService(account_id=ola, kind="broadband", code="BB300", name="Fibre 300", monthly_price=499))
    session.add(
        Bill(account_id=ola, period_start=date(2026, 2, 1), amount=Decimal("799.00"), paid_on=date(2026, 2, 20))
    )
    session.add(Ticket(account_id=ola, kind="outage", opened_at=WHEN, duration_hours=4.5, summary=OLA["ticket"]))
    session.commit()
    ids["call1"] = add_call(session, account_id=ola, agent_id=ids["anna"], started=WHEN, notes=OLA["note"])
    ids["call2"] = add_call(session, account_id=ids["kari"], agent_id=ids["anna"], started=WHEN, notes=KARI_NOTE)
    _log_personal_reason(session, ids["call1"])
    session.add(
        OfferHistory(
            account_id=ola,
            offer_code="DISC10",
            offer_kind="percent_discount",
            offered_at=WHEN,
            response="accepted",
            cost=Decimal("420.00"),
            call_id=ids["call1"],
        )
    )
    session.commit()
    ids["request"] = add_request(session, account_id=ola, agent_id=ids["anna"], call_id=ids["call1"])
    siri = session.get(User, ids["siri"])
    decide(session=session, approver=siri, request_id=ids["request"], approve=True, note=OLA["approval"])
    for username, user_id in (("anna", ids["anna"]), ("siri", ids["siri"])):
        viewer = Viewer(user_id=user_id, username=username, route=f"GET /desk/accounts/{ola}", ip="10.0.0.7")
        record_account_view(session=session, account_id=ola, viewer=viewer)
    kari_viewer = Viewer(user_id=ids["anna"], username="anna", route=f"GET /desk/accounts/{ids['kari']}")
    record_account_view(session=session, account_id=ids["kari"], viewer=kari_viewer)
    session.commit()
    return ids


def _log_personal_reason(session: Session, call_id: int) -> None:
    """A call that logged a risk reason from a personal extra (a mapping kept a name column as a feature)."""
    call = session.get(Call, call_id)
    personal = {"feature": "x_customer_name", "code": "extra", "params": {}, "value": OLA["extra_name"], "delta": 0.01}
    call.reasons = [*call.reasons, personal]
    session.commit()
