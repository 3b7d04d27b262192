"""Offer-response predictions for the desk and the simulator: the serving offer model, or the catalog's priors.

The model is loaded through the registry (kind ``offer_response``) under the same sha256 and scikit-learn checks
as the churn model, and kept per process keyed by (version, sha256), re-checking the champion row every few
seconds. Without a working offer model the desk still ranks, on the catalog's prior acceptance rates
(``ml.offer_model.prior_offer_model``): the offer model is never a reason for the desk to be unready.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlmodel import Session

from retention_desk.config import Settings
from retention_desk.ml.features import Feature
from retention_desk.ml.offer_model import OfferLike, OfferPredictions, OfferResponseModel, prior_offer_model
from retention_desk.ml.registry import OFFER_KIND, LoadOutcome, serving_model

__all__ = ["OfferModelStatus", "offer_model_status", "predict_offers"]

_PRIOR = prior_offer_model()
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OfferModelStatus:
    """Which offer predictions the desk uses; ``version`` None means the catalog priors."""

    version: str | None
    message: str  # one sentence for /readyz's note and the health page
    fell_back: bool = False


def _serving(session: Session, settings: Settings) -> tuple[OfferResponseModel, str | None, LoadOutcome]:
    outcome = serving_model(session=session, settings=settings, kind=OFFER_KIND)
    loaded = outcome.model
    if loaded is None:
        return _PRIOR, None, outcome
    if not isinstance(loaded.obj, OfferResponseModel):
        log.error("Offer model %s is not an offer-response model; using the catalog priors.", loaded.version)
        return _PRIOR, None, outcome
    return loaded.obj, loaded.version, outcome


def predict_offers(
    *,
    session: Session,
    settings: Settings,
    rows: Sequence[Mapping[str, Feature]],
    reasons: Sequence[str | None],
    offers: Sequence[OfferLike],
    risks: Sequence[float | None] | None = None,
) -> tuple[list[OfferPredictions], str | None]:
    """P(stay | no offer), P(stay | offer) and P(accept | offer) for each caller × offer, in one batch.

    Returns the predictions and the offer model's version (None = the catalog priors).
    """
    model, version, _ = _serving(session, settings)
    return model.predict(rows, reasons, offers, risks), version


def offer_model_status(*, session: Session, settings: Settings) -> OfferModelStatus:
    """Which offer model serves (or that the priors do), and any refusal on the way; never makes the desk unready."""
    _, version, outcome = _serving(session, settings)
    notes = " ".join(outcome.notes)
    if version is None:
        why = f" {notes}" if notes else ""
        return OfferModelStatus(None, f"Offers are ranked on the catalog's prior acceptance rates.{why}")
    if outcome.fell_back:
        return OfferModelStatus(version, notes, fell_back=True)
    return OfferModelStatus(version, f"Serving offer model {version}.")
