"""Readiness: can this process serve the desk (database reachable, a churn model loaded)?"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from retention_desk.config import Settings
from retention_desk.services.database import display_url, open_session
from retention_desk.storage.db import ping

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Readiness:
    """``database`` and ``model`` are short phrases for a load balancer or an operator, never secrets."""

    ok: bool
    database: str
    model: str
    model_version: str | None = None
    model_note: str | None = None  # an older model standing in, or a model file restored from its database copy


def readiness(*, settings: Settings) -> Readiness:
    """Checked on every /readyz, so a node whose database or model went away leaves the pool."""
    from retention_desk.services.models.risk import model_status

    try:
        session = open_session(settings.database_url)
        ping(session)
    except Exception as exc:  # any failure means "not ready"; the detail goes to the log, not the response
        log.warning("readiness: database %s unreachable: %s", display_url(settings.database_url), exc)
        return Readiness(ok=False, database="unreachable", model="not checked")
    with session:
        try:
            status = model_status(session=session, settings=settings)
        except Exception as exc:
            log.exception("readiness: the model check failed")
            return Readiness(ok=False, database="ok", model=f"model check failed: {type(exc).__name__}")
    model = "ok" if status.ready else status.message
    note = " ".join(status.notes) or None  # a refused champion, or a tampered file healed from its copy
    return Readiness(ok=status.ready, database="ok", model=model, model_version=status.version, model_note=note)
