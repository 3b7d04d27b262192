"""Catalog changes leave an audit trail: who, when, before and after."""

from dataclasses import replace
from decimal import Decimal

from sqlmodel import Session

from retention_desk.services.audit import list_events
from retention_desk.services.catalog.files import load_offers
from retention_desk.services.catalog.store import upsert_offers


def test_loading_the_catalog_records_each_new_offer(session: Session) -> None:
    offers = load_offers()
    upsert_offers(session=session, offers=offers)
    session.commit()
    created = list_events(session=session, action="offer_created", limit=500)
    assert {e.entity_id for e in created} == {o.code for o in offers}


def test_an_unchanged_catalog_writes_no_audit_rows_and_a_change_writes_before_and_after(session: Session) -> None:
    offers = load_offers()
    upsert_offers(session=session, offers=offers)
    upsert_offers(session=session, offers=offers)
    session.commit()
    assert list_events(session=session, action="offer_updated") == []

    first = offers[0]
    dearer = replace(first, cost_amount=first.cost_amount + Decimal("10"))
    upsert_offers(session=session, offers=[dearer], actor_name="kari")
    session.commit()
    [event] = list_events(session=session, action="offer_updated")
    assert event.entity_id == first.code and event.actor_name == "kari"
    assert event.before == {"cost_amount": str(first.cost_amount)}
    assert event.after == {"cost_amount": str(dearer.cost_amount)}
