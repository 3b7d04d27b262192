"""A reason behind a churn score, as the models give it, the call log keeps it and the screens word it.

The model layer computes reasons, the call service stores them with the call (``as_log``), and the desk and the
supervisor's call record read them back (``from_log``) and put them in the agent's words.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any


@dataclass(frozen=True)
class Reason:
    """One feature's part in a score: ``delta`` > 0 raised the risk, < 0 lowered it."""

    feature: str
    value: float | str | None
    reference: float | str | None
    delta: float
    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def as_log(self) -> dict[str, Any]:
        """The stored form (``Call.reasons``): JSON, so no NaN and no dates."""
        return {
            "feature": self.feature,
            "code": self.code,
            "params": {k: _json_value(v) for k, v in self.params.items()},
            "value": _json_value(self.value),
            "delta": _json_value(self.delta),
        }

    @classmethod
    def from_log(cls, item: dict[str, Any]) -> Reason:
        """A reason as stored; the month a bill comparison starts from comes back as a date."""
        params = dict(item.get("params") or {})
        since = params.get("since")
        if isinstance(since, str):
            try:
                params["since"] = date.fromisoformat(since[:10])
            except ValueError:
                params.pop("since")
        delta = item.get("delta")
        return cls(
            feature=str(item.get("feature") or ""),
            value=item.get("value"),
            reference=None,
            delta=float(delta) if isinstance(delta, int | float) else 0.0,
            code=str(item.get("code") or ""),
            params=params,
        )


def _json_value(value: Any) -> Any:
    """JSON has no NaN (PostgreSQL refuses it) and no dates: a missing number is null, a date its ISO form."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
