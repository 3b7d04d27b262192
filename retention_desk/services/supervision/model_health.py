"""The models' health for supervisors: the serving champion of each kind, every version's metrics, calibration,
the strongest features and what the last training run did.

Calibration comes from the reliability bins the nightly job stores with the churn metrics (never re-scored for a
page). The strongest features are the serving churn model's logistic coefficients (on the standardised, one-hot
encoded inputs), read from the model this process already serves; other estimators store no importances, and the
page says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from retention_desk.config import Settings
from retention_desk.ml.registry import KIND, OFFER_KIND, refusal, serving_model
from retention_desk.services.models.nightly import NIGHTLY_ACTION
from retention_desk.storage.audit import latest_audit_event, model_audit_events
from retention_desk.storage.model_versions import CHALLENGER, CHAMPION, RETIRED, champion_row, list_versions
from retention_desk.storage.tables import AuditEvent, ModelVersion

# The metrics shown for each kind, in order (keys of ModelVersion.metrics).
METRICS: dict[str, tuple[str, ...]] = {
    KIND: ("roc_auc", "log_loss", "brier", "ece", "top_decile_lift"),
    OFFER_KIND: ("snips", "dr", "ci_low", "ci_high", "effective_n", "log_loss"),
}
TOP_FEATURES = 10


@dataclass(frozen=True)
class VersionLine:
    version: str
    kind: str
    status: str
    created_at: datetime
    promoted_at: datetime | None
    estimator: str
    metrics: dict[str, float | None]
    rows_train: int
    rows_holdout: int
    refused: str | None  # why serving would refuse it, or None
    can_promote: bool  # a challenger that verifies
    can_roll_back: bool  # an earlier champion that verifies


@dataclass(frozen=True)
class ReliabilityBin:
    lower: float
    n: int
    predicted: float
    observed: float


@dataclass(frozen=True)
class FeatureWeight:
    name: str
    weight: float  # > 0 raises the churn risk


@dataclass(frozen=True)
class KindHealth:
    kind: str
    metric_names: tuple[str, ...]
    champion: VersionLine | None
    versions: list[VersionLine]  # newest first


@dataclass(frozen=True)
class RunPart:
    decision: str  # promoted | kept | kept_priors | …
    reason: str
    version: str | None


@dataclass(frozen=True)
class NightlyRun:
    """The nightly job's last run, from its audit row: finished (with what each model did) or failed (and why)."""

    at: datetime
    failed: bool
    error: str
    churn: RunPart | None
    offer: RunPart | None


@dataclass(frozen=True)
class ModelHealth:
    churn: KindHealth
    offer: KindHealth
    reliability: list[ReliabilityBin]  # the churn champion's; empty when its metrics hold none
    features: list[FeatureWeight]  # empty when the serving model has no coefficients
    features_note: str  # why there are no features, or ""
    serving_version: str | None  # what this process serves (may be a fallback, not the champion)
    last_runs: list[VersionLine]  # the newest version of each kind: what the last training run left
    model_events: list[AuditEvent]  # promotions and roll-backs, newest first
    last_nightly: NightlyRun | None  # None: the nightly job has not run yet


def model_health(*, session: Session, settings: Settings) -> ModelHealth:
    """Everything the model page shows, read from the registry, the audit log and the serving model."""
    churn = _kind_health(session, settings, KIND)
    offer = _kind_health(session, settings, OFFER_KIND)
    features, note, serving = _strongest_features(session, settings)
    return ModelHealth(
        churn=churn,
        offer=offer,
        reliability=_reliability(session),
        features=features,
        features_note=note,
        serving_version=serving,
        last_runs=[k.versions[0] for k in (churn, offer) if k.versions],
        model_events=model_audit_events(session),
        last_nightly=_last_nightly(session),
    )


def _last_nightly(session: Session) -> NightlyRun | None:
    event = latest_audit_event(session, NIGHTLY_ACTION)
    if event is None:
        return None
    after = event.after or {}

    def part(name: str) -> RunPart | None:
        data = after.get(name)
        if not isinstance(data, dict):
            return None
        return RunPart(str(data.get("decision", "")), str(data.get("reason", "")), data.get("version"))

    failed = after.get("outcome") == "failed"
    return NightlyRun(event.at, failed, str(after.get("error", "")), part("churn"), part("offer_model"))


def _kind_health(session: Session, settings: Settings, kind: str) -> KindHealth:
    names = METRICS[kind]
    lines = [_line(session, settings, row, names) for row in list_versions(session, kind=kind)]
    champion = next((line for line in lines if line.status == CHAMPION), None)
    return KindHealth(kind=kind, metric_names=names, champion=champion, versions=lines)


def _line(session: Session, settings: Settings, row: ModelVersion, names: tuple[str, ...]) -> VersionLine:
    metrics = row.metrics or {}
    refused = refusal(session=session, settings=settings, row=row)
    return VersionLine(
        version=row.version,
        kind=row.kind,
        status=row.status,
        created_at=row.created_at,
        promoted_at=row.promoted_at,
        estimator=row.estimator,
        metrics={name: _number(metrics.get(name)) for name in names},
        rows_train=row.rows_train,
        rows_holdout=row.rows_holdout,
        refused=refused,
        can_promote=row.status == CHALLENGER and refused is None,
        can_roll_back=row.status == RETIRED and row.promoted_at is not None and refused is None,
    )


def _reliability(session: Session) -> list[ReliabilityBin]:
    row = champion_row(session, kind=KIND)
    stored = (row.metrics or {}).get("reliability") if row else None
    if not isinstance(stored, list):
        return []
    try:
        return [
            ReliabilityBin(float(b["lower"]), int(b["n"]), float(b["predicted"]), float(b["observed"])) for b in stored
        ]
    except (KeyError, TypeError, ValueError):  # written by another version of the job: no chart rather than a 500
        return []


def _strongest_features(session: Session, settings: Settings) -> tuple[list[FeatureWeight], str, str | None]:
    """The serving churn model's largest logistic coefficients; otherwise a note saying why there are none."""
    outcome = serving_model(session=session, settings=settings)
    model = outcome.model
    if model is None:
        return [], "No churn model is serving.", None
    estimator = model.pipeline[-1]
    coef = getattr(estimator, "coef_", None)
    try:
        names = list(model.pipeline[0].get_feature_names_out())
    except (AttributeError, ValueError, IndexError):
        names = []
    if coef is None or len(names) != len(coef[0]):
        return (
            [],
            f"{type(estimator).__name__} has no coefficients and the job stores no feature importances.",
            (model.version),
        )
    pairs = sorted(zip(names, (float(c) for c in coef[0]), strict=True), key=lambda p: -abs(p[1]))[:TOP_FEATURES]
    readable = [FeatureWeight(_readable(n, model.categorical), round(w, 4)) for n, w in pairs]
    return readable, "", model.version


def _readable(name: str, categorical: list[str]) -> str:
    """'num__tenure_months' -> 'tenure_months'; 'cat__contract_type_two_year' -> 'contract_type = two_year'."""
    rest = name.partition("__")[2] or name
    column = max((c for c in categorical if rest.startswith(f"{c}_")), key=len, default=None)
    return f"{column} = {rest[len(column) + 1 :]}" if column else rest


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
