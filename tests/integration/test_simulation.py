"""The simulator runs the desk's own call service and ranking against the ground truth, on a scratch copy."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from retention_desk.config import Settings
from retention_desk.offers import ranking
from retention_desk.services.calls import deciding
from retention_desk.simulator import run as simulation
from retention_desk.simulator.report import POLICIES, format_table, write_chart
from retention_desk.simulator.run import SimulationError, run_simulation
from retention_desk.storage.db import get_engine
from retention_desk.storage.tables import Call


def _count_calls(url: str) -> int:
    with Session(get_engine(url)) as session:
        return session.execute(select(func.count()).select_from(Call)).scalar_one()


def test_the_simulator_ranks_with_the_desk_s_own_function_and_leaves_the_database_alone(
    world_settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ranked = []
    real = ranking.rank_offers

    def spy(**kwargs):
        decision = real(**kwargs)
        ranked.append(decision)
        return decision

    # The call service is the only caller of the ranking; the simulator must go through it.
    monkeypatch.setattr(deciding, "rank_offers", spy)
    before = _count_calls(world_settings.database_url)
    report = run_simulation(settings=world_settings, days=2, calls_per_day=15, seed=3, retrain=True)

    assert len(ranked) == sum(day.policies["ours"].calls for day in report.days) == 30
    assert _count_calls(world_settings.database_url) == before  # the simulated calls went to a scratch copy
    summary = report.summary()
    assert set(summary["policies"]) == set(POLICIES)
    for figures in summary["policies"].values():
        assert {"save_rate", "durable_save_rate", "offer_cost", "net_retained_value"} <= set(figures)
        assert 0 <= figures["durable_save_rate"] <= figures["save_rate"] <= 1
    assert summary["policies"]["no_offer"]["offer_cost"] == 0 == summary["policies"]["no_offer"]["net_retained_value"]
    best = summary["policies"][summary["best_baseline"]]["net_retained_value"]
    ours = summary["policies"]["ours"]["net_retained_value"]
    assert summary["ours_minus_best_baseline"] == pytest.approx(ours - best, abs=0.02)  # each side rounded to cents
    assert summary["ours_at_least_20pct_above_best_baseline"] == (ours > best and ours - best >= 0.2 * abs(best))
    assert report.days[1].ope_estimate is not None
    for part in (summary, summary["expected"]):  # how much of "ours against the oracle" is the callers' luck
        low, high = part["ours_vs_oracle_interval"]
        assert low <= part["ours_vs_oracle"] <= high
    as_json = json.loads(json.dumps(report.as_json()))
    assert as_json["summary"]["off_policy"]["estimator"] == "switch_doubly_robust"
    assert as_json["days"][1]["off_policy"]["doubly_robust_estimate"] is not None
    assert "The whole run, 2 days (days 1–2):" in format_table(report)
    month = replace(report, days=[replace(day, day=k + 1) for k, day in enumerate(report.days * 15)])
    assert "Last 7 days (days 24–30):" in format_table(month)
    chart = tmp_path / "sim.svg"
    write_chart(report, chart)
    assert chart.read_text().lstrip().startswith("<?xml")


def test_same_seed_same_figures(world_settings: Settings) -> None:
    first = run_simulation(settings=world_settings, days=1, calls_per_day=10, seed=5, retrain=False)
    again = run_simulation(settings=world_settings, days=1, calls_per_day=10, seed=5, retrain=False)
    assert first.summary()["policies"] == again.summary()["policies"]


def test_a_database_without_a_world_is_refused(settings: Settings) -> None:
    with pytest.raises(SimulationError, match="no seeded synthetic world"):
        run_simulation(settings=settings, days=1, calls_per_day=5)


def test_nonsense_sizes_are_refused(world_settings: Settings) -> None:
    with pytest.raises(SimulationError, match="days"):
        run_simulation(settings=world_settings, days=0, calls_per_day=5)


def test_the_nightly_off_policy_estimate_rests_on_the_last_days_calls_only(
    world_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = []
    real = simulation.estimate_serving_policy

    def spy(settings, logged):
        seen.append(len(logged))
        return real(settings, logged)

    monkeypatch.setattr(simulation, "OPE_WINDOW_DAYS", 2)
    monkeypatch.setattr(simulation, "estimate_serving_policy", spy)
    run_simulation(settings=world_settings, days=3, calls_per_day=6, seed=4, retrain=False)
    assert seen == [6, 12, 12]


def test_the_day_after_a_retrain_is_served_by_the_night_s_champion_from_its_first_call(
    world_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A serving cache that would keep the old champion all day: the simulated night must still hand over.
    settings = replace(world_settings, extra={**world_settings.extra, "model_recheck_seconds": 3600.0})
    nights, served = [], []
    real_retrain, real_start = simulation.retrain_offer_model, simulation.start_call

    def retrain(**kwargs):  # the test world is small: train and promote whatever it holds
        result = real_retrain(**kwargs, min_decisions=50, force=True)
        nights.append(result)
        return result

    def start(**kwargs):
        state = real_start(**kwargs)
        served.append((kwargs["now"].date(), state.call.offer_model_version))
        return state

    monkeypatch.setattr(simulation, "retrain_offer_model", retrain)
    monkeypatch.setattr(simulation, "start_call", start)
    report = run_simulation(settings=settings, days=2, calls_per_day=8, seed=6, retrain=True)
    assert nights[0].decision == "promoted" and nights[0].new_version
    day_two = {version for day, version in served if day == report.days[1].date}
    assert day_two == {nights[0].new_version}


def test_the_scratch_run_starts_from_the_served_models_and_leaves_their_folder_alone(
    world_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    def files() -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in Path(world_settings.model_dir).glob("*") if p.is_file()}

    before = files()
    assert before, "the test world serves a model"
    with caplog.at_level("WARNING", logger="retention_desk"):
        run_simulation(settings=world_settings, days=1, calls_per_day=5, seed=2, retrain=True)
    assert files() == before
    # The scratch copy found the model files in place; it did not have to rebuild them from the database copy.
    assert not [r for r in caplog.records if "restored it from the database copy" in r.getMessage()]
