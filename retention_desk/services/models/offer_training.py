"""The nightly offer-model retrain: learn P(stay | action) and P(accept) from logged decisions, judge the new model
against the serving one (or the catalog priors) by the value its greedy ranking would have realised on the newest
decisions, promote only if not worse, and keep the priors while there is too little data.

Callable in-process (the simulator runs it once per simulated day with its own clock): everything comes in as
arguments, nothing is read from the environment.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from retention_desk.config import Settings
from retention_desk.domain.progress import SILENT, Progress
from retention_desk.ml.fitting import predict_churn
from retention_desk.ml.offer_data import OfferExample, answered_calls, load_offer_data
from retention_desk.ml.offer_evaluation import baseline_values, greedy_value, rewards_of, stay_log_loss
from retention_desk.ml.offer_fit import fit_on_decisions
from retention_desk.ml.offer_model import MIN_DECISIONS, OfferResponseModel, prior_offer_model
from retention_desk.ml.policy_value import snips_difference
from retention_desk.ml.registry import OFFER_KIND, load_serving_model, register, remove_stale_temp_files
from retention_desk.services.catalog.store import offers_in_database
from retention_desk.storage.db import session_scope
from retention_desk.storage.locks import exclusive_lock
from retention_desk.storage.model_versions import CHALLENGER, CHAMPION
from retention_desk.storage.training_data import plan_training_set

__all__ = [
    "HOLDOUT_SHARE",
    "MIN_EFFECTIVE_DECISIONS",
    "OfferRetrainResult",
    "VALUE_TOLERANCE",
    "retrain_offer_model",
]

HOLDOUT_SHARE = 0.2
# Promote unless the new model's hold-out SNIPS value per call is below the champion's by more than this share of
# the champion's (the estimate's own 95% interval is usually wider: this guards against clear losses only) ...
VALUE_TOLERANCE = 0.02
# ... or its log loss of P(stay | logged action) is worse by more than this (absolute).
STAY_LOG_LOSS_TOLERANCE = 0.01
# A greedy policy's hold-out value rests on the decisions it would have repeated (its effective sample). Below this
# many, for either policy, the values are not compared and the stay log loss decides: on the world of 2026-12-05 the
# first model's value rested on 51 decisions against the priors' 46, the interval of the difference ended below the
# tolerance, and the desk kept the catalog priors (58% of the oracle's first-offer value by the ground truth) over a
# model at 75% whose log loss was better (0.531 against 0.553; experiments/NOTEBOOK.md).
MIN_EFFECTIVE_DECISIONS = 100
LOCK_NAME = "retrain"
PRIORS = "catalog priors"


@dataclass
class OfferRetrainResult:
    decision: str  # promoted | kept | dry_run | kept_priors (too little data)
    would: str
    reason: str
    new_version: str | None = None
    new_metrics: dict[str, Any] | None = None
    champion_version: str | None = None  # None: the catalog priors were the champion
    champion_metrics: dict[str, Any] | None = None
    baselines: dict[str, Any] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    forced: bool = False
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """The ``offer_model`` section of ``retrain --json``."""
        return {
            "decision": self.decision,
            "would": self.would,
            "reason": self.reason,
            "forced": self.forced,
            "new": {"version": self.new_version, "metrics": self.new_metrics} if self.new_metrics else None,
            "champion": {"version": self.champion_version or PRIORS, "metrics": self.champion_metrics},
            "baselines": self.baselines,
            "rows": self.rows,
            "skipped": self.skipped,
            "tolerance": {
                "metric": "snips value per call, then stay log loss",
                "max_worse_share": VALUE_TOLERANCE,
                "max_log_loss_worse_by": STAY_LOG_LOSS_TOLERANCE,
                "min_effective_decisions": MIN_EFFECTIVE_DECISIONS,
            },
            "seconds": round(self.seconds, 1),
            "notes": self.notes,
        }

    def describe(self) -> str:
        """One line for the nightly log."""
        if self.new_metrics is None:
            return f"Offer model: {self.reason}"
        name = self.new_version or "(dry run, not stored)"
        champion = self.champion_version or PRIORS
        old = self.champion_metrics or {}
        verb = {"promoted": "promoted", "kept": f"kept {champion}", "dry_run": f"dry run, would have {self.would}"}
        return (
            f"Offer model {name} on {self.rows.get('train', 0)} decisions: hold-out greedy value "
            f"{_money(self.new_metrics.get('snips'))} per call vs {champion} {_money(old.get('snips'))}; "
            f"{verb.get(self.decision, self.decision)}: {self.reason}"
        )


def _money(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def retrain_offer_model(
    *,
    settings: Settings,
    now: datetime | None = None,
    progress: Progress = SILENT,
    horizon_days: int = 90,
    force: bool = False,
    dry_run: bool = False,
    min_decisions: int = MIN_DECISIONS,
    lock: bool = True,
) -> OfferRetrainResult:
    """Train the offer-response model on decisions at least ``horizon_days`` old (as of ``now``), compare, store.

    Holds the retrain lock unless ``dry_run`` or ``lock=False`` (a caller that already holds it).
    """
    if dry_run or not lock:
        return _retrain(settings, now, progress, horizon_days, force, dry_run, min_decisions)
    with exclusive_lock(settings.database_url, LOCK_NAME):
        remove_stale_temp_files(settings)
        return _retrain(settings, now, progress, horizon_days, force, dry_run, min_decisions)


def _retrain(
    settings: Settings,
    now: datetime | None,
    progress: Progress,
    horizon: int,
    force: bool,
    dry_run: bool,
    min_decisions: int,
) -> OfferRetrainResult:
    started = time.monotonic()
    margin = settings.offer_policy.margin_share
    limit = settings.offer_policy.max_offers_per_call
    with session_scope(settings.database_url) as session:
        plan = plan_training_set(session, label_horizon_days=horizon)
        if now is not None and (plan.cutoff is None or plan.cutoff > now - timedelta(days=horizon)):
            plan = replace(plan, cutoff=now - timedelta(days=horizon))
        progress.say("Reading logged offer decisions ...")
        data = load_offer_data(session, plan)
        offers = {o.code: o for o in offers_in_database(session=session)}
        churn = load_serving_model(session=session, settings=settings)
        champion = load_serving_model(session=session, settings=settings, kind=OFFER_KIND)
    skipped = {
        "no_decision": data.skipped_no_decision,
        "unlabelled": data.skipped_unlabelled,
        "too_recent": data.too_recent,
    }
    decisions = data.decisions
    if len(decisions) < min_decisions:
        reason = (
            f"only {len(decisions)} logged decisions have a known outcome ({horizon} days after the call); "
            f"the offer model needs {min_decisions}, so the desk keeps ranking on the catalog's priors."
        )
        return OfferRetrainResult(
            "kept_priors",
            "kept_priors",
            reason,
            rows={"decisions": len(decisions)},
            skipped=skipped,
            seconds=time.monotonic() - started,
        )
    n_hold = max(1, int(round(len(decisions) * HOLDOUT_SHARE)))
    train, hold = decisions[:-n_hold], decisions[-n_hold:]
    kinds = {code: o.kind for code, o in offers.items()}
    calls = answered_calls(data, {e.call_id for e in hold})
    answers = sum(len(call.answers) for call in calls)
    progress.say(f"Fitting the offer model on {len(train)} decisions and {answers} answers ...")
    model = fit_on_decisions(train, kinds=kinds, calls=calls)
    risks = _risks(churn.model, hold)
    new_metrics, new_target = _metrics(model, hold, offers, margin, limit, risks)
    old_model = champion.model.obj if champion.model is not None else None
    if not isinstance(old_model, OfferResponseModel):
        old_model = prior_offer_model()
    champion_metrics, old_target = _metrics(old_model, hold, offers, margin, limit, risks)
    difference = snips_difference(
        rewards_of(hold, offers, margin), [e.propensity for e in hold], new_target, old_target
    )
    new_metrics["vs_champion"] = {"difference": difference[0], "ci_low": difference[1], "ci_high": difference[2]}
    baselines = {name: v.as_dict() for name, v in baseline_values(hold, offers, margin).items()}
    if champion.model is not None:
        baselines["catalog_priors"] = _metrics(prior_offer_model(), hold, offers, margin, limit, risks)[0]
    would, reason = decide_offer_model(new_metrics, champion_metrics, force=force, champion_is_prior=old_model.is_prior)
    version = None
    if not dry_run:
        progress.say("Writing the offer model artifact and its registry row ...")
        version = _save(
            settings, model, new_metrics, train, hold, horizon, CHAMPION if would == "promoted" else CHALLENGER
        )
    return OfferRetrainResult(
        decision="dry_run" if dry_run else would,
        would=would,
        reason=reason,
        new_version=version,
        new_metrics=new_metrics,
        champion_version=champion.model.version if champion.model is not None else None,
        champion_metrics=champion_metrics,
        baselines=baselines,
        rows={
            "decisions": len(decisions),
            "train": len(train),
            "holdout": len(hold),
            "presentations": answers,
        },
        skipped=skipped,
        forced=force,
        seconds=time.monotonic() - started,
        notes=list(champion.notes),
    )


def decide_offer_model(
    new: dict[str, Any], champion: dict[str, Any], *, force: bool = False, champion_is_prior: bool = False
) -> tuple[str, str]:
    """("promoted" | "kept", why): promote unless clearly worse in hold-out value or in stay log loss.

    Clearly worse in value = below the champion's by more than ``VALUE_TOLERANCE`` of it, and the whole 95%
    interval of the paired difference (``new["vs_champion"]``, when given) below that margin too: the greedy
    policies rest on a few dozen matching decisions, so a gap inside the noise is no reason to keep an old model.
    When either policy's value rests on fewer than ``MIN_EFFECTIVE_DECISIONS`` (``effective_n``, when given), the
    values are not compared at all and the stay log loss decides, against the priors too.
    """
    name = "the catalog priors" if champion_is_prior else "the champion"
    thin = _thin_holdout(new, champion)
    margin = VALUE_TOLERANCE * abs(champion["snips"])
    worse_value = thin is None and new["snips"] < champion["snips"] - margin
    paired = new.get("vs_champion")
    if worse_value and paired is not None and math.isfinite(paired["ci_high"]):
        worse_value = paired["ci_high"] < -margin
    # The priors make no claim to calibration, so only a learned champion's log loss is a bar to clear, unless the
    # log loss is all there is to go by.
    worse_loss = (thin is not None or not champion_is_prior) and (
        new["log_loss"] > champion["log_loss"] + STAY_LOG_LOSS_TOLERANCE
    )
    compared = f"hold-out greedy value {new['snips']:,.0f} per call against {champion['snips']:,.0f} for {name}"
    if thin is not None and not worse_loss:
        return "promoted", (
            f"the hold-out cannot compare the values ({thin}); its stay log loss {new['log_loss']:.4f} against "
            f"{champion['log_loss']:.4f} for {name}."
        )
    if not (worse_value or worse_loss):
        if new["snips"] < champion["snips"] - margin:
            return "promoted", f"its {compared} is lower, but within the hold-out's noise ({_interval(paired)})."
        return "promoted", f"its {compared} is within {VALUE_TOLERANCE:.0%} or better."
    what = "value" if worse_value else f"stay log loss ({new['log_loss']:.4f} vs {champion['log_loss']:.4f})"
    if force:
        return "promoted", f"--force given: promoted although its {what} is worse ({compared})."
    return "kept", f"its {what} is worse beyond the tolerance ({compared}); stored as a challenger."


def _thin_holdout(new: dict[str, Any], champion: dict[str, Any]) -> str | None:
    """Why the hold-out is too thin to compare greedy values, or None when it is not (or cannot be told)."""
    sizes = [m.get("effective_n") for m in (new, champion)]
    if any(size is None for size in sizes) or min(sizes) >= MIN_EFFECTIVE_DECISIONS:
        return None
    return (
        f"the greedy policies' values rest on {sizes[0]:,.0f} and {sizes[1]:,.0f} decisions, "
        f"fewer than {MIN_EFFECTIVE_DECISIONS}"
    )


def _interval(paired: dict[str, float] | None) -> str:
    if paired is None:
        return "no interval"
    return f"difference {paired['difference']:,.0f}, 95% interval {paired['ci_low']:,.0f} to {paired['ci_high']:,.0f}"


def _metrics(
    model: OfferResponseModel,
    hold: list[OfferExample],
    offers: dict[str, Any],
    margin: float,
    limit: int,
    risks: list[float | None] | None,
) -> tuple[dict[str, Any], np.ndarray]:
    """The hold-out metrics, and per decision whether the model's greedy choice is the logged action."""
    value, scored = greedy_value(model, hold, offers, margin, risks, limit)
    metrics = {
        **value.as_dict(),
        "log_loss": round(stay_log_loss(scored.p_stay_logged, hold), 6),
        "no_offer_share": round(float(np.mean([c is None for c in scored.chosen])), 4),
    }
    return metrics, np.array([1.0 if c == e.action else 0.0 for c, e in zip(scored.chosen, hold, strict=True)])


def _risks(churn_model: Any, hold: list[OfferExample]) -> list[float | None] | None:
    """The serving churn model's P(churn) for each hold-out caller, as the desk would pass it; None without one."""
    if churn_model is None:
        return None
    p = predict_churn(churn_model.pipeline, [e.features for e in hold], churn_model.numeric, churn_model.categorical)
    return [float(q) for q in p]


def _save(
    settings: Settings,
    model: OfferResponseModel,
    metrics: dict[str, Any],
    train: list[OfferExample],
    hold: list[OfferExample],
    horizon: int,
    status: str,
) -> str:
    with session_scope(settings.database_url) as session:
        row = register(
            OFFER_KIND,
            session=session,
            settings=settings,
            artifact=model,
            status=status,
            estimator=model.description,
            metrics=metrics,
            numeric=model.numeric,
            categorical=model.categorical,
            rows_train=len(train),
            rows_holdout=len(hold),
            data_window=(train[0].as_of, hold[-1].as_of),
            train_window=(train[0].as_of, train[-1].as_of),
            holdout_window=(hold[0].as_of, hold[-1].as_of),
            label_horizon_days=horizon,
            details={"model": model.info},
        )
        return row.version
