"""The nightly offer-model job on the seeded world: it trains, registers kind offer_response, serves only verified
artifacts, and keeps the catalog priors when there is too little data or nothing verifies."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, update
from sqlmodel import Session

from retention_desk.config import Settings
from retention_desk.ml import registry
from retention_desk.ml.offer_data import load_offer_data
from retention_desk.ml.registry import OFFER_KIND, artifact_path, serving_model
from retention_desk.services.catalog.store import offers_in_database
from retention_desk.services.models.offer_predictions import offer_model_status, predict_offers
from retention_desk.services.models.offer_training import retrain_offer_model
from retention_desk.services.models.registry import list_model_versions, promote_model
from retention_desk.storage.db import get_engine, session_scope
from retention_desk.storage.tables import ModelVersion
from retention_desk.storage.training_data import plan_training_set


@pytest.fixture()
def offer_world(world_settings: Settings) -> Iterator[Settings]:
    """The shared world, with every offer model this test adds removed afterwards."""
    registry.clear_serving_cache()
    yield world_settings
    with session_scope(world_settings.database_url) as session:
        session.execute(delete(ModelVersion).where(ModelVersion.kind == OFFER_KIND))
    for path in world_settings.model_dir.glob(f"{OFFER_KIND}-*"):
        path.unlink()
    registry.clear_serving_cache()


class Booby:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def _predict(settings: Settings):
    with Session(get_engine(settings.database_url)) as session:
        offers = [o for o in offers_in_database(session=session) if o.active]
        rows = [{"monthly_charge": 600.0, "tenure_months": 30.0, "contract_type": "month_to_month"}] * 3
        return predict_offers(
            session=session, settings=settings, rows=rows, reasons=["price", None, "moving"], offers=offers
        ), offers


def test_logged_decisions_are_read_with_their_propensities_and_labels(world_settings: Settings):
    with session_scope(world_settings.database_url) as session:
        plan = plan_training_set(session)
        data = load_offer_data(session, plan)
    assert data.decisions and data.presentations
    assert all(0 < e.propensity <= 1 and e.action in e.choices for e in data.decisions)
    assert all(sum(e.choices.values()) == pytest.approx(1.0, abs=1e-6) for e in data.decisions)
    assert [e.as_of for e in data.decisions] == sorted(e.as_of for e in data.decisions)
    assert data.too_recent > 0  # calls younger than the horizon wait for their label
    # ... but how they ended is read at once: a stay or a cancellation when nothing was accepted
    endings = {e.stayed_at_call for e in [*data.recent, *data.decisions]}
    assert endings == {True, False, None}
    assert all(e.stayed_at_call is None for e in data.decisions if e.accepted_code is not None)


def test_too_few_decisions_keep_the_catalog_priors_and_say_so(offer_world: Settings):
    result = retrain_offer_model(settings=offer_world, min_decisions=10**6)
    assert result.decision == "kept_priors" and "catalog's priors" in result.reason
    (predictions, version), offers = _predict(offer_world)
    assert version is None and len(predictions) == 3 and set(predictions[0].p_stay) == {o.code for o in offers}


def test_the_nightly_job_trains_registers_serves_and_refuses_a_tampered_artifact(offer_world: Settings, tmp_path: Path):
    first = retrain_offer_model(settings=offer_world, min_decisions=100, force=True)
    assert first.decision == "promoted" and first.new_version
    summary = first.summary()
    assert {"snips", "ips", "dr", "ci_low", "ci_high", "effective_n", "log_loss"} <= summary["new"]["metrics"].keys()
    assert summary["champion"]["version"] == "catalog priors"
    assert {"no_offer", "uniform_random"} <= summary["baselines"].keys()
    assert summary["rows"]["train"] + summary["rows"]["holdout"] == summary["rows"]["decisions"]
    assert len(first.describe().splitlines()) == 1

    (predictions, version), _ = _predict(offer_world)
    assert version == first.new_version
    assert 0 < predictions[0].p_stay_none < 1
    listed = {v.version: v for v in list_model_versions(settings=offer_world, kind=OFFER_KIND)}
    assert listed[first.new_version].kind == OFFER_KIND and listed[first.new_version].refused is None
    assert artifact_path(offer_world, first.new_version, OFFER_KIND).name.startswith("offer_response-")

    second = retrain_offer_model(settings=offer_world, min_decisions=100, force=True)
    assert second.champion_version == first.new_version
    marker = tmp_path / "unpickled"
    evil = pickle.dumps(Booby(marker))
    artifact_path(offer_world, second.new_version, OFFER_KIND).write_bytes(evil)
    with session_scope(offer_world.database_url) as session:
        session.execute(update(ModelVersion).where(ModelVersion.version == second.new_version).values(artifact=evil))
    registry.clear_serving_cache()

    (_, version), _ = _predict(offer_world)
    assert version == first.new_version and not marker.exists()
    with Session(get_engine(offer_world.database_url)) as session:
        status = offer_model_status(session=session, settings=offer_world)
        assert status.fell_back and second.new_version in status.message
        # The churn model is untouched by the offer model's registry rows.
        assert serving_model(session=session, settings=offer_world).model.version != first.new_version


def test_promote_works_for_an_offer_model_version(offer_world: Settings):
    first = retrain_offer_model(settings=offer_world, min_decisions=100, force=True)
    second = retrain_offer_model(settings=offer_world, min_decisions=100, force=True)
    outcome = promote_model(settings=offer_world, version=first.new_version)
    assert outcome.retired == [second.new_version]
    registry.clear_serving_cache()
    (_, version), _ = _predict(offer_world)
    assert version == first.new_version


def test_a_dry_run_writes_nothing(offer_world: Settings):
    result = retrain_offer_model(settings=offer_world, min_decisions=100, dry_run=True)
    assert result.decision == "dry_run" and result.new_version is None and result.new_metrics
    assert list_model_versions(settings=offer_world, kind=OFFER_KIND) == []
