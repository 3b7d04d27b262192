"""The churn estimator: preprocessing and classifier in one scikit-learn Pipeline, saved as one artifact.

Keeping the encoders inside the saved pipeline means serving feeds it the same raw feature frame that
training did; nothing outside the artifact needs to remember category codes or scales.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder

from retention_desk.ml.encoding import MAX_CATEGORIES, MIN_CATEGORY_COUNT, logistic_encoder

# The candidates ``retrain`` measures against each other (ml/selection.py); see docs/churn-model.md.
#   logistic     one-hot + scaled numbers, L2-regularised logistic regression: additive effects, well calibrated
#   hgb          histogram gradient boosting, 15 leaves: threshold effects and interactions (real billing data)
#   hgb_shallow  heavily regularised boosting (4 leaves, 100 rows a leaf): few thousand noisy rows
#   hgb_sigmoid  ``hgb`` with a sigmoid (Platt) calibration map fitted by 3-fold cross-validation
ESTIMATORS = ("logistic", "hgb", "hgb_shallow", "hgb_sigmoid")
AUTO = "auto"
# What a caller gets without measuring: the best-calibrated candidate on the demo world.
DEFAULT_ESTIMATOR = "logistic"
CALIBRATION_FOLDS = 3
# Measured against 0.1 and 0.3 with the running-term contract end: the best hold-out calibration across demo-world
# dates (experiments/NOTEBOOK.md, "Churn model").
LOGISTIC_C = 1.0
RANDOM_STATE = 0


def build_pipeline(
    numeric: Sequence[str], categorical: Sequence[str], *, estimator: str = DEFAULT_ESTIMATOR
) -> Pipeline:
    """An unfitted pipeline over a frame with these columns (see ``features.rows_to_frame``)."""
    if estimator == "hgb":
        return _gradient_boosting(numeric, categorical, **_FLEXIBLE)
    if estimator == "hgb_shallow":
        return _gradient_boosting(numeric, categorical, **_SHALLOW)
    if estimator == "hgb_sigmoid":
        pipeline = _gradient_boosting(numeric, categorical, **_FLEXIBLE)
        model = CalibratedClassifierCV(pipeline.named_steps["model"], method="sigmoid", cv=CALIBRATION_FOLDS)
        return Pipeline([("encode", pipeline.named_steps["encode"]), ("model", model)])
    if estimator == "logistic":
        return _logistic(numeric, categorical)
    raise ValueError(f"unknown estimator {estimator!r}; choose one of {', '.join(ESTIMATORS)}")


_SHALLOW = {"learning_rate": 0.03, "max_iter": 500, "max_leaf_nodes": 4, "min_samples_leaf": 100}
# On the Orange telecom data (docs/churn-model.md) this reaches CV ROC AUC 0.91; the shallow one 0.90.
_FLEXIBLE = {"learning_rate": 0.05, "max_iter": 500, "max_leaf_nodes": 15, "min_samples_leaf": 20}


def _gradient_boosting(
    numeric: Sequence[str],
    categorical: Sequence[str],
    *,
    learning_rate: float,
    max_iter: int,
    max_leaf_nodes: int,
    min_samples_leaf: int,
) -> Pipeline:
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
        learning_rate=learning_rate,
        max_iter=max_iter,
        max_leaf_nodes=max_leaf_nodes,
        min_samples_leaf=min_samples_leaf,
        l2_regularization=1.0,
        categorical_features=list(range(len(categorical))),
        early_stopping=True,
        validation_fraction=0.15,
        n_iter_no_change=20,
        random_state=RANDOM_STATE,
    )
    return Pipeline([("encode", encode), ("model", model)])


def _logistic(numeric: Sequence[str], categorical: Sequence[str]) -> Pipeline:
    encode = logistic_encoder(numeric, categorical)
    return Pipeline([("encode", encode), ("model", LogisticRegression(C=LOGISTIC_C, max_iter=2000))])


def estimator_name(pipeline: Pipeline) -> str:
    """The classifier's class name as stored in the registry, e.g. ``CalibratedClassifierCV(sigmoid, HGB...)``."""
    model = pipeline.named_steps["model"]
    if isinstance(model, CalibratedClassifierCV):
        return f"CalibratedClassifierCV({model.method}, {type(model.estimator).__name__})"
    return type(model).__name__
