"""Model health: the champions and their history, calibration, strongest features, the last run; admins promote."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from retention_desk.services.models.registry import PromotionError, promote_model
from retention_desk.services.supervision.model_health import model_health
from retention_desk.web.charts import Series, line_chart
from retention_desk.web.context import app_settings, db_session
from retention_desk.web.risk_words import percent
from retention_desk.web.roles import ADMINS, SUPERVISORS, require_role
from retention_desk.web.supervise.blueprint import bp

UNPROCESSABLE = 422


@bp.get("/models")
@require_role(*SUPERVISORS)
def models() -> str:
    """The serving models, every version's metrics, the churn model's calibration and strongest features."""
    return _page()


@bp.post("/models/<version>/promote")
@require_role(*ADMINS)
def promote(version: str) -> BaseResponse | tuple[str, int]:
    """Make a challenger the champion, or roll back to an earlier champion (``action=rollback``); audited."""
    rollback = request.form.get("action") == "rollback"
    try:
        done = promote_model(settings=app_settings(), version=version[:60], actor_name=current_user.username)
    except PromotionError as exc:
        return _page(error=str(exc)), UNPROCESSABLE
    if done.was == "champion" and not done.retired:
        flash(_("Model %(version)s is already the champion; nothing changed.", version=done.version), "success")
    elif rollback:
        flash(_("Rolled back to model %(version)s.", version=done.version), "success")
    else:
        flash(_("Model %(version)s is now the champion.", version=done.version), "success")
    return redirect(url_for("supervise.models"), code=303)


def _page(error: str | None = None) -> str:
    health = model_health(session=db_session(), settings=app_settings())
    calibration = None
    if health.reliability:
        bins = health.reliability
        labels = [f"{percent(b.lower)}–{percent(min(b.lower + 0.1, 1.0))}" for b in bins]
        calibration = line_chart(
            labels,
            [
                Series(_("Predicted churn"), [b.predicted for b in bins]),
                Series(_("Observed churn"), [b.observed for b in bins]),
            ],
            chart_id="chart-calibration",
            title=_("Calibration of the churn champion"),
            description=_(
                "For each band of predicted churn on the hold-out, the mean prediction and the share that really "
                "churned; the closer the two lines, the more honest the probabilities."
            ),
            fmt=percent,
            y_max=1.0,
        )
    is_admin = current_user.role in ADMINS
    return render_template(
        "supervise/models.html", health=health, calibration=calibration, is_admin=is_admin, error=error
    )
