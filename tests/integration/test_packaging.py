"""What `pip install .` puts on a new machine: the built wheel, used from outside the checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    [built] = out.glob("retention_desk-*.whl")
    return built


def test_the_wheel_carries_everything_the_app_reads_at_run_time(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "retention_desk/seed_data/catalog.toml",
        "retention_desk/seed_data/users.toml",
        "retention_desk/seed_data/mappings/orange-telecom-churn.toml",
        "retention_desk/storage/migrations/env.py",
        "retention_desk/storage/migrations/versions/0001_initial_schema.py",
        "retention_desk/web/templates/base.html",
        "retention_desk/web/static/vendor/htmx/htmx.min.js",
        "retention_desk/translations/en/LC_MESSAGES/messages.mo",
    ):
        assert needed in names, needed


def test_an_installed_copy_finds_its_demo_files_away_from_the_checkout(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    probe = (
        "from retention_desk.services.seed_files import seed_file; "
        "from retention_desk.services.catalog.files import load_offers; "
        "print(seed_file('catalog.toml').parent.name, len(load_offers()))"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    folder, offers = done.stdout.split()
    assert folder == "seed_data" and int(offers) >= 12
