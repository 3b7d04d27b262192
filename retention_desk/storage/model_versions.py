"""Registry rows for trained models: which version is champion, which earlier ones can stand in, their bytes."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import defer
from sqlmodel import Session

from retention_desk.domain.clock import utcnow
from retention_desk.storage.tables import ModelVersion

CHAMPION, CHALLENGER, RETIRED = "champion", "challenger", "retired"


def champion_row(session: Session, *, kind: str = "churn") -> ModelVersion | None:
    """The serving version's row, without its artifact bytes (they are read only when a file is missing)."""
    return session.execute(
        select(ModelVersion)
        .options(defer(ModelVersion.artifact))
        .where(ModelVersion.kind == kind, ModelVersion.status == CHAMPION)
        .order_by(ModelVersion.promoted_at.desc(), ModelVersion.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def serving_candidates(session: Session, *, kind: str = "churn") -> Sequence[ModelVersion]:
    """The champion, then earlier champions newest first: the order in which serving may fall back."""
    rows = session.execute(
        select(ModelVersion)
        .options(defer(ModelVersion.artifact))
        .where(ModelVersion.kind == kind, ModelVersion.status.in_([CHAMPION, RETIRED]))
        .where(ModelVersion.promoted_at.is_not(None))
        .order_by(ModelVersion.promoted_at.desc(), ModelVersion.id.desc())
    ).scalars()
    rows = list(rows)
    return sorted(rows, key=lambda row: row.status != CHAMPION)


def artifact_bytes(session: Session, version: str) -> bytes | None:
    return session.execute(select(ModelVersion.artifact).where(ModelVersion.version == version)).scalar_one_or_none()


def add_version(session: Session, row: ModelVersion) -> ModelVersion:
    """Store a new version; a new champion retires the previous one in the same transaction."""
    if row.status == CHAMPION:
        row.promoted_at = row.promoted_at or utcnow()
        session.execute(
            update(ModelVersion)
            .where(ModelVersion.kind == row.kind, ModelVersion.status == CHAMPION)
            .values(status=RETIRED)
        )
    session.add(row)
    session.flush()
    return row


def has_champion_row(session: Session, *, kind: str = "churn") -> bool:
    found = session.execute(
        select(ModelVersion.id).where(ModelVersion.kind == kind, ModelVersion.status == CHAMPION).limit(1)
    ).first()
    return found is not None


def list_versions(session: Session, *, kind: str | None = "churn") -> Sequence[ModelVersion]:
    """Every version of ``kind`` (None: of every kind), newest first, without artifact bytes."""
    query = select(ModelVersion).options(defer(ModelVersion.artifact))
    if kind is not None:
        query = query.where(ModelVersion.kind == kind)
    return list(session.execute(query.order_by(ModelVersion.created_at.desc(), ModelVersion.id.desc())).scalars())


def get_version(session: Session, version: str) -> ModelVersion | None:
    return session.execute(
        select(ModelVersion).options(defer(ModelVersion.artifact)).where(ModelVersion.version == version)
    ).scalar_one_or_none()


def make_champion(session: Session, row: ModelVersion) -> list[str]:
    """Retire the current champion(s) and crown ``row``, in the caller's one transaction; returns who retired."""
    retired = list(
        session.execute(
            select(ModelVersion.version).where(
                ModelVersion.kind == row.kind, ModelVersion.status == CHAMPION, ModelVersion.id != row.id
            )
        ).scalars()
    )
    session.execute(
        update(ModelVersion)
        .where(ModelVersion.kind == row.kind, ModelVersion.status == CHAMPION, ModelVersion.id != row.id)
        .values(status=RETIRED)
    )
    row.status = CHAMPION
    row.promoted_at = utcnow()
    session.add(row)
    session.flush()
    return retired
