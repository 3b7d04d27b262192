"""``retention-desk retrain`` (the nightly job) and ``retention-desk models`` (the model registry)."""

from __future__ import annotations

import json
import sys

import click

from retention_desk.cli.common import migrated_settings
from retention_desk.cli.progress import progress_shown
from retention_desk.config import Settings


@click.command("retrain")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary on stdout.")
@click.option("--force", is_flag=True, help="Promote the new model even if it is worse than the champion.")
@click.option("--dry-run", is_flag=True, help="Train, evaluate and report, but write nothing (no file, no row).")
@click.option(
    "--horizon-days",
    type=click.IntRange(1, 3650),
    default=None,
    help="Label horizon: a call is a save only if the account is active and paying this many days later "
    "(default: RETENTION_DESK_LABEL_HORIZON_DAYS, else 90).",
)
@click.option(
    "--tolerance",
    type=click.FloatRange(min=0),
    default=0.005,
    show_default=True,
    help="Promote unless the new model's hold-out log loss is worse than the champion's by more than this.",
)
@click.option("--quiet", is_flag=True, help="No progress on stderr.")
def retrain_command(
    as_json: bool, force: bool, dry_run: bool, horizon_days: int | None, tolerance: float, quiet: bool
) -> None:
    """The nightly job: train on logged outcomes, compare with the champion, promote or keep; says which and why.

    Exit codes: 0 finished (promoted or kept), 2 failed (e.g. too little data), 3 another retrain is running.
    """
    from retention_desk.services.models.nightly import LockBusy, run_nightly

    settings = migrated_settings(need_models=True)
    try:
        result, offer = run_nightly(
            settings=settings,
            progress=progress_shown(quiet),
            horizon_days=horizon_days,
            tolerance=tolerance,
            force=force,
            dry_run=dry_run,
        )
    except LockBusy as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(3)
    if as_json:
        click.echo(json.dumps({**result.summary(), "offer_model": offer.summary()}, indent=2, default=str))
    else:
        click.echo(result.describe())
        click.echo(offer.describe())


@click.group("models")
def models_group() -> None:
    """Inspect, evaluate and promote models (churn and offer-response)."""


def _settings() -> Settings:
    return migrated_settings(need_models=True)


@models_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable list.")
@click.option(
    "--kind",
    type=click.Choice(["all", "churn", "offer_response"]),
    default="all",
    show_default=True,
    help="Which models to list.",
)
def models_list(as_json: bool, kind: str) -> None:
    """Every model version, newest first: kind, status, estimator, hold-out metrics, and whether serving accepts it."""
    from retention_desk.services.models.registry import list_model_versions

    settings = _settings()
    versions = list_model_versions(settings=settings, kind=None if kind == "all" else kind)
    if as_json:
        click.echo(json.dumps([v.as_dict() for v in versions], indent=2, default=str))
        return
    if not versions:
        click.echo("No models yet; run 'retention-desk retrain'.")
        return
    click.echo(
        f"{'version':<24} {'kind':<14} {'status':<10} {'created (UTC)':<16} {'estimator':<26} {'AUC':>6} {'ECE':>6} "
        f"{'rows':>7} sha256"
    )
    for v in versions:
        click.echo(
            f"{v.version:<24} {v.kind:<14} {v.status:<10} {v.created_at:%Y-%m-%d %H:%M} {v.estimator[:26]:<26} "
            f"{_num(v.roc_auc):>6} {_num(v.ece):>6} {v.rows:>7} {v.sha256[:12]}"
            + (f"  REFUSED: {v.refused}" if v.refused else "")
        )


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


@models_group.command("promote")
@click.argument("version")
def models_promote(version: str) -> None:
    """Make VERSION the champion (also rolls back to a retired one) after checking its hash and sklearn version."""
    from retention_desk.services.models.registry import PromotionError, promote_model

    settings = _settings()
    try:
        outcome = promote_model(settings=settings, version=version, actor_name="cli")
    except PromotionError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    click.echo(outcome.describe())


@models_group.command("evaluate")
@click.option("--cv", "folds", type=click.IntRange(2, 20), default=5, show_default=True, help="Number of folds.")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable report.")
@click.option("--horizon-days", type=click.IntRange(1, 3650), default=None, help="Label horizon (see retrain).")
@click.option("--quiet", is_flag=True, help="No progress on stderr.")
def models_evaluate(folds: int, as_json: bool, horizon_days: int | None, quiet: bool) -> None:
    """Cross-validated metrics of every candidate estimator, and of the one retrain would choose."""
    from retention_desk.services.models.nightly import evaluate_candidates

    settings = _settings()
    report = evaluate_candidates(
        settings=settings, folds=folds, progress=progress_shown(quiet), horizon_days=horizon_days
    )
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
        return
    click.echo(
        f"{report.folds}-fold stratified cross-validation (seed {report.seed}) on {report.rows} labelled rows, "
        f"churn rate {report.positive_rate:.3f}:"
    )
    click.echo(f"{'estimator':<14} {'ROC AUC':>15} {'log loss':>9} {'Brier':>7} {'ECE':>7} {'lift@10%':>9}")
    for name, m in report.summary().items():
        auc = m["roc_auc"]
        auc_text = "n/a" if auc["mean"] is None else f"{auc['mean']:.3f} ± {auc['sd']:.3f}"
        click.echo(
            f"{name:<14} {auc_text:>15} {_num(m['log_loss']['mean']):>9} {_num(m['brier']['mean']):>7} "
            f"{_num(m['ece']['mean']):>7} {_num(m['top_decile_lift']['mean']):>9}"
        )
    click.echo(f"chosen in each fold: {', '.join(report.chosen_in_fold)}")
