"""Hold-out metrics say how well risk is ranked and how honest the probabilities are."""

from __future__ import annotations

import math

import numpy as np
import pytest

from retention_desk.ml.evaluate import (
    brier,
    evaluate_probabilities,
    expected_calibration_error,
    roc_auc,
    top_decile_lift,
)


def test_a_perfect_ranking_has_an_auc_of_one_and_a_reversed_one_zero():
    y = [0, 0, 1, 1]
    assert roc_auc(y, [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert roc_auc(y, [0.9, 0.8, 0.2, 0.1]) == 0.0


def test_auc_is_undefined_when_everyone_stayed():
    assert math.isnan(roc_auc([0, 0, 0], [0.1, 0.2, 0.3]))
    assert evaluate_probabilities([0, 0, 0], [0.1, 0.2, 0.3])["roc_auc"] is None


def test_calibrated_probabilities_have_a_small_calibration_error():
    rng = np.random.default_rng(3)
    p = rng.uniform(0, 1, 200_000)
    y = (rng.uniform(0, 1, p.size) < p).astype(int)
    assert expected_calibration_error(y, p) < 0.01
    assert expected_calibration_error(y, np.clip(p + 0.2, 0, 1)) > 0.1


def test_calibration_error_weighs_bins_by_their_size():
    # Two bins: 0.05 predicted where 0 % churned (3 rows), 0.95 where 100 % churned (1 row).
    assert expected_calibration_error([0, 0, 0, 1], [0.05, 0.05, 0.05, 0.95]) == pytest.approx(0.05)


def test_brier_score_is_the_mean_squared_error():
    assert brier([0, 1], [0.2, 0.6]) == pytest.approx((0.04 + 0.16) / 2)


def test_top_decile_lift_compares_the_riskiest_tenth_with_the_base_rate():
    y = [1] * 10 + [0] * 90
    p = list(np.linspace(1, 0, 100))
    assert top_decile_lift(y, p) == pytest.approx(10.0)
    assert top_decile_lift([1, 0] * 50, [0.5] * 100) == pytest.approx(1.0)


def test_mismatched_lengths_are_rejected():
    with pytest.raises(ValueError):
        brier([0, 1], [0.5])
