"""A seeded world on disk for command-line tests: seeded once per run, copied for each test."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]
SECRET = "3c1f0a9e8d7c6b5a4f3e2d1c0b9a8f7e"
CLI_WORLD_ACCOUNTS = "3000"


def cli_env(folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETENTION_DESK_")}
    env.update(
        {
            "RETENTION_DESK_DATABASE_URL": f"sqlite:///{folder / 'desk.sqlite3'}",
            "RETENTION_DESK_MODEL_DIR": str(folder / "models"),
            "RETENTION_DESK_INSTANCE_PATH": str(folder / "instance"),
            "RETENTION_DESK_SECRET_KEY": SECRET,
        }
    )
    return env


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "retention_desk", *args]


def run_cli(*args: str, env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(command(*args), env=env, capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def seed_template(folder: Path) -> Path:
    """Seed a small world once (seed 7, fixed date); returns its database file."""
    done = run_cli(
        "seed", "--accounts", CLI_WORLD_ACCOUNTS, "--seed", "7", "--as-of", "2026-11-26", "--quiet", env=cli_env(folder)
    )
    assert done.returncode == 0, done.stderr
    return folder / "desk.sqlite3"


def copy_world(template: Path, folder: Path) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, folder / "desk.sqlite3")
    return cli_env(folder)
