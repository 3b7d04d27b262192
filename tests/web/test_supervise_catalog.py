"""The catalog editor: spending against caps, create, edit and retire with the catalog's validation, all audited."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from html import unescape

import pytest
from sqlalchemy import select

from retention_desk.services.catalog.editor import form_values
from retention_desk.storage.tables import AuditEvent, Offer
from tests.web.sign_in_helpers import csrf_token, log_in
from tests.web.supervise_helpers import add_person, seed_catalog, spend


@pytest.fixture()
def siri(client, session):
    seed_catalog(session)
    add_person(session, "siri", "supervisor", "Desk Oslo", 2)
    log_in(client, "siri")
    return client


def _offer(session, code: str) -> Offer:
    session.expire_all()
    return session.execute(select(Offer).where(Offer.code == code)).scalar_one()


def _form(session, code: str, **changes: str) -> dict[str, str]:
    values = form_values(_offer(session, code))
    for name, value in list(values.items()):
        if name == "rules.contract_types":
            del values[name]
            for ct in filter(None, (v.strip() for v in value.split(","))):
                values[f"rules.contract_types.{ct}"] = "yes"
    return {**values, **changes}


def _events(session, code: str) -> list[AuditEvent]:
    session.expire_all()
    stmt = select(AuditEvent).where(AuditEvent.entity_id == code).order_by(AuditEvent.id)
    return list(session.execute(stmt).scalars())


def test_the_catalog_shows_this_months_spending_against_each_cap(siri, session):
    spend(session, "DISC20", datetime.now(UTC), "125000.00", 3)
    html = siri.get("/supervise/catalog").get_data(as_text=True)
    row = html.split('data-offer="DISC20"')[1].split("</tr>")[0]
    assert "125,000.00" in row and "250,000.00" in row and "50%" in row
    assert "no cap" in html.split('data-offer="DISC10"')[1].split("</tr>")[0]


def test_editing_an_offer_saves_the_changed_fields_and_audits_before_and_after(siri, session):
    token = csrf_token(siri, "/supervise/catalog/DISC10")
    form = _form(session, "DISC10", cost_amount="75", **{"rules.min_tenure_months": "3", "csrf_token": token})
    response = siri.post("/supervise/catalog/DISC10", data=form)
    assert response.status_code == 303
    offer = _offer(session, "DISC10")
    assert offer.cost_amount == Decimal("75.00") and offer.rules["min_tenure_months"] == 3
    event = _events(session, "DISC10")[-1]
    assert (event.action, event.actor_name) == ("offer_updated", "siri") and event.actor_id is not None
    assert event.before == {"cost_amount": "70.00", "rules": {"min_monthly_charge": 300}}
    assert event.after["cost_amount"] == "75.00"
    page = siri.get("/supervise/catalog/DISC10").get_data(as_text=True)
    assert 'id="offer-audit"' in page and "offer_updated" in page and "70.00" in page and "75.00" in page


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"name": ""}, "name", "field 'name'"),
        ({"cost_amount": "lots"}, "cost_amount", "field 'cost_amount' must be a number"),
        ({"authority_tier": "7"}, "authority_tier", "field 'authority_tier'"),
        ({"params": "percent = 400"}, "params", "field 'params.percent'"),
        ({"params": "percent = "}, "params", "field 'params'"),
        ({"valid_from": "2026-05-01", "valid_to": "2026-04-01"}, "valid_to", "is before valid_from"),
        ({"rules.min_tenure_months": "24", "rules.max_tenure_months": "6"}, "rules.min_tenure_months", "is above"),
        ({"rules.exclude_if_has": "sofa"}, "rules.exclude_if_has", "field 'rules.exclude_if_has'"),
        ({"prior_acceptance": "1.5"}, "prior_acceptance", "from 0 to 1"),
    ],
)
def test_a_bad_value_names_its_field_and_stores_nothing(siri, session, changes, field, words):
    before = _offer(session, "DISC10").model_dump()
    audited = len(_events(session, "DISC10"))
    token = csrf_token(siri, "/supervise/catalog/DISC10")
    response = siri.post("/supervise/catalog/DISC10", data=_form(session, "DISC10", csrf_token=token, **changes))
    assert response.status_code == 400
    html = unescape(response.get_data(as_text=True))
    assert words in html
    field_id = "o-" + field.replace(".", "-")
    assert f'id="{field_id}-error"' in html or (field == "params" and "o-params-error" in html)
    assert _offer(session, "DISC10").model_dump() == before
    assert len(_events(session, "DISC10")) == audited


def test_a_stale_form_does_not_overwrite_a_newer_save(siri, session):
    token = csrf_token(siri, "/supervise/catalog/DISC10")
    stale = _form(session, "DISC10", csrf_token=token, version="2000-01-01T00:00:00+00:00", name="Old idea")
    response = siri.post("/supervise/catalog/DISC10", data=stale)
    assert response.status_code == 400 and "someone else saved it" in response.get_data(as_text=True)
    assert _offer(session, "DISC10").name != "Old idea"


def test_a_new_offer_is_created_with_its_rules_and_audited(siri, session):
    token = csrf_token(siri, "/supervise/catalog/new")
    form = {
        "csrf_token": token,
        "code": "WINTER15",
        "name": "15% off this winter",
        "kind": "percent_discount",
        "params": "percent = 15",
        "duration_months": "3",
        "cost_model": "monthly",
        "cost_amount": "90.50",
        "authority_tier": "1",
        "monthly_budget": "10000",
        "prior_acceptance": "0.2",
        "rules.contract_types.month_to_month": "yes",
        "rules.regions": "Oslo, Viken",
        "active": "yes",
    }
    response = siri.post("/supervise/catalog/new", data=form)
    assert response.status_code == 303 and response.headers["Location"].endswith("/supervise/catalog/WINTER15")
    offer = _offer(session, "WINTER15")
    assert offer.rules == {"contract_types": ["month_to_month"], "regions": ["Oslo", "Viken"]}
    assert (offer.params, offer.cost_amount, offer.active) == ({"percent": 15}, Decimal("90.50"), True)
    assert [e.action for e in _events(session, "WINTER15")] == ["offer_created"]
    again = siri.post("/supervise/catalog/new", data=form)
    assert again.status_code == 400 and "already used" in again.get_data(as_text=True)


def test_a_new_offer_with_a_bad_code_is_refused(siri, session):
    token = csrf_token(siri, "/supervise/catalog/new")
    response = siri.post(
        "/supervise/catalog/new",
        data={"csrf_token": token, "code": "x", "name": "n", "kind": "bill_credit", "cost_model": "one_off"},
    )
    assert response.status_code == 400 and "field 'code'" in unescape(response.get_data(as_text=True))
    session.expire_all()
    assert session.execute(select(Offer).where(Offer.code == "X")).first() is None


def test_retiring_an_offer_takes_it_off_the_desk_and_is_audited(siri, session):
    token = csrf_token(siri, "/supervise/catalog/CREDIT300")
    assert siri.post("/supervise/catalog/CREDIT300/retire", data={"csrf_token": token}).status_code == 303
    offer = _offer(session, "CREDIT300")
    assert offer.active is False and offer.retired_at is not None
    event = _events(session, "CREDIT300")[-1]
    assert (event.action, event.before["active"], event.after["active"]) == ("offer_retired", True, False)
    again = siri.post("/supervise/catalog/CREDIT300/retire", data={"csrf_token": token})
    assert again.status_code == 400 and "already retired" in again.get_data(as_text=True)
    form = _form(session, "CREDIT300", csrf_token=token, active="yes")
    form["version"] = offer.updated_at.isoformat()
    assert siri.post("/supervise/catalog/CREDIT300", data=form).status_code == 303
    assert _offer(session, "CREDIT300").retired_at is None
    assert _events(session, "CREDIT300")[-1].action == "offer_reinstated"


def test_an_unknown_offer_is_404_and_a_post_without_csrf_is_refused(siri, session):
    assert siri.get("/supervise/catalog/NOPE").status_code == 404
    assert siri.post("/supervise/catalog/DISC10", data=_form(session, "DISC10")).status_code == 400
    assert _events(session, "DISC10")[-1].action == "offer_created"
