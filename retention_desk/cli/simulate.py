"""``retention-desk simulate``: our offer policy against baselines and the oracle on the synthetic world."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from types import FrameType

import click

from retention_desk.cli.common import migrated_settings


@click.command("simulate")
@click.option("--days", type=click.IntRange(1, 365), default=30, show_default=True, help="Simulated days.")
@click.option(
    "--calls-per-day", type=click.IntRange(1, 5000), default=200, show_default=True, help="Cancel calls per day."
)
@click.option("--seed", type=int, default=1, show_default=True, help="Seed for callers, dice and exploration.")
@click.option(
    "--chart",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("simulation.svg"),
    show_default=True,
    help="Where to write the chart (.svg or .png).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON instead of a table.")
@click.option(
    "--label-horizon-days",
    type=click.IntRange(1, 365),
    default=90,
    show_default=True,
    help="Days after a call before the nightly job counts it as stayed (shorter: the run learns from itself sooner).",
)
@click.option("--no-retrain", is_flag=True, help="Keep today's models all along instead of retraining nightly.")
@click.option(
    "--in-place",
    is_flag=True,
    help="Write the simulated calls into the configured database instead of a scratch copy (use a scratch database).",
)
def simulate_command(
    days: int,
    calls_per_day: int,
    seed: int,
    chart: Path,
    as_json: bool,
    label_horizon_days: int,
    no_retrain: bool,
    in_place: bool,
) -> None:
    """Run the desk's ranking, logging and nightly retraining against the synthetic world's ground truth."""
    from retention_desk.simulator.report import format_table, write_chart
    from retention_desk.simulator.run import SimulationError, run_simulation

    if chart.suffix.lower() not in (".svg", ".png"):
        raise click.BadParameter("the chart file must end in .svg or .png", param_hint="--chart")
    settings = migrated_settings(need_models=True)

    def show(day: int, line: str) -> None:
        click.echo(f"[{day}/{days}] {line}", err=True)

    def stop(signum: int, _frame: FrameType | None) -> None:
        # A plain SIGTERM would end the process without unwinding, leaving the scratch copy behind.
        click.echo("Stopped; the scratch copy of the database is removed.", err=True)
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    try:
        report = run_simulation(
            settings=settings,
            days=days,
            calls_per_day=calls_per_day,
            seed=seed,
            retrain=not no_retrain,
            in_place=in_place,
            label_horizon_days=label_horizon_days,
            progress=show,
        )
    except SimulationError as exc:
        click.echo(f"Error: {exc}", err=True)
        raise SystemExit(2) from None
    write_chart(report, chart)
    if as_json:
        click.echo(json.dumps({**report.as_json(), "chart": str(chart)}, indent=2))
    else:
        click.echo(format_table(report))
        click.echo(f"\nChart written to {chart}.")
