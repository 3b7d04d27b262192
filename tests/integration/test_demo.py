"""`retention-desk demo` as a new user runs it: a fresh folder, no configuration, a real server process."""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

READY_WITHIN_SECONDS = 90


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_demo(folder: Path, port: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETENTION_DESK_")}
    return subprocess.Popen(
        [sys.executable, "-m", "retention_desk", "demo", "--accounts", "3000", "--port", str(port)],
        cwd=folder,
        env={**env, "PYTHONPATH": str(Path(__file__).parents[2])},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def wait_ready(base: str, process: subprocess.Popen) -> float:
    started = time.monotonic()
    while time.monotonic() - started < READY_WITHIN_SECONDS:
        assert process.poll() is None, process.stdout.read()
        try:
            with urllib.request.urlopen(base + "readyz", timeout=2) as response:
                if response.status == 200:
                    return time.monotonic() - started
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise AssertionError(f"/readyz did not answer 200 within {READY_WITHIN_SECONDS} s")


def stop(process: subprocess.Popen) -> str:
    os.killpg(process.pid, signal.SIGINT)
    try:
        out, _ = process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, _ = process.communicate()
    return out


class Browser:
    """Just enough of a browser: cookies, the CSRF token from the form, form posts."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path.lstrip("/"), timeout=10) as response:
            return response.read().decode()

    def post_form(self, path: str, fields: dict[str, str]) -> str:
        page = self.get(path)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
            r'value="([^"]+)"[^>]*name="csrf_token"', page
        )
        assert token, "the form carries a CSRF token"
        data = urllib.parse.urlencode({**fields, "csrf_token": token.group(1)}).encode()
        with self.opener.open(self.base + path.lstrip("/"), data=data, timeout=10) as response:
            return response.read().decode()


def test_the_demo_serves_a_working_desk_from_an_empty_folder(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    process = start_demo(tmp_path, port)
    try:
        wait_ready(base, process)
        with urllib.request.urlopen(base + "healthz", timeout=2) as response:
            assert response.status == 200

        db = sqlite3.connect(tmp_path / "instance" / "retention_desk.sqlite3")
        first, last, phone = db.execute(
            "SELECT first_name, last_name, phone_normalised FROM accounts WHERE phone_normalised LIKE '+47%' LIMIT 1"
        ).fetchone()
        db.close()

        browser = Browser(base)
        browser.post_form("login", {"username": "agent", "password": "agent-demo-1"})
        local = phone.removeprefix("+47")
        spaced = f"{local[:3]} {local[3:5]} {local[5:]}"
        for typed in (spaced, f"+47 {spaced}"):
            page = browser.get("desk/search?" + urllib.parse.urlencode({"q": typed}))
            assert last in page and first in page
    finally:
        output = stop(process)
    assert "http://127.0.0.1" in output
    assert "agent-demo-1" in output

    # Run again: the demo reuses what it made.
    process = start_demo(tmp_path, port)
    try:
        wait_ready(base, process)
    finally:
        output = stop(process)
    assert "Reusing the existing demo world" in output
