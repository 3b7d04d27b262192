"""The churn estimator: preprocessing and classifier in one scikit-learn Pipeline, saved as one artifact.

Keeping the encoders inside the saved pipeline means serving feeds it the same raw feature frame that
training did; nothing outside the artifact needs to remember category codes or scales.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

ESTIMATORS = ("hgb", "logistic")
# Measured on the seeded world (docs/churn-model.md): with a few thousand calls the logistic model ranks and
# calibrates better than gradient boosting; HGB stays available for larger, less additive data.
DEFAULT_ESTIMATOR = "logistic"
# Rare categories (and imported free-text columns) are pooled so the tree's categorical splits stay small.
MAX_CATEGORIES = 60
MIN_CATEGORY_COUNT = 20
RANDOM_STATE = 0


def build_pipeline(
    numeric: Sequence[str], categorical: Sequence[str], *, estimator: str = DEFAULT_ESTIMATOR
) -> Pipeline:
    """An unfitted pipeline over a frame with these columns (see ``features.rows_to_frame``)."""
    if estimator == "hgb":
        return _gradient_boosting(numeric, categorical)
    if estimator == "logistic":
        return _logistic(numeric, categorical)
    raise ValueError(f"unknown estimator {estimator!r}; choose one of {', '.join(ESTIMATORS)}")


def _gradient_boosting(numeric: Sequence[str], categorical: Sequence[str]) -> Pipeline:
    encode = ColumnTransformer(
        [
            (
                "categories",
                OrdinalEncoder(
                    handle_unknown="use_encoded_value",
                    unknown_value=np.nan,
                    max_categories=MAX_CATEGORIES,
                    min_frequency=MIN_CATEGORY_COUNT,
                    dtype=np.float64,
                ),
                list(categorical),
            ),
            ("numbers", "passthrough", list(numeric)),  # the trees handle NaN themselves
        ],
        verbose_feature_names_out=False,
    )
    model = HistGradientBoostingClassifier(
        learning_rate=0.03,
        max_iter=500,
        max_leaf_nodes=4,
        min_samples_leaf=100,
        l2_regularization=1.0,
        categorical_features=list(range(len(categorical))),
        early_stopping=True,
        validation_fraction=0.15,
        n_iter_no_change=20,
        random_state=RANDOM_STATE,
    )
    return Pipeline([("encode", encode), ("model", model)])


def _logistic(numeric: Sequence[str], categorical: Sequence[str]) -> Pipeline:
    encode = ColumnTransformer(
        [
            (
                "categories",
                OneHotEncoder(
                    handle_unknown="infrequent_if_exist",
                    min_frequency=MIN_CATEGORY_COUNT,
                    max_categories=MAX_CATEGORIES,
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
        ],
        verbose_feature_names_out=False,
    )
    return Pipeline([("encode", encode), ("model", LogisticRegression(C=0.3, max_iter=2000))])


def estimator_name(pipeline: Pipeline) -> str:
    """The classifier's class name, as stored in the registry."""
    return type(pipeline.named_steps["model"]).__name__
