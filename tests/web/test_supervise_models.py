"""The model page: champions and history with metrics, calibration and strongest features; admins promote and roll
back (audited), supervisors only look, agents are refused."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from retention_desk.config import Settings
from retention_desk.ml import registry
from retention_desk.ml.registry import save_model_version
from retention_desk.ml.train import train_churn_pipeline
from retention_desk.services.audit import list_events, record_event
from retention_desk.services.models.nightly import NIGHTLY_ACTION, TrainingError, run_nightly
from retention_desk.storage.model_versions import CHALLENGER, CHAMPION, get_version
from tests.small_models import contract_driven_rows
from tests.web.sign_in_helpers import add_user, csrf_token, log_in


@pytest.fixture(autouse=True)
def fresh_serving_cache():
    registry.clear_serving_cache()
    yield
    registry.clear_serving_cache()


def _save(session: Session, settings: Settings, seed: int, status: str) -> str:
    trained = train_churn_pipeline(*contract_driven_rows(seed), estimator="logistic")
    row = save_model_version(session=session, settings=settings, trained=trained, status=status, label_horizon_days=90)
    session.commit()
    return row.version


@pytest.fixture()
def three_versions(session: Session, settings: Settings) -> dict[str, str]:
    """A retired first champion, the serving champion, and a challenger the last run kept."""
    first = _save(session, settings, 1, CHAMPION)
    second = _save(session, settings, 2, CHAMPION)
    third = _save(session, settings, 3, CHALLENGER)
    return {"retired": first, "champion": second, "challenger": third}


def _promote(client, version: str, action: str = "promote"):
    token = csrf_token(client, "/supervise/models")
    return client.post(f"/supervise/models/{version}/promote", data={"csrf_token": token, "action": action})


def test_an_agent_is_refused_the_page_and_the_buttons(client, session, three_versions):
    add_user(session, "anna", "agent")
    log_in(client, "anna")
    assert client.get("/supervise/models").status_code == 403
    token = csrf_token(client, "/desk")
    response = client.post(f"/supervise/models/{three_versions['challenger']}/promote", data={"csrf_token": token})
    assert response.status_code == 403


def test_a_supervisor_sees_the_health_but_no_buttons_and_may_not_promote(client, session, three_versions):
    add_user(session, "siri", "supervisor")
    log_in(client, "siri")
    html = client.get("/supervise/models").get_data(as_text=True)
    assert all(version in html for version in three_versions.values())
    assert f"Champion: {three_versions['champion']}" in html
    assert "Promote</button>" not in html and "Roll back to this</button>" not in html
    assert _promote(client, three_versions["challenger"]).status_code == 403
    assert get_version(session, three_versions["challenger"]).status == CHALLENGER


def test_the_page_shows_metrics_calibration_features_and_the_last_run(client, session, three_versions):
    add_user(session, "siri", "supervisor")
    log_in(client, "siri")
    html = client.get("/supervise/models").get_data(as_text=True)
    assert 'id="chart-calibration"' in html and '<title id="chart-calibration-title">' in html
    assert 'id="calibration-table"' in html
    # The logistic model's strongest feature in this data is the contract type.
    features = html.split('id="features-table"', 1)[1].split("</table>", 1)[0]
    assert "contract_type = " in features
    assert "kept as a challenger" in html  # the newest version is the challenger the last run kept
    row = get_version(session, three_versions["champion"])
    assert f"{row.metrics['roc_auc']:.3f}" in html and f"{row.metrics['log_loss']:.3f}" in html


def test_a_champion_without_reliability_bins_gets_a_table_and_a_reason(client, session, three_versions):
    row = get_version(session, three_versions["champion"])
    row.metrics = {k: v for k, v in row.metrics.items() if k != "reliability"}
    session.add(row)
    session.commit()
    add_user(session, "siri", "supervisor")
    log_in(client, "siri")
    html = client.get("/supervise/models").get_data(as_text=True)
    assert 'id="no-calibration"' in html and 'id="chart-calibration"' not in html


def test_an_admin_promotes_a_challenger_and_it_is_audited(client, session, three_versions):
    add_user(session, "ada", "admin")
    log_in(client, "ada")
    html = client.get("/supervise/models").get_data(as_text=True)
    assert html.count("Promote</button>") == 1 and html.count("Roll back to this</button>") == 1

    response = _promote(client, three_versions["challenger"])

    assert response.status_code == 303
    session.expire_all()
    assert get_version(session, three_versions["challenger"]).status == CHAMPION
    assert get_version(session, three_versions["champion"]).status == "retired"
    event = list_events(session=session, action="model_promoted")[0]
    assert (event.actor_name, event.entity_id) == ("ada", three_versions["challenger"])
    assert "is now the champion" in client.get("/supervise/models").get_data(as_text=True)


def test_an_admin_rolls_back_to_an_earlier_champion(client, session, three_versions):
    add_user(session, "ada", "admin")
    log_in(client, "ada")

    response = _promote(client, three_versions["retired"], action="rollback")

    assert response.status_code == 303
    session.expire_all()
    assert get_version(session, three_versions["retired"]).status == CHAMPION
    event = list_events(session=session, action="model_promoted")[0]
    assert event.before == {"status": "retired", "champion": [three_versions["champion"]]}
    html = client.get("/supervise/models").get_data(as_text=True)
    assert "Rolled back to model" in html
    assert three_versions["retired"] in html.split('id="model-events"', 1)[1]


def test_promoting_an_unknown_version_is_refused_with_the_reason(client, session, three_versions):
    add_user(session, "ada", "admin")
    log_in(client, "ada")
    response = _promote(client, "no-such-version")
    assert response.status_code == 422 and "There is no model version" in response.get_data(as_text=True)


def test_an_empty_registry_renders(client, session):
    add_user(session, "siri", "supervisor")
    log_in(client, "siri")
    html = client.get("/supervise/models").get_data(as_text=True)
    assert "There is no churn champion" in html and "No model has been trained yet." in html


def test_a_failed_nightly_run_is_on_the_page_with_its_reason(client, session, settings):
    with pytest.raises(TrainingError) as failure:
        run_nightly(settings=settings)
    add_user(session, "siri", "supervisor")
    log_in(client, "siri")
    html = client.get("/supervise/models").get_data(as_text=True)
    last = html.split('id="last-nightly"', 1)[1].split("</p>", 1)[0]
    assert "the run failed" in last and str(failure.value).split(";")[0][:40] in last


def test_a_finished_nightly_run_shows_what_each_model_did(client, session):
    after = {
        "outcome": "finished",
        "churn": {"decision": "kept", "reason": "its log loss is worse.", "version": "20261126-0200-aaaaaa"},
        "offer_model": {"decision": "kept_priors", "reason": "only 12 logged decisions.", "version": None},
    }
    record_event(
        session=session, action=NIGHTLY_ACTION, actor_name="nightly job", entity_type=NIGHTLY_ACTION, after=after
    )
    session.commit()
    add_user(session, "siri", "supervisor")
    log_in(client, "siri")
    html = client.get("/supervise/models").get_data(as_text=True)
    last = html.split('id="last-nightly"', 1)[1].split("</div>", 1)[0]
    assert "the run finished" in last
    assert "kept the champion" in last and "20261126-0200-aaaaaa" in last and "its log loss is worse." in last
    assert "kept the catalog's priors" in last and "only 12 logged decisions." in last


def test_before_the_first_nightly_run_the_page_says_so(client, session):
    add_user(session, "siri", "supervisor")
    log_in(client, "siri")
    assert "The nightly job has not run yet" in client.get("/supervise/models").get_data(as_text=True)
