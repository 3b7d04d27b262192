"""``retention-desk catalog export|load``: the catalog goes out to a file and back, and a bad file changes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import tomli_w
from sqlmodel import Session

from retention_desk.services.audit import list_events
from retention_desk.services.catalog.files import load_offers
from retention_desk.services.catalog.store import offers_in_database
from retention_desk.services.seed_files import seed_file
from retention_desk.storage.db import get_engine

ROOT = Path(__file__).parents[2]


@pytest.fixture()
def cli(db_url: str, tmp_path: Path):  # noqa: ANN201
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETENTION_DESK_")}
    env.update(
        {
            "RETENTION_DESK_DATABASE_URL": db_url,
            "RETENTION_DESK_MODEL_DIR": str(tmp_path / "models"),
            "RETENTION_DESK_INSTANCE_PATH": str(tmp_path / "instance"),
            "RETENTION_DESK_SECRET_KEY": "3c1f0a9e8d7c6b5a4f3e2d1c0b9a8f7e",
        }
    )

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "retention_desk", "catalog", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=ROOT,
        )

    return run


def stored(db_url: str) -> list:
    with Session(get_engine(db_url)) as session:
        return offers_in_database(session=session)


def edited_copy(tmp_path: Path, name: str, *, drop: str | None = None, **changes: dict) -> Path:
    data = tomllib.loads(seed_file("catalog.toml").read_text(encoding="utf-8"))
    data["offers"] = [o for o in data["offers"] if o["code"] != drop]
    for offer in data["offers"]:
        offer.update(changes.get(offer["code"], {}))
    path = tmp_path / name
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


def assert_refused_in_one_sentence(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0]


def test_loading_the_seed_catalog_then_exporting_it_gives_the_same_offers(cli, db_url: str, tmp_path: Path) -> None:
    loaded = cli("load", str(seed_file("catalog.toml")))
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "Catalog loaded: 14 new, 0 changed, 0 unchanged offers."
    exported = cli("export", str(tmp_path / "out.toml"))
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.strip() == f"Exported 14 offers to {tmp_path / 'out.toml'}."
    assert load_offers(tmp_path / "out.toml") == load_offers() == stored(db_url)


def test_a_changed_file_updates_only_what_changed_and_says_what_it_left_alone(cli, db_url: str, tmp_path: Path) -> None:
    assert cli("load", str(seed_file("catalog.toml"))).returncode == 0
    path = edited_copy(tmp_path, "edited.toml", drop="PAUSE3", DISC10={"cost_amount": 75})
    result = cli("load", str(path), "--actor", "kari")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "Catalog loaded: 0 new, 1 changed, 12 unchanged offers. Left as they are (not in the file): PAUSE3."
    )
    with Session(get_engine(db_url)) as session:
        [event] = list_events(session=session, action="offer_updated")
    assert (event.actor_name, event.entity_id, event.after) == ("kari", "DISC10", {"cost_amount": "75.00"})
    assert {o.code for o in stored(db_url)} == {o.code for o in load_offers()}


def test_a_bad_file_names_the_offer_and_field_and_changes_nothing(cli, db_url: str, tmp_path: Path) -> None:
    assert cli("load", str(seed_file("catalog.toml"))).returncode == 0
    before = stored(db_url)
    # The first offer's change is valid; the second one's is not: neither may be stored.
    path = edited_copy(tmp_path, "bad.toml", DISC10={"cost_amount": 75}, DISC20={"rules": {"min_age": 30}})
    assert_refused_in_one_sentence(cli("load", str(path)), "offer DISC20", "'rules.min_age'")
    assert stored(db_url) == before


@pytest.mark.parametrize(
    ("content", "words"),
    [(None, ("no such file",)), ("[[offers]\ncode = ", ("not valid TOML",)), (b"\xff\xfe\x00", ("not a UTF-8",))],
)
def test_a_missing_or_unreadable_file_is_one_sentence(cli, tmp_path: Path, content, words) -> None:
    path = tmp_path / "catalog.toml"
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    elif isinstance(content, bytes):
        path.write_bytes(content)
    assert_refused_in_one_sentence(cli("load", str(path)), str(path), *words)


def test_an_export_to_a_folder_that_does_not_exist_is_one_sentence(cli, tmp_path: Path) -> None:
    target = tmp_path / "missing" / "out.toml"
    assert_refused_in_one_sentence(cli("export", str(target)), "cannot write the file")
