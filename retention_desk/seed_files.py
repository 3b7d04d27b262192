"""Where the demo data files live: the repository's seed/ folder, or the copy installed with the package."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import retention_desk


def seed_dir() -> Path:
    """The seed/ folder next to the source when running from a checkout, else the installed package data."""
    checkout = Path(retention_desk.__file__).resolve().parent.parent / "seed"
    if (checkout / "catalog.toml").is_file():
        return checkout
    return Path(str(resources.files("retention_desk.seed_data")))


def seed_file(name: str) -> Path:
    return seed_dir() / name
