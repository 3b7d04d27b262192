"""The logistic encoding both models share: one-hot categories, imputed and scaled numbers.

The churn pipeline (``pipeline.build_pipeline("logistic")``) and the offer model's stay part read accounts the same
way, so one builder makes both encoders and a change to one reaches the other. The offer model adds its cancel
reason as one more category column and asks for log twins of its count-like numbers (``logged``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

# Rare categories (and imported free-text columns) are pooled, so a one-hot block stays small.
MAX_CATEGORIES = 60
MIN_CATEGORY_COUNT = 20

__all__ = ["MAX_CATEGORIES", "MIN_CATEGORY_COUNT", "log1p_floor", "logistic_encoder", "skewed_counts"]


def logistic_encoder(
    numeric: Sequence[str], categorical: Sequence[str], *, logged: Sequence[str] | None = None
) -> ColumnTransformer:
    """An unfitted encoder of these columns; with ``logged``, each of those numbers also gets a log twin.

    With both x and log(1 + x) a linear model can draw an effect that is steep at first and then levels off: the
    first months of tenure, the first faults (experiments/NOTEBOOK.md, "the stay part"). A number and its twin share a
    column name, so with twins the output names carry their block's prefix (``numbers__``, ``logs__``).
    """
    parts = [
        (
            "categories",
            OneHotEncoder(
                handle_unknown="infrequent_if_exist", min_frequency=MIN_CATEGORY_COUNT, max_categories=MAX_CATEGORIES
            ),
            list(categorical),
        ),
        (
            "numbers",
            Pipeline(
                [
                    ("impute", SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)),
                    ("scale", StandardScaler()),
                ]
            ),
            list(numeric),
        ),
    ]
    if logged is None:
        return ColumnTransformer(parts, verbose_feature_names_out=False)
    twins = Pipeline(
        [
            ("log", FunctionTransformer(log1p_floor, feature_names_out="one-to-one")),
            ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
            ("scale", StandardScaler()),
        ]
    )
    return ColumnTransformer([*parts, ("logs", twins, list(logged))], verbose_feature_names_out=True)


def log1p_floor(values: np.ndarray) -> np.ndarray:
    """log(1 + x), a serving value below training's floor of 0 counting as 0 (saved inside fitted encoders)."""
    return np.log1p(np.clip(values, 0.0, None))


def skewed_counts(frame: pd.DataFrame, numeric: Sequence[str]) -> list[str]:
    """The numbers that get a log twin: never negative in training and more than a yes/no (tenure, faults, usage)."""
    return [c for c in numeric if frame[c].min() >= 0 and frame[c].nunique() > 2]
