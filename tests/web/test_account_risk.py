"""The account page shows the caller's churn risk with its reasons, and says so plainly when no model can score."""

from __future__ import annotations

import re

from sqlmodel import Session, select

from retention_desk.ml import registry
from retention_desk.ml.registry import save_model_version
from retention_desk.ml.train import train_churn_pipeline
from retention_desk.storage.db import get_engine
from retention_desk.storage.model_versions import CHAMPION
from retention_desk.storage.tables import Account, ModelVersion
from tests.small_models import contract_driven_rows
from tests.web.sign_in_helpers import add_account, add_user, log_in


def _active_account_ids(url: str, n: int) -> list[int]:
    with Session(get_engine(url)) as session:
        rows = session.execute(select(Account.id).where(Account.status == "active").order_by(Account.id)).scalars()
        return list(rows)[:n]


def test_the_account_page_shows_the_risk_band_reasons_and_model_version(world_client, world_settings):
    log_in(world_client, "agent", "agent-demo-1")
    pages = [
        world_client.get(f"/desk/accounts/{i}").get_data(as_text=True)
        for i in _active_account_ids(world_settings.database_url, 5)
    ]
    for page in pages:
        panel = page.split('id="risk-and-offers"', 1)[1]
        assert 'role="alert"' not in panel
        assert "Risk of leaving within 90 days" in panel
        assert re.search(r'class="risk-value">\d{1,3}%<', panel)
        assert re.search(r"(High|Medium|Low) risk", panel)
        assert "Model 2" in panel  # versions are dated, e.g. 20261126-...
    # Across a handful of callers, the model gives reasons both ways.
    assert any('class="reasons-up"' in page for page in pages)
    assert any('class="reasons-down"' in page for page in pages)


def test_without_a_trained_model_the_page_warns_and_still_shows_the_account(client, session):
    add_user(session, "anna")
    account_id = add_account(session, "200001", "Kari", "Nordmann", "912 34 567")
    log_in(client, "anna")
    response = client.get(f"/desk/accounts/{account_id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'role="alert"' in page
    assert "No risk score is available." in page
    assert "No churn model has been trained yet" in page
    assert "Kari Nordmann" in page and "Plan and contract" in page


def _save_small_model(session, settings, seed: int) -> ModelVersion:
    trained = train_churn_pipeline(*contract_driven_rows(seed), estimator="logistic")
    row = save_model_version(
        session=session, settings=settings, trained=trained, status=CHAMPION, label_horizon_days=90
    )
    session.commit()
    return row


def test_when_the_champion_is_refused_the_page_says_an_earlier_model_is_scoring(client, session, settings):
    registry.clear_serving_cache()
    older = _save_small_model(session, settings, seed=1)
    newer = _save_small_model(session, settings, seed=2)
    newer.sklearn_version = "0.24.2"  # as if written by another scikit-learn: refused
    session.add(newer)
    session.commit()
    add_user(session, "anna")
    account_id = add_account(session, "200002", "Ola", "Nordmark")
    log_in(client, "anna")

    page = client.get(f"/desk/accounts/{account_id}").get_data(as_text=True)

    assert 'role="alert"' in page and "An earlier model is standing in." in page
    assert newer.version in page and "0.24.2" in page
    assert f"Model {older.version}" in page and 'class="risk-value"' in page
    registry.clear_serving_cache()
