"""Churn risk for the desk: the serving model's probability that a caller leaves, and a band for the screen.

Bands (on P(churn within the label horizon, typically 90 days)): low below 0.25, medium from 0.25 to below
0.50, high from 0.50. They are fixed cut points on a calibrated probability, so "high" means "more likely
than not to leave", whatever the current model version.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from retention_desk.config import Settings
from retention_desk.ml.features import build_features
from retention_desk.ml.registry import serving_model
from retention_desk.ml.train import predict_churn
from retention_desk.storage.training_data import load_account_snapshots
from retention_desk.storage.types import utcnow

MEDIUM_FROM = 0.25
HIGH_FROM = 0.50


@dataclass(frozen=True)
class ModelStatus:
    ready: bool
    version: str | None
    message: str  # one sentence, e.g. why not ready


@dataclass(frozen=True)
class RiskScore:
    probability: float
    band: str  # low | medium | high
    model_version: str


def risk_band(probability: float) -> str:
    if probability >= HIGH_FROM:
        return "high"
    return "medium" if probability >= MEDIUM_FROM else "low"


def model_status(*, session: Session, settings: Settings) -> ModelStatus:
    """Whether the desk can score now, with which version, and if not, why (for /readyz and the health page)."""
    outcome = serving_model(session=session, settings=settings)
    if outcome.model is None:
        if outcome.champion_version is None and not outcome.notes:
            return ModelStatus(False, None, "No churn model has been trained yet; run 'retention-desk retrain'.")
        return ModelStatus(False, None, " ".join(outcome.notes) or "No churn model could be loaded.")
    if outcome.fell_back:
        return ModelStatus(True, outcome.model.version, " ".join(outcome.notes))
    return ModelStatus(True, outcome.model.version, f"Serving churn model {outcome.model.version}.")


def score_account(*, session: Session, settings: Settings, account_id: int) -> RiskScore | None:
    """The caller's churn risk now; None when no model is ready (or there is no such account)."""
    return score_accounts(session=session, settings=settings, account_ids=[account_id]).get(account_id)


def score_accounts(
    *, session: Session, settings: Settings, account_ids: Iterable[int], as_of: datetime | None = None
) -> dict[int, RiskScore]:
    """Risk for several accounts in one ``predict_proba`` call; empty when no model is ready."""
    model = serving_model(session=session, settings=settings).model
    if model is None:
        return {}
    snapshots = load_account_snapshots(session, account_ids)
    if not snapshots:
        return {}
    now = as_of or utcnow()
    ids = list(snapshots)
    rows = [build_features(snapshots[i], now) for i in ids]
    probabilities = predict_churn(model.pipeline, rows, model.numeric, model.categorical)
    return {
        account_id: RiskScore(float(p), risk_band(float(p)), model.version)
        for account_id, p in zip(ids, probabilities, strict=True)
    }
