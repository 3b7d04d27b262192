"""Health endpoints: /healthz says the process is up; /readyz says whether the desk can be served."""

from __future__ import annotations

from dataclasses import replace

from retention_desk import create_app


def test_healthz_answers_ok_without_sign_in(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_is_unavailable_while_no_churn_model_is_loaded(client):
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["database"] == "ok"
    assert body["model"] != "ok"


def test_readyz_reports_an_unreachable_database_without_revealing_it(settings):
    down = replace(settings, database_url="postgresql://secret-user:secret-pw@127.0.0.1:1/nowhere")
    response = create_app(down).test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["database"] == "unreachable"
    assert "secret" not in response.get_data(as_text=True)


def test_readyz_is_ready_with_a_champion_model(world_client):
    response = world_client.get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert body == {**body, "status": "ok", "ok": True, "database": "ok", "model": "ok"}
    assert body["model_version"]


def test_unknown_api_paths_answer_in_json(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_health_endpoints_refuse_other_methods_in_json(client):
    response = client.post("/healthz")
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"
