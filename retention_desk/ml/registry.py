"""The model registry: artifacts on disk and in the database, and loading only what verifies.

``joblib.load`` executes code from the file, so an artifact is loaded only from bytes whose sha256 equals
the registry row's, and only by the scikit-learn version that wrote it. A version that fails either check
is refused with a message and serving falls back to the newest earlier champion that passes.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import math
import os
import secrets
import tempfile
import threading
import time
from collections import OrderedDict
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
from retention_desk.ml.train import TrainedModel
from retention_desk.storage import model_versions as store
from retention_desk.storage.tables import ModelVersion

KIND = "churn"
OFFER_KIND = "offer_response"
KINDS = (KIND, OFFER_KIND)
CHAMPION_RECHECK_SECONDS = 5.0  # settings.extra["model_recheck_seconds"] overrides it (tests)
TEMP_SUFFIX = ".tmp"
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


@dataclass(frozen=True)
class LoadedArtifact:
    """A verified artifact of a kind other than churn (e.g. the offer-response model): the unpickled object."""

    version: str
    sha256: str
    obj: Any
    metrics: dict[str, Any]


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


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def new_version(now: datetime | None = None) -> str:
    return f"{(now or utcnow()):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def save_model_version(
    *,
    session: Session,
    settings: Settings,
    trained: TrainedModel,
    status: str,
    label_horizon_days: int,
    extra: dict[str, Any] | None = None,
) -> ModelVersion:
    """Write the artifact and its metadata atomically, then add the registry row (bytes included).

    The row, which is what makes a version servable, is added only after the file is complete on disk; a
    new champion retires the old one in the same transaction (the caller's), so a crash at any point leaves
    either the old champion or the new one serving, never a half-written file.
    """
    now = utcnow()
    version = new_version(now)
    data = dump_artifact(trained.pipeline)
    digest = sha256_of(data)
    path = artifact_path(settings, version)
    metadata = {
        "version": version,
        "kind": KIND,
        "created_at": now.isoformat(),
        "data_window_start": _iso(trained.window_start),
        "data_window_end": _iso(trained.window_end),
        "rows_train": trained.rows_train,
        "rows_holdout": trained.rows_holdout,
        "numeric_features": trained.numeric,
        "categorical_features": trained.categorical,
        "sklearn_version": sklearn.__version__,
        "estimator": trained.estimator,
        "metrics": trained.metrics,
        "sha256": digest,
        "label_horizon_days": label_horizon_days,
        "estimator_candidate": trained.candidate,
        "selection": trained.selection,
        "training_window": {"first_call": _iso(trained.train_window[0]), "last_call": _iso(trained.train_window[1])},
        "holdout_window": {"first_call": _iso(trained.holdout_window[0]), "last_call": _iso(trained.holdout_window[1])},
        **(extra or {}),
    }
    row = ModelVersion(
        version=version,
        kind=KIND,
        status=status,
        created_at=now,
        path=str(path),
        sha256=digest,
        sklearn_version=sklearn.__version__,
        estimator=trained.estimator,
        metrics={
            **trained.metrics,
            "selection": trained.selection,
            "training_window": metadata["training_window"],
            "holdout_window": metadata["holdout_window"],
            **(extra or {}),
        },
        feature_list=[{"name": n, "type": "numeric"} for n in trained.numeric]
        + [{"name": n, "type": "categorical"} for n in trained.categorical],
        data_window_start=trained.window_start,
        data_window_end=trained.window_end,
        rows_train=trained.rows_train,
        rows_holdout=trained.rows_holdout,
        label_horizon_days=label_horizon_days,
        artifact=data,
    )
    return store_version(session=session, settings=settings, row=row, data=data, metadata=metadata)


def dump_artifact(obj: Any) -> bytes:
    """The joblib bytes of an artifact, as stored in the file and the database alike."""
    buffer = io.BytesIO()
    joblib.dump(obj, buffer, compress=3)
    return buffer.getvalue()


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
    _write_atomically(path, data)
    _write_atomically(path.with_suffix(".json"), json.dumps(json_safe(metadata), indent=2, default=str).encode())
    row.path = str(path)
    return store.add_version(session, row)


def json_safe(value: Any) -> Any:
    """The value with every NaN or infinity as None: JSON has no such numbers, and PostgreSQL refuses them.

    A hold-out figure that could not be computed (a policy value with no matching decision) is NaN.
    """
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return value


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _write_atomically(path: Path, data: bytes) -> None:
    """Temp file in the same folder, fsync, rename: a reader sees the old file or the whole new one."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
    pipeline = _load_checked(session=session, settings=settings, row=row)
    numeric = [f["name"] for f in row.feature_list if f.get("type") == "numeric"]
    categorical = [f["name"] for f in row.feature_list if f.get("type") == "categorical"]
    return LoadedModel(row.version, row.sha256, pipeline, numeric, categorical, dict(row.metrics or {}))


def load_verified_artifact(*, session: Session, settings: Settings, row: ModelVersion) -> LoadedArtifact:
    """Any kind's artifact, under the same sha256 and scikit-learn version checks as the churn model."""
    obj = _load_checked(session=session, settings=settings, row=row)
    return LoadedArtifact(row.version, row.sha256, obj, dict(row.metrics or {}))


def _load_checked(*, session: Session, settings: Settings, row: ModelVersion) -> Any:
    if row.sklearn_version != sklearn.__version__:
        raise ArtifactRefused(
            f"Model {row.version} was trained with scikit-learn {row.sklearn_version} but this process runs "
            f"{sklearn.__version__}; run 'retention-desk retrain' to train one for this version."
        )
    data = _verified_bytes(session=session, settings=settings, row=row)
    # Only now, with the hash checked, may the bytes be unpickled.
    return joblib.load(io.BytesIO(data))


def _verified_bytes(*, session: Session, settings: Settings, row: ModelVersion) -> bytes:
    """The file's bytes if they verify; else the database copy, which then restores the file."""
    path = artifact_path(settings, row.version, row.kind)
    problem = f"the file {path} is missing"
    if path.exists():
        data = path.read_bytes()
        if sha256_of(data) == row.sha256:
            return data
        problem = f"the file {path} does not match its recorded sha256 (changed or damaged)"
    stored = store.artifact_bytes(session, row.version)
    if stored is None or sha256_of(stored) != row.sha256:
        state = "has no stored copy" if stored is None else "its stored copy does not match either"
        raise ArtifactRefused(f"Refused model {row.version}: {problem}, and {state}.")
    settings.model_dir.mkdir(parents=True, exist_ok=True)
    _write_atomically(path, stored)
    log.warning("Model %s: %s; restored it from the database copy after checking its sha256.", row.version, problem)
    return stored


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
