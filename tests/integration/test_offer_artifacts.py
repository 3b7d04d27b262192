"""Offer-model artifacts in the registry: a current one serves as fitted; one stored in an older layout, or one whose
classes no longer load, is refused with a note to retrain, and the desk ranks on the catalog priors."""

from __future__ import annotations

import pickle
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session

from retention_desk.config import Settings
from retention_desk.ml import registry
from retention_desk.ml.offer_fit import fit_offer_model
from retention_desk.ml.offer_model import ARTIFACT_FORMAT, DESCRIPTIONS, OfferResponseModel, prior_offer_model
from retention_desk.ml.registry import OFFER_KIND, artifact_path, load_serving_model, register, sha256_of
from retention_desk.services.models.offer_predictions import offer_model_status, predict_offers
from retention_desk.services.models.registry import list_model_versions
from retention_desk.storage.model_versions import CHAMPION
from retention_desk.storage.tables import ModelVersion
from tests.unit.test_offer_model import KINDS, A, B, _planted, _row

CALLED = datetime(2026, 3, 2, 10, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fresh_serving_cache():
    registry.clear_serving_cache()
    yield
    registry.clear_serving_cache()


@pytest.fixture(scope="module")
def fitted() -> OfferResponseModel:
    rows, reasons, actions, props, stayed = _planted(n=2000)
    return fit_offer_model(rows=rows, reasons=reasons, actions=actions, propensities=props, stayed=stayed, kinds=KINDS)


def _register(session: Session, settings: Settings, model: OfferResponseModel) -> ModelVersion:
    row = register(
        OFFER_KIND,
        session=session,
        settings=settings,
        artifact=model,
        status=CHAMPION,
        estimator=model.description,
        metrics={"snips": 1.0, "log_loss": 0.5},
        numeric=model.numeric,
        categorical=model.categorical,
        rows_train=1600,
        rows_holdout=400,
        data_window=(CALLED - timedelta(days=60), CALLED),
        train_window=(CALLED - timedelta(days=60), CALLED - timedelta(days=12)),
        holdout_window=(CALLED - timedelta(days=12), CALLED),
        label_horizon_days=90,
        details={"model": model.info},
    )
    session.commit()
    return row


def _replace_bytes(session: Session, settings: Settings, row: ModelVersion, data: bytes) -> None:
    """Both copies of the artifact become ``data``, recorded under its own sha256: only the layout is at issue."""
    artifact_path(settings, row.version, OFFER_KIND).write_bytes(data)
    row.artifact, row.sha256 = data, sha256_of(data)
    session.add(row)
    session.commit()


def _predict(session: Session, settings: Settings):
    probe = [_row(random.Random(i)) for i in range(5)]
    return predict_offers(session=session, settings=settings, rows=probe, reasons=["price"] * 5, offers=[A, B])


def test_a_registered_offer_model_records_its_format_and_what_it_is_and_serves_as_fitted(
    session: Session, settings: Settings, fitted: OfferResponseModel
):
    row = _register(session, settings, fitted)
    assert row.metrics["artifact_format"] == ARTIFACT_FORMAT and row.metrics["model"]["estimator"] == "direct"
    assert row.estimator == fitted.description and "prior acceptance" in row.estimator
    assert row.metrics["training_window"]["first_call"] and row.data_window_end is not None

    predictions, version = _predict(session, settings)

    assert version == row.version
    probe = [_row(random.Random(i)) for i in range(5)]
    assert predictions == fitted.predict(probe, ["price"] * 5, [A, B])


def test_an_offer_model_stored_before_artifact_formats_is_refused_unread_and_the_desk_ranks_on_the_priors(
    session: Session, settings: Settings, fitted: OfferResponseModel, tmp_path: Path
):
    row = _register(session, settings, fitted)
    marker = tmp_path / "unpickled"
    _replace_bytes(session, settings, row, pickle.dumps(_Booby(marker)))
    row.metrics = {k: v for k, v in row.metrics.items() if k != "artifact_format"}  # as every row before format 2
    session.add(row)
    session.commit()

    predictions, version = _predict(session, settings)

    assert not marker.exists()  # refused on its record, before its bytes were unpickled
    assert version is None
    probe = [_row(random.Random(i)) for i in range(5)]
    assert predictions == prior_offer_model().predict(probe, ["price"] * 5, [A, B])
    status = offer_model_status(session=session, settings=settings)
    assert status.version is None and row.version in status.message and "retrain" in status.message
    (listed,) = list_model_versions(settings=settings, kind=OFFER_KIND)
    assert listed.refused and "format 1" in listed.refused


def test_an_offer_artifact_whose_classes_no_longer_load_is_refused_not_raised(
    session: Session, settings: Settings, fitted: OfferResponseModel
):
    row = _register(session, settings, fitted)
    # What an artifact of the earlier layout unpickles to: a class this code no longer has.
    _replace_bytes(session, settings, row, b"cretention_desk.ml.offer_model\n_Linear\n.")

    outcome = load_serving_model(session=session, settings=settings, kind=OFFER_KIND)
    predictions, version = _predict(session, settings)

    assert outcome.model is None and any("retrain" in note and row.version in note for note in outcome.notes)
    assert version is None and len(predictions) == 5
    assert "retrain" in offer_model_status(session=session, settings=settings).message


def test_every_description_of_an_offer_model_fits_the_registry_s_estimator_column():
    width = ModelVersion.__table__.c.estimator.type.length
    assert all(len(text) <= width for text in DESCRIPTIONS.values())


class _Booby:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))
