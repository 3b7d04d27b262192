"""Churn risk for the desk: the serving model's probability that a caller leaves, its reasons, and a band.

Bands (on P(churn within the label horizon, typically 90 days)): low below 0.25, medium from 0.25 to below
0.50, high from 0.50. They are fixed cut points on a calibrated probability, so "high" means "more likely
than not to leave", whatever the current model version.

Scoring goes through a scorer compiled once per loaded model (``ml.scorer``): one account, its reason
variants and any offer variants are scored in one call per screen.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session

from retention_desk.config import Settings
from retention_desk.domain.clock import utcnow
from retention_desk.domain.reasons import Reason
from retention_desk.ml.features import Feature, bill_comparison_periods, build_features
from retention_desk.ml.reasons import explanation_from, reference_values, variant_rows
from retention_desk.ml.registry import LoadedModel, LoadOutcome, serving_model
from retention_desk.ml.scorer import ChurnScorer, compile_scorer
from retention_desk.storage.accounts import spread_account_ids
from retention_desk.storage.snapshots import AccountSnapshot
from retention_desk.storage.tables import Call
from retention_desk.storage.training_data import load_account_snapshots

MEDIUM_FROM = 0.25
HIGH_FROM = 0.50
# Where the model's metadata holds no reference values, a typical account is taken from this many stored ones.
REFERENCE_SAMPLE = 500
REFERENCES_KEY = "feature_references"
_KEEP_COMPILED = 4
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelStatus:
    ready: bool
    version: str | None
    message: str  # one sentence, e.g. why not ready
    fell_back: bool = False  # serving an earlier model because the champion was refused
    notes: tuple[str, ...] = ()  # what serving met on the way: refusals, a model file restored from its copy


@dataclass(frozen=True)
class RiskScore:
    probability: float
    band: str  # low | medium | high
    model_version: str
    reasons_up: tuple[Reason, ...] = ()  # what raised this caller's risk most, largest first
    reasons_down: tuple[Reason, ...] = ()  # what lowered it most


@dataclass(frozen=True)
class ScreenScores:
    """One desk screen: the caller's risk (with reasons) and P(churn) of each variant row, in order.

    Variants are the account's own features with overrides; an offer-response model will later give each offer
    its own P(stay | offer). Until then, variants only change what the churn model sees.
    """

    risk: RiskScore
    variants: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class _Serving:
    model: LoadedModel
    scorer: ChurnScorer
    references: dict[str, Feature]


def risk_band(probability: float) -> str:
    if probability >= HIGH_FROM:
        return "high"
    return "medium" if probability >= MEDIUM_FROM else "low"


def model_status(*, session: Session, settings: Settings) -> ModelStatus:
    """Whether the desk can score now, with which version, and if not, why (for /readyz and the health page)."""
    return status_of(serving_model(session=session, settings=settings))


def status_of(outcome: LoadOutcome) -> ModelStatus:
    if outcome.model is None:
        if outcome.champion_version is None and not outcome.notes:
            return ModelStatus(False, None, "No churn model has been trained yet; run 'retention-desk retrain'.")
        return ModelStatus(False, None, " ".join(outcome.notes) or "No churn model could be loaded.")
    if outcome.fell_back:
        return ModelStatus(True, outcome.model.version, " ".join(outcome.notes), fell_back=True, notes=outcome.notes)
    return ModelStatus(
        True, outcome.model.version, f"Serving churn model {outcome.model.version}.", notes=outcome.notes
    )


def score_account(*, session: Session, settings: Settings, account_id: int) -> RiskScore | None:
    """The caller's churn risk now, with reasons; None when no model is ready (or there is no such account)."""
    screen = score_screen(session=session, settings=settings, account_id=account_id)
    return screen.risk if screen else None


def score_accounts(
    *,
    session: Session,
    settings: Settings,
    account_ids: Iterable[int],
    as_of: datetime | None = None,
    with_reasons: bool = False,
) -> dict[int, RiskScore]:
    """Risk for several accounts in one scorer call; empty when no model is ready."""
    serving = _serving(session=session, settings=settings)
    if serving is None:
        return {}
    snapshots = load_account_snapshots(session, account_ids)
    now = as_of or utcnow()
    out: dict[int, RiskScore] = {}
    if not with_reasons:
        ids = list(snapshots)
        rows = [build_features(snapshots[i], now) for i in ids]
        p = serving.scorer.score(rows)
        return {i: RiskScore(float(q), risk_band(float(q)), serving.model.version) for i, q in zip(ids, p, strict=True)}
    for account_id, snapshot in snapshots.items():
        row = build_features(snapshot, now)
        out[account_id] = _score_rows(serving, row, [], bill_comparison_periods(snapshot, now)).risk
    return out


def score_screen(
    *,
    session: Session,
    settings: Settings,
    account_id: int,
    variants: Sequence[Mapping[str, Feature]] = (),
    as_of: datetime | None = None,
) -> ScreenScores | None:
    """The account's risk with reasons, plus each variant (feature overrides) scored in the same single call."""
    serving = _serving(session=session, settings=settings)
    if serving is None:
        return None
    snapshot = load_account_snapshots(session, [account_id]).get(account_id)
    if snapshot is None:
        return None
    now = as_of or utcnow()
    row = build_features(snapshot, now)
    return _score_rows(serving, row, variants, bill_comparison_periods(snapshot, now))


def score_snapshot(
    *, session: Session, settings: Settings, snapshot: AccountSnapshot, as_of: datetime
) -> RiskScore | None:
    """The risk, with reasons, of an account already loaded (a call step loads it once); None without a model."""
    serving = _serving(session=session, settings=settings)
    if serving is None:
        return None
    row = build_features(snapshot, as_of)
    return _score_rows(serving, row, [], bill_comparison_periods(snapshot, as_of)).risk


def logged_risk(call: Call) -> RiskScore | None:
    """The risk a call logged when it ranked its offers: what its page shows, so the agent reads the figure the
    ranking used."""
    if call.risk_score is None or call.risk_band is None:
        return None
    reasons = [Reason.from_log(item) for item in call.reasons or () if isinstance(item, dict)]
    return RiskScore(
        call.risk_score,
        call.risk_band,
        call.risk_model_version or "",
        tuple(r for r in reasons if r.delta > 0),
        tuple(r for r in reasons if r.delta < 0),
    )


def _score_rows(
    serving: _Serving, row: dict[str, Feature], overrides: Sequence[Mapping[str, Feature]], bill_since: Mapping
) -> ScreenScores:
    names, reason_rows = variant_rows(row, serving.references)
    offer_rows = [{**row, **override} for override in overrides]
    p = serving.scorer.score([row, *reason_rows, *offer_rows])
    explained = explanation_from(row, serving.references, names, p[: 1 + len(names)], bill_since=bill_since)
    probability = explained.probability
    risk = RiskScore(
        probability,
        risk_band(probability),
        serving.model.version,
        tuple(explained.raised),
        tuple(explained.lowered),
    )
    return ScreenScores(risk, [float(q) for q in p[1 + len(names) :]])


class _CompiledCache:
    """Per process: one compiled scorer (and its reference values) per loaded model (version, sha256)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.items: OrderedDict[tuple[str, str], _Serving] = OrderedDict()

    def get(self, model: LoadedModel, session: Session) -> _Serving:
        key = (model.version, model.sha256)
        with self.lock:
            found = self.items.get(key)
            if found is None or found.model is not model:
                found = _compile(model, session)
                self.items[key] = found
                while len(self.items) > _KEEP_COMPILED:
                    self.items.popitem(last=False)
            return found

    def clear(self) -> None:
        with self.lock:
            self.items.clear()


_compiled = _CompiledCache()


def _serving(*, session: Session, settings: Settings) -> _Serving | None:
    model = serving_model(session=session, settings=settings).model
    return _compiled.get(model, session) if model is not None else None


def _compile(model: LoadedModel, session: Session) -> _Serving:
    references = _references(model, session)
    check = [references] if references else []
    scorer = compile_scorer(model.pipeline, model.numeric, model.categorical, check_rows=check)
    log.info("Churn model %s: %s", model.version, scorer.note)
    features = set(model.numeric) | set(model.categorical)
    return _Serving(model, scorer, {k: v for k, v in references.items() if k in features})


def _references(model: LoadedModel, session: Session) -> dict[str, Feature]:
    """Training references from the model's metadata; else the fitted medians and a sample of stored accounts."""
    stored: Any = (model.metrics or {}).get(REFERENCES_KEY)
    if isinstance(stored, dict) and stored:
        return {str(k): (v if isinstance(v, str) else float(v)) for k, v in stored.items()}
    ids = spread_account_ids(session, limit=REFERENCE_SAMPLE)
    now = utcnow()
    rows = [build_features(s, now) for s in load_account_snapshots(session, ids).values()]
    sample = reference_values(rows, model.numeric, model.categorical)
    medians = ChurnScorer(model.pipeline, model.numeric, model.categorical).fitted_medians()
    log.info("Churn model %s has no stored reference values; using %d stored accounts.", model.version, len(rows))
    return {**sample, **medians}


def clear_compiled_scorers() -> None:
    """Forget compiled scorers (tests)."""
    _compiled.clear()
