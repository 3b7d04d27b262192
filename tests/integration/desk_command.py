"""The real ``retention-desk`` command in a process of its own, in a folder of its own, on a test's database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]
SECRET = "3c1f0a9e8d7c6b5a4f3e2d1c0b9a8f7e"


class DeskCommand:
    """Runs ``retention-desk ARGS`` with this database; files it writes by default land in ``folder``."""

    def __init__(self, db_url: str, tmp_path: Path) -> None:
        self.folder = tmp_path / "work"
        self.folder.mkdir(exist_ok=True)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("RETENTION_DESK_")}
        self.env.update(
            {
                "RETENTION_DESK_DATABASE_URL": db_url,
                "RETENTION_DESK_MODEL_DIR": str(tmp_path / "models"),
                "RETENTION_DESK_INSTANCE_PATH": str(tmp_path / "instance"),
                "RETENTION_DESK_SECRET_KEY": SECRET,
                "PYTHONPATH": str(ROOT),
            }
        )

    def __call__(self, *args: str, stdin: str | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "retention_desk", *args]
        return subprocess.run(
            command, env=self.env, cwd=self.folder, input=stdin, capture_output=True, text=True, timeout=timeout
        )
