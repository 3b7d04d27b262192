"""The desk's account screen in one call: the account as the agent sees it, its churn risk and the model's state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from retention_desk.config import Settings
from retention_desk.ml.registry import serving_model
from retention_desk.services.accounts import AccountView, get_account_view
from retention_desk.services.scoring import ModelStatus, RiskScore, score_screen, status_of
from retention_desk.storage.types import utcnow


@dataclass(frozen=True)
class AccountScreen:
    view: AccountView
    risk: RiskScore | None  # None when no model is ready
    model: ModelStatus

    @property
    def model_warning(self) -> str | None:
        """What the agent must be told about the model: none ready, or an earlier one standing in."""
        if not self.model.ready or self.model.fell_back:
            return self.model.message
        return None


def open_account(
    *, session: Session, settings: Settings, account_id: int, now: datetime | None = None
) -> AccountScreen | None:
    """The account with its risk and reasons; the page still works (with a warning) when no model can score."""
    now = now or utcnow()
    view = get_account_view(session=session, account_id=account_id, now=now)
    if view is None:
        return None
    status = status_of(serving_model(session=session, settings=settings))
    screen = (
        score_screen(session=session, settings=settings, account_id=account_id, as_of=now) if status.ready else None
    )
    return AccountScreen(view, screen.risk if screen else None, status)
