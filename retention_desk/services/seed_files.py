"""Where the demo data files live: the repository's seed/ folder, or the copy installed with the package."""

from __future__ import annotations

from pathlib import Path

from retention_desk.config import ConfigError


def seed_dir() -> Path:
    """seed/ next to the source when running from a checkout, else the copy installed as retention_desk/seed_data."""
    package = Path(__file__).resolve().parents[1]  # retention_desk/
    for candidate in (package.parent / "seed", package / "seed_data"):
        if (candidate / "catalog.toml").is_file():
            return candidate
    raise ConfigError("The demo data files (seed/catalog.toml) are missing from this installation; reinstall it.")


def seed_file(name: str) -> Path:
    return seed_dir() / name
