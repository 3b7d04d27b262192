"""The registry as operators see it: which versions exist, which one serves, and promoting (or rolling back)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from retention_desk.config import Settings
from retention_desk.ml.registry import ArtifactRefused, promote_version, refusal
from retention_desk.services.audit import record_event
from retention_desk.storage.db import session_scope
from retention_desk.storage.model_versions import get_version, list_versions


class PromotionError(ValueError):
    """The version cannot be promoted; one sentence saying why."""


@dataclass(frozen=True)
class VersionInfo:
    version: str
    status: str
    created_at: datetime
    promoted_at: datetime | None
    estimator: str
    roc_auc: float | None
    log_loss: float | None
    ece: float | None
    rows: int
    rows_train: int
    rows_holdout: int
    label_horizon_days: int
    sha256: str
    sklearn_version: str
    refused: str | None  # why serving would refuse it, or None
    kind: str = "churn"  # churn | offer_response

    def as_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["created_at"] = self.created_at.isoformat()
        out["promoted_at"] = self.promoted_at.isoformat() if self.promoted_at else None
        return out


def list_model_versions(*, settings: Settings, kind: str | None = None) -> list[VersionInfo]:
    """Every model version of ``kind`` (None: all kinds), newest first, each checked (hash and sklearn version,
    never unpickled)."""
    with session_scope(settings.database_url) as session:
        out = []
        for row in list_versions(session, kind=kind):
            metrics = row.metrics or {}
            out.append(
                VersionInfo(
                    version=row.version,
                    status=row.status,
                    created_at=row.created_at,
                    promoted_at=row.promoted_at,
                    estimator=row.estimator,
                    roc_auc=metrics.get("roc_auc"),
                    log_loss=metrics.get("log_loss"),
                    ece=metrics.get("ece"),
                    rows=row.rows_train + row.rows_holdout,
                    rows_train=row.rows_train,
                    rows_holdout=row.rows_holdout,
                    label_horizon_days=row.label_horizon_days,
                    sha256=row.sha256,
                    sklearn_version=row.sklearn_version,
                    refused=refusal(session=session, settings=settings, row=row),
                    kind=row.kind,
                )
            )
        return out


@dataclass(frozen=True)
class Promotion:
    version: str
    retired: list[str]
    was: str  # the promoted version's status before: challenger | retired | champion

    def describe(self) -> str:
        if self.was == "champion" and not self.retired:
            return f"Model {self.version} is already the champion; nothing changed."
        retired = f"; retired {', '.join(self.retired)}" if self.retired else ""
        return (
            f"Promoted model {self.version} (was {self.was}) to champion{retired}. "
            "Running web processes pick it up within seconds."
        )


def promote_model(*, settings: Settings, version: str, actor_name: str = "cli") -> Promotion:
    """Verify ``version`` (sha256 and scikit-learn version), crown it and retire the old champion, audited."""
    with session_scope(settings.database_url) as session:
        row = get_version(session, version)
        was = row.status if row else ""
        try:
            row, retired = promote_version(session=session, settings=settings, version=version)
        except (ArtifactRefused, LookupError) as exc:
            raise PromotionError(str(exc)) from None
        if was != "champion" or retired:
            record_event(
                session=session,
                action="model_promoted",
                actor_name=actor_name,
                entity_type="model_version",
                entity_id=version,
                before={"status": was, "champion": retired},
                after={"status": "champion"},
                detail=f"sha256 {row.sha256[:12]} verified; retired {', '.join(retired) or 'none'}",
            )
        return Promotion(version, retired, was)
