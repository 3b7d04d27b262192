"""``retention-desk simulate`` as an operator runs it: a real process, stopped midway."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest

from tests.integration.cli_world import ROOT, cli_env, command, run_cli, seed_template

pytestmark = pytest.mark.slow


def test_a_stopped_simulation_removes_its_scratch_copy(tmp_path: Path) -> None:
    seed_template(tmp_path)
    env = cli_env(tmp_path)
    assert run_cli("retrain", "--quiet", env=env).returncode == 0
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env["TMPDIR"] = str(scratch)
    run = subprocess.Popen(
        command("simulate", "--days", "30", "--calls-per-day", "20", "--chart", str(tmp_path / "sim.svg")),
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert run.stderr is not None
        first_day = run.stderr.readline()  # the first simulated day is done: the scratch copy is in use
        assert first_day.startswith("[1/30]"), first_day
        assert [p.name for p in scratch.iterdir() if p.name.startswith("retention-desk-sim-")]
        run.send_signal(signal.SIGTERM)
        rest = run.stderr.read()
        assert run.wait(timeout=60) == 128 + signal.SIGTERM
    finally:
        run.kill()
    assert "Stopped" in rest
    assert not [p for p in scratch.iterdir() if p.name.startswith("retention-desk-sim-")]
