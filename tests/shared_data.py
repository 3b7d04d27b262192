"""The public churn data sets that sit beside the repository (../shared/data), when this machine has them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
DATA = Path(os.environ.get("RETENTION_DESK_SHARED_DATA", ROOT.parent / "shared" / "data"))
ORANGE = DATA / "orange-telecom-churn"
ORANGE_80, ORANGE_20 = ORANGE / "churn-bigml-80.csv", ORANGE / "churn-bigml-20.csv"
IRANIAN = DATA / "iranian-churn" / "customer_churn.csv"
ORANGE_MAPPING = ROOT / "seed" / "mappings" / "orange-telecom-churn.toml"

needs_shared_data = pytest.mark.skipif(
    not ORANGE.is_dir(), reason=f"the public churn data is not at {DATA} (set RETENTION_DESK_SHARED_DATA)"
)
