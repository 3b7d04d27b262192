"""``retention-desk models``: the model registry from the command line."""

from __future__ import annotations

import click


@click.group("models")
def models_group() -> None:
    """Inspect, evaluate and promote churn models."""
