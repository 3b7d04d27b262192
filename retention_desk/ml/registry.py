"""The model registry: artifacts on disk and in the database, and loading only what verifies.

``joblib.load`` executes code from the file, so an artifact is loaded only from bytes whose sha256 equals
the registry row's, and only by the scikit-learn version that wrote it; an offer-model artifact, only when its row
records the layout this code reads (``ARTIFACT_FORMATS``). A version that fails a check is refused with a message
and serving falls back to the newest earlier champion that passes.
"""

from __future__ import annotations

import io
import json
import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import joblib
import sklearn
from sklearn.pipeline import Pipeline
from sqlmodel import Session

from retention_desk.config import Settings
from retention_desk.domain.clock import utcnow
from retention_desk.ml.artifacts import TEMP_SUFFIX, dump_artifact, json_safe, sha256_of, write_atomically
from retention_desk.ml.offer_model import ARTIFACT_FORMAT as OFFER_ARTIFACT_FORMAT
from retention_desk.ml.train import TrainedModel
from retention_desk.storage import audit
from retention_desk.storage import model_versions as store
from retention_desk.storage.tables import ModelVersion

KIND = "churn"
OFFER_KIND = "offer_response"
KINDS = (KIND, OFFER_KIND)
# The artifact layout serving reads, for the kinds whose artifact is a class of ours: a row that records another (or
# none, as rows from before formats were recorded) is refused before its bytes are unpickled, with a note to retrain.
# The churn model is a scikit-learn Pipeline, guarded by the scikit-learn version check.
ARTIFACT_FORMATS = {OFFER_KIND: OFFER_ARTIFACT_FORMAT}
CHAMPION_RECHECK_SECONDS = 5.0  # settings.extra["model_recheck_seconds"] overrides it (tests)
_KEEP_LOADED = 4
log = logging.getLogger(__name__)


class ArtifactRefused(Exception):
    """An artifact failed its hash or version check; the message says which and what to do."""


@dataclass(frozen=True)
class LoadedModel:
    version: str
    sha256: str
    pipeline: Pipeline
    numeric: list[str]
    categorical: list[str]
    metrics: dict[str, Any]
    restored: str | None = None  # what was wrong with the file that the database copy replaced, if anything


@dataclass(frozen=True)
class LoadedArtifact:
    """A verified artifact of a kind other than churn (e.g. the offer-response model): the unpickled object."""

    version: str
    sha256: str
    obj: Any
    metrics: dict[str, Any]
    restored: str | None = None


@dataclass(frozen=True)
class LoadOutcome:
    """What serving has: a verified model (or none) and every refusal met on the way to it."""

    model: Any  # LoadedModel for churn, LoadedArtifact for other kinds, None when nothing verified
    champion_version: str | None
    notes: tuple[str, ...] = field(default=())

    @property
    def fell_back(self) -> bool:
        return self.model is not None and self.model.version != self.champion_version


def artifact_path(settings: Settings, version: str, kind: str = KIND) -> Path:
    return settings.model_dir / f"{kind}-{version}.joblib"


def new_version(now: datetime | None = None) -> str:
    return f"{(now or utcnow()):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def register(
    kind: str,
    *,
    session: Session,
    settings: Settings,
    artifact: Any,
    status: str,
    estimator: str,
    metrics: dict[str, Any],
    numeric: Sequence[str],
    categorical: Sequence[str],
    rows_train: int,
    rows_holdout: int,
    data_window: tuple[datetime | None, datetime | None],
    train_window: tuple[datetime | None, datetime | None],
    holdout_window: tuple[datetime | None, datetime | None],
    label_horizon_days: int,
    details: dict[str, Any] | None = None,
) -> ModelVersion:
    """Store a trained model of either kind: its artifact and metadata file, then its registry row (bytes included).

    ``details`` are the kind's own facts (the churn model's estimator selection, the offer model's fitted parts);
    they go into the metadata file and the row's metrics alike. The row, which is what makes a version servable, is
    added only after the file is complete on disk (``store_version``).
    """
    now = utcnow()
    version = new_version(now)
    data = dump_artifact(artifact)
    digest = sha256_of(data)
    windows = {
        "training_window": {"first_call": _iso(train_window[0]), "last_call": _iso(train_window[1])},
        "holdout_window": {"first_call": _iso(holdout_window[0]), "last_call": _iso(holdout_window[1])},
    }
    described = {**(details or {}), **windows}
    if kind in ARTIFACT_FORMATS:
        described["artifact_format"] = ARTIFACT_FORMATS[kind]
    metadata = {
        "version": version,
        "kind": kind,
        "created_at": now.isoformat(),
        "data_window_start": _iso(data_window[0]),
        "data_window_end": _iso(data_window[1]),
        "rows_train": rows_train,
        "rows_holdout": rows_holdout,
        "numeric_features": list(numeric),
        "categorical_features": list(categorical),
        "sklearn_version": sklearn.__version__,
        "estimator": estimator,
        "metrics": metrics,
        "sha256": digest,
        "label_horizon_days": label_horizon_days,
        **described,
    }
    row = ModelVersion(
        version=version,
        kind=kind,
        status=status,
        created_at=now,
        path="",
        sha256=digest,
        sklearn_version=sklearn.__version__,
        estimator=estimator,
        metrics={**metrics, **described},
        feature_list=[{"name": n, "type": "numeric"} for n in numeric]
        + [{"name": n, "type": "categorical"} for n in categorical],
        data_window_start=data_window[0],
        data_window_end=data_window[1],
        rows_train=rows_train,
        rows_holdout=rows_holdout,
        label_horizon_days=label_horizon_days,
        artifact=data,
    )
    return store_version(session=session, settings=settings, row=row, data=data, metadata=metadata)


def save_model_version(
    *,
    session: Session,
    settings: Settings,
    trained: TrainedModel,
    status: str,
    label_horizon_days: int,
    extra: dict[str, Any] | None = None,
) -> ModelVersion:
    """``register`` a trained churn pipeline; ``extra`` adds facts to its metadata and metrics."""
    return register(
        KIND,
        session=session,
        settings=settings,
        artifact=trained.pipeline,
        status=status,
        estimator=trained.estimator,
        metrics=trained.metrics,
        numeric=trained.numeric,
        categorical=trained.categorical,
        rows_train=trained.rows_train,
        rows_holdout=trained.rows_holdout,
        data_window=(trained.window_start, trained.window_end),
        train_window=trained.train_window,
        holdout_window=trained.holdout_window,
        label_horizon_days=label_horizon_days,
        details={"estimator_candidate": trained.candidate, "selection": trained.selection, **(extra or {})},
    )


def store_version(
    *, session: Session, settings: Settings, row: ModelVersion, data: bytes, metadata: dict[str, Any]
) -> ModelVersion:
    """Write any kind's artifact and its metadata file atomically, then add its registry row (bytes included).

    The row, which is what makes a version servable, is added only after the file is complete on disk; a
    new champion retires the old one of its kind in the same transaction (the caller's), so a crash at any point
    leaves either the old champion or the new one serving, never a half-written file.
    """
    if row.kind not in KINDS:
        raise ValueError(f"unknown model kind {row.kind!r}")
    settings.model_dir.mkdir(parents=True, exist_ok=True)
    path = artifact_path(settings, row.version, row.kind)
    row.metrics = json_safe(row.metrics)
    write_atomically(path, data)
    write_atomically(path.with_suffix(".json"), json.dumps(json_safe(metadata), indent=2, default=str).encode())
    row.path = str(path)
    return store.add_version(session, row)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def remove_stale_temp_files(settings: Settings) -> list[Path]:
    """Delete temp files a killed writer left in the model folder (call only while holding the retrain lock)."""
    if not settings.model_dir.is_dir():
        return []
    stale = [p for kind in KINDS for p in settings.model_dir.glob(f".{kind}-*{TEMP_SUFFIX}") if p.is_file()]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def refusal(*, session: Session, settings: Settings, row: ModelVersion) -> str | None:
    """Why serving would refuse this version (sklearn version, or no bytes matching its sha256), or None.

    Reads and hashes bytes but never unpickles them.
    """
    if row.sklearn_version != sklearn.__version__:
        return f"trained with scikit-learn {row.sklearn_version}, this process runs {sklearn.__version__}"
    if (stale := _stale_format(row)) is not None:
        return f"stored in artifact format {stale}, this process reads format {ARTIFACT_FORMATS[row.kind]}"
    path = artifact_path(settings, row.version, row.kind)
    if path.exists() and sha256_of(path.read_bytes()) == row.sha256:
        return None
    stored = store.artifact_bytes(session, row.version)
    if stored is not None and sha256_of(stored) == row.sha256:
        return None
    return "neither the file nor the database copy matches its sha256"


def promote_version(*, session: Session, settings: Settings, version: str) -> tuple[ModelVersion, list[str]]:
    """Make ``version`` the champion (also a rollback to a retired one) after verifying it loads.

    Raises ``ArtifactRefused`` if it does not verify, ``LookupError`` if there is no such version. The caller
    commits; the old champion is retired in the same transaction.
    """
    row = store.get_version(session, version)
    if row is None or row.kind not in KINDS:
        raise LookupError(f"There is no model version {version!r}; 'retention-desk models list' shows them.")
    if row.kind == KIND:
        load_verified(session=session, settings=settings, row=row)
    else:
        load_verified_artifact(session=session, settings=settings, row=row)
    return row, store.make_champion(session, row)


def load_verified(*, session: Session, settings: Settings, row: ModelVersion) -> LoadedModel:
    """Load one version if its bytes hash to the registry's sha256 and its sklearn version is ours."""
    pipeline, restored = _load_checked(session=session, settings=settings, row=row)
    numeric = [f["name"] for f in row.feature_list if f.get("type") == "numeric"]
    categorical = [f["name"] for f in row.feature_list if f.get("type") == "categorical"]
    return LoadedModel(row.version, row.sha256, pipeline, numeric, categorical, dict(row.metrics or {}), restored)


def load_verified_artifact(*, session: Session, settings: Settings, row: ModelVersion) -> LoadedArtifact:
    """Any kind's artifact, under the same sha256 and scikit-learn version checks as the churn model."""
    obj, restored = _load_checked(session=session, settings=settings, row=row)
    return LoadedArtifact(row.version, row.sha256, obj, dict(row.metrics or {}), restored)


def _load_checked(*, session: Session, settings: Settings, row: ModelVersion) -> tuple[Any, str | None]:
    """The unpickled artifact, and what was wrong with its file if the database copy had to replace it."""
    if row.sklearn_version != sklearn.__version__:
        raise ArtifactRefused(
            f"Model {row.version} was trained with scikit-learn {row.sklearn_version} but this process runs "
            f"{sklearn.__version__}; run 'retention-desk retrain' to train one for this version."
        )
    if (stale := _stale_format(row)) is not None:
        raise ArtifactRefused(
            f"Model {row.version} was stored in artifact format {stale}, which this version of retention-desk no "
            f"longer reads (it reads format {ARTIFACT_FORMATS[row.kind]}); run 'retention-desk retrain' to train one."
        )
    data, restored = _verified_bytes(session=session, settings=settings, row=row)
    # Only now, with the hash checked, may the bytes be unpickled. Verified bytes that still fail to load were
    # written by code that no longer exists (a class moved or gone): refused like any other, never a crash.
    try:
        return joblib.load(io.BytesIO(data)), restored
    except Exception as exc:
        raise ArtifactRefused(
            f"Model {row.version} could not be loaded by this version of retention-desk ({type(exc).__name__}: "
            f"{exc}); run 'retention-desk retrain' to train one."
        ) from exc


def _stale_format(row: ModelVersion) -> int | None:
    """The artifact format a row records when its kind has one and it is not the current one (1: none recorded)."""
    if row.kind not in ARTIFACT_FORMATS:
        return None
    recorded = (row.metrics or {}).get("artifact_format") or 1
    return None if recorded == ARTIFACT_FORMATS[row.kind] else recorded


def _verified_bytes(*, session: Session, settings: Settings, row: ModelVersion) -> tuple[bytes, str | None]:
    """The file's bytes if they verify; else the database copy, which then restores the file (and what was wrong
    with it). Messages name the file, never the server's folders: they reach /readyz."""
    path = artifact_path(settings, row.version, row.kind)
    problem = f"its file {path.name} was missing"
    if path.exists():
        data = path.read_bytes()
        if sha256_of(data) == row.sha256:
            return data, None
        problem = f"its file {path.name} did not match its recorded sha256 (changed or damaged)"
    stored = store.artifact_bytes(session, row.version)
    if stored is None or sha256_of(stored) != row.sha256:
        state = "there is no stored copy" if stored is None else "its stored copy does not match either"
        raise ArtifactRefused(f"Refused model {row.version}: {problem}, and {state}.")
    settings.model_dir.mkdir(parents=True, exist_ok=True)
    write_atomically(path, stored)
    log.warning(
        "Model %s: %s (%s); restored it from the database copy after checking its sha256.", row.version, problem, path
    )
    return stored, problem


def load_serving_model(*, session: Session, settings: Settings, kind: str = KIND) -> LoadOutcome:
    """The champion if it verifies, else the newest earlier champion that does; notes say what was refused."""
    notes: list[str] = []
    candidates = store.serving_candidates(session, kind=kind)
    champion = next((row.version for row in candidates if row.status == store.CHAMPION), None)
    load = load_verified if kind == KIND else load_verified_artifact
    for row in candidates:
        try:
            model = load(session=session, settings=settings, row=row)
        except ArtifactRefused as exc:
            notes.append(str(exc))
            continue
        if model.restored:
            note = f"Model {row.version}: {model.restored}; it was restored from the database copy."
            notes.append(note)
            audit.record_at_once(
                settings.database_url,
                action="model_artifact_restored",
                entity_type="model_version",
                entity_id=row.version,
                detail=note,
            )
        if row.version != champion:
            notes.append(f"Serving earlier model {row.version} instead of champion {champion}.")
        return LoadOutcome(model, champion, tuple(notes))
    return LoadOutcome(None, champion, tuple(notes))


class _ServingCache:
    """Per process: verified models keyed by (version, sha256); the champion row re-read every few seconds."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.models: OrderedDict[tuple[str, str, str], LoadOutcome] = OrderedDict()
        self.checked: dict[str, tuple[float, LoadOutcome]] = {}

    def get(self, *, session: Session, settings: Settings, kind: str = KIND) -> LoadOutcome:
        key = f"{kind}|{settings.database_url}|{settings.model_dir}"
        with self.lock:
            seen = self.checked.get(key)
            recheck = float(settings.extra.get("model_recheck_seconds", CHAMPION_RECHECK_SECONDS))
            if seen and time.monotonic() - seen[0] < recheck:
                return seen[1]
            row = store.champion_row(session, kind=kind)
            ident = (key, row.version, row.sha256) if row else None
            outcome = self.models.get(ident) if ident else None
            if outcome is None:
                outcome = load_serving_model(session=session, settings=settings, kind=kind)
                if ident and outcome.model is not None:
                    self.models[ident] = outcome
                    while len(self.models) > _KEEP_LOADED:
                        self.models.popitem(last=False)
            self.checked[key] = (time.monotonic(), outcome)
            return outcome

    def clear(self) -> None:
        with self.lock:
            self.models.clear()
            self.checked.clear()


_cache = _ServingCache()


def serving_model(*, session: Session, settings: Settings, kind: str = KIND) -> LoadOutcome:
    """The model of ``kind`` this process serves, reloaded only when its champion row changes (checked every few
    seconds)."""
    return _cache.get(session=session, settings=settings, kind=kind)


def clear_serving_cache() -> None:
    """Forget loaded models (tests, and after an operator repairs files by hand)."""
    _cache.clear()
