"""The compiled churn scorer gives scikit-learn's own probabilities, from feature dicts, without DataFrames."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, OrdinalEncoder

from retention_desk.ml.features import rows_to_frame
from retention_desk.ml.pipeline import build_pipeline
from retention_desk.ml.scorer import TOLERANCE, compile_scorer

# x_never_set has no value in training: the logistic pipeline keeps it (imputed), the trees cannot bin it.
NUMERIC = ["tenure_months", "monthly_charge", "bill_change_3m", "outages_90d", "x_total_day_minutes", "x_never_set"]
TREE_NUMERIC = NUMERIC[:-1]
CATEGORICAL = ["contract_type", "plan_code", "region", "x_state"]


def _rows(n: int, seed: int) -> tuple[list[dict], np.ndarray]:
    """Accounts with common, rare (pooled) and many-valued categories, missing numbers and an imported extra."""
    rng = random.Random(seed)
    rows, y = [], []
    for _ in range(n):
        contract = rng.choice(["month_to_month", "one_year", "two_year"])
        row = {
            "tenure_months": rng.uniform(0, 200),
            "monthly_charge": rng.choice([299.0, 499.0, 799.0, 999.0]),
            "bill_change_3m": math.nan if rng.random() < 0.2 else rng.uniform(0.8, 1.3),
            "outages_90d": float(rng.randint(0, 4)),
            "x_total_day_minutes": rng.gauss(180, 50),
            "contract_type": contract,
            # A few plans are rare enough to be pooled as "infrequent".
            "plan_code": rng.choice(["TV_S", "TV_M", "BB_100", "BB_300"] * 20 + ["RARE_1", "RARE_2", "RARE_3"]),
            "region": rng.choice(["Oslo", "Bergen", "Trondheim", None]),
            "x_state": f"S{rng.randint(0, 79):02d}",  # more values than max_categories
        }
        rows.append(row)
        risk = 0.6 if contract == "month_to_month" else 0.2
        risk += 0.1 * row["outages_90d"] - row["tenure_months"] / 1000
        y.append(int(rng.random() < min(max(risk, 0.02), 0.98)))
    return rows, np.array(y)


def _numeric(estimator: str) -> list[str]:
    return NUMERIC if estimator == "logistic" else TREE_NUMERIC


def _fitted(estimator: str, rows: list[dict], y: np.ndarray) -> Pipeline:
    pipeline = build_pipeline(_numeric(estimator), CATEGORICAL, estimator=estimator)
    pipeline.fit(rows_to_frame(rows, _numeric(estimator), CATEGORICAL), y)
    return pipeline


def _serving_rows() -> list[dict]:
    """Rows a desk could meet: unseen plans, missing fields, NaNs, text in a number, rare categories."""
    rows, _ = _rows(60, seed=99)
    rows[0]["plan_code"] = "PLAN_LAUNCHED_YESTERDAY"
    rows[1]["x_state"] = "ZZ"
    rows[2] = {"contract_type": "one_year"}  # almost nothing known
    rows[3]["monthly_charge"] = None
    rows[4]["tenure_months"] = "unknown"
    rows[5]["plan_code"] = "RARE_2"
    rows[6]["region"] = "  "
    rows[7]["x_never_set"] = 3.0  # all-missing in training, present now
    rows[8]["bill_change_3m"] = math.nan
    return rows


def _sklearn(pipeline: Pipeline, rows: list[dict], numeric: list[str] = NUMERIC) -> np.ndarray:
    return pipeline.predict_proba(rows_to_frame(rows, numeric, CATEGORICAL))[:, 1]


@pytest.fixture(scope="module")
def training() -> tuple[list[dict], np.ndarray]:
    return _rows(1500, seed=3)


@pytest.mark.parametrize("estimator", ["logistic", "hgb"])
def test_the_compiled_scorer_gives_scikit_learns_probabilities(training, estimator):
    pipeline = _fitted(estimator, *training)
    scorer = compile_scorer(pipeline, _numeric(estimator), CATEGORICAL)
    assert scorer.lean, scorer.note
    rows = _serving_rows()
    assert np.max(np.abs(scorer.score(rows) - _sklearn(pipeline, rows, _numeric(estimator)))) <= TOLERANCE


@pytest.mark.parametrize("estimator", ["logistic", "hgb"])
def test_the_compiled_matrix_is_the_fitted_column_transformer_output(training, estimator):
    pipeline = _fitted(estimator, *training)
    scorer = compile_scorer(pipeline, _numeric(estimator), CATEGORICAL)
    rows = _serving_rows()
    expected = pipeline[:-1].transform(rows_to_frame(rows, _numeric(estimator), CATEGORICAL))
    expected = expected.toarray() if hasattr(expected, "toarray") else expected
    np.testing.assert_allclose(scorer.matrix(rows), expected, rtol=0, atol=1e-12)


def test_rare_and_unseen_plans_are_scored_as_the_pooled_category(training):
    pipeline = _fitted("logistic", *training)
    assert pipeline[0].named_transformers_["categories"].infrequent_categories_[1] is not None
    scorer = compile_scorer(pipeline, NUMERIC, CATEGORICAL)
    base = _serving_rows()[10]
    rare, unseen = dict(base, plan_code="RARE_1"), dict(base, plan_code="NEVER_SEEN")
    p_rare, p_unseen = scorer.score([rare, unseen])
    assert p_rare == pytest.approx(p_unseen, abs=1e-12)


def test_a_calibrated_gradient_boosting_model_is_scored_through_its_own_predict_proba(training):
    rows, y = training
    encode = build_pipeline(TREE_NUMERIC, CATEGORICAL, estimator="hgb")
    model = CalibratedClassifierCV(encode.named_steps["model"], method="sigmoid", cv=3)
    pipeline = Pipeline([("encode", encode.named_steps["encode"]), ("model", model)])
    pipeline.fit(rows_to_frame(rows, TREE_NUMERIC, CATEGORICAL), y)
    scorer = compile_scorer(pipeline, TREE_NUMERIC, CATEGORICAL)
    assert scorer.lean, scorer.note
    served = _serving_rows()
    assert np.max(np.abs(scorer.score(served) - _sklearn(pipeline, served, TREE_NUMERIC))) <= TOLERANCE


def test_an_unsupported_step_falls_back_to_scikit_learn_and_says_why(training):
    rows, y = training
    encode = ColumnTransformer(
        [
            ("categories", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan), CATEGORICAL),
            ("numbers", FunctionTransformer(np.log1p), TREE_NUMERIC),
        ]
    )
    pipeline = Pipeline([("encode", encode), ("model", HistGradientBoostingClassifier(max_iter=20))])
    pipeline.fit(rows_to_frame(rows, TREE_NUMERIC, CATEGORICAL), y)
    scorer = compile_scorer(pipeline, TREE_NUMERIC, CATEGORICAL)
    assert not scorer.lean
    assert "FunctionTransformer" in scorer.note
    served = _serving_rows()
    np.testing.assert_array_equal(scorer.score(served), _sklearn(pipeline, served, TREE_NUMERIC))


def test_a_one_hot_encoder_that_ignores_unseen_values_sets_no_column(training):
    rows, y = training
    encode = build_pipeline(NUMERIC, CATEGORICAL, estimator="logistic")
    encode.set_params(encode__categories=OneHotEncoder(handle_unknown="ignore"))
    encode.fit(rows_to_frame(rows, NUMERIC, CATEGORICAL), y)
    scorer = compile_scorer(encode, NUMERIC, CATEGORICAL)
    assert scorer.lean, scorer.note
    served = _serving_rows()
    assert np.max(np.abs(scorer.score(served) - _sklearn(encode, served))) <= TOLERANCE


def test_no_rows_score_to_an_empty_array(training):
    scorer = compile_scorer(_fitted("logistic", *training), NUMERIC, CATEGORICAL)
    assert scorer.score([]).shape == (0,)
