"""A lean scorer compiled from a fitted churn pipeline: the same probabilities, without per-call DataFrames.

A one-row ``predict_proba`` through the Pipeline spends milliseconds building and validating a DataFrame and
walking the ColumnTransformer; the arithmetic takes microseconds. The desk scores one account and its offer
variants per screen, so the fitted preprocessing is replayed here in plain numpy from the encoders' public
fitted attributes (``categories_``, ``infrequent_categories_``, ``statistics_``, ``mean_``/``scale_``), and a
logistic regression is evaluated directly. Any other final estimator gets one ``predict_proba`` call on the
numpy matrix for all rows. On compile the result is checked against scikit-learn's own probabilities; when
anything is unsupported or disagrees, the scorer falls back to the plain (batched) scikit-learn path.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import expit
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, OrdinalEncoder, StandardScaler
from threadpoolctl import ThreadpoolController

from retention_desk.ml.features import MISSING, Feature, rows_to_frame

TOLERANCE = 1e-9
CHECK_ROWS = 96
CHECK_SEED = 20261126
UNSEEN_CATEGORY = "\u2400unseen"  # a value no encoder was fitted on
log = logging.getLogger(__name__)
_controller: list[ThreadpoolController] = []

Rows = Sequence[Mapping[str, Feature]]


class Unsupported(Exception):
    """The fitted pipeline holds a part the lean scorer does not replay; the message says which."""


@dataclass(frozen=True)
class _Categories:
    """One encoder over text columns: for each column, value -> output position (or code)."""

    columns: tuple[str, ...]
    lookups: tuple[dict[str, int], ...]
    unknown: tuple[float, ...]  # per column: position/code for an unseen value (-1: no column set; NaN code)
    widths: tuple[int, ...]
    one_hot: bool

    @property
    def width(self) -> int:
        return sum(self.widths) if self.one_hot else len(self.columns)


@dataclass(frozen=True)
class _Numbers:
    """Numeric columns through passthrough, or a SimpleImputer / StandardScaler chain."""

    columns: tuple[str, ...]
    steps: tuple[Any, ...]  # ("impute", fill, keep, indicator_idx) | ("scale", mean, scale)
    width: int


class ChurnScorer:
    """P(churn) for feature rows (dicts as ``features.build_features`` makes them), one call per screen."""

    def __init__(self, pipeline: Pipeline, numeric: Sequence[str], categorical: Sequence[str]) -> None:
        self.pipeline = pipeline
        self.numeric = list(numeric)
        self.categorical = list(categorical)
        self.lean = False
        self.note = "scikit-learn path"
        self._parts: list[_Categories | _Numbers] = []
        self._coef: np.ndarray | None = None
        self._intercept = 0.0
        self._feature_names: list[str] | None = None

    def score(self, rows: Rows) -> np.ndarray:
        """P(churn) of each row, in order; one estimator call for all of them."""
        if not rows:
            return np.zeros(0)
        if not self.lean:
            return self.sklearn_scores(rows)
        return self.score_matrix(self.matrix(rows))

    def matrix(self, rows: Rows) -> np.ndarray:
        """The matrix ``pipeline[:-1].transform(rows_to_frame(rows))`` makes, built straight from the dicts."""
        blocks = [
            _categories_block(p, rows) if isinstance(p, _Categories) else _numbers_block(p, rows) for p in self._parts
        ]
        return np.hstack(blocks) if blocks else np.zeros((len(rows), 0))

    def score_matrix(self, matrix: np.ndarray) -> np.ndarray:
        """The final estimator alone on a prepared matrix: the arithmetic of scoring."""
        if self._coef is not None:
            return expit(matrix @ self._coef + self._intercept)
        model = self.pipeline[-1]
        data: Any = matrix
        if self._feature_names is not None:
            import pandas as pd

            data = pd.DataFrame(matrix, columns=self._feature_names)
        with _one_thread():
            return model.predict_proba(data)[:, 1]

    def sklearn_scores(self, rows: Rows) -> np.ndarray:
        """The reference: the whole pipeline on one DataFrame of all rows."""
        frame = rows_to_frame(rows, self.numeric, self.categorical)
        with _one_thread():
            return self.pipeline.predict_proba(frame)[:, 1]

    def fitted_medians(self) -> dict[str, float]:
        """Numeric columns' fill values from a median imputer (the training medians), where the pipeline has one."""
        out: dict[str, float] = {}
        encode = self.pipeline[0]
        for _name, part, columns in getattr(encode, "transformers_", []):
            steps = part.steps if isinstance(part, Pipeline) else [(None, part)]
            for _step, est in steps:
                if isinstance(est, SimpleImputer) and est.strategy == "median":
                    for column, value in zip(columns, est.statistics_, strict=False):
                        if not math.isnan(value):
                            out[str(column)] = float(value)
        return out

    def category_values(self) -> dict[str, list[str]]:
        """Every category the encoders were fitted on, by column (for building check rows)."""
        out: dict[str, list[str]] = {}
        for part in self._parts:
            if isinstance(part, _Categories):
                for column, lookup in zip(part.columns, part.lookups, strict=True):
                    out[column] = list(lookup)
        return out


def compile_scorer(
    pipeline: Pipeline, numeric: Sequence[str], categorical: Sequence[str], *, check_rows: Rows = ()
) -> ChurnScorer:
    """A scorer for this fitted pipeline: lean when it replays the pipeline to 1e-9, else scikit-learn batched."""
    scorer = ChurnScorer(pipeline, numeric, categorical)
    try:
        _compile(scorer)
        scorer.lean = True
        worst = _check(scorer, [*check_rows, *synthetic_rows(scorer, CHECK_ROWS)])
    except Unsupported as exc:
        scorer.lean = False
        scorer.note = f"scikit-learn path: {exc}"
        log.info("Churn scorer uses the scikit-learn path: %s", exc)
        return scorer
    if worst > TOLERANCE:
        scorer.lean = False
        scorer.note = f"scikit-learn path: the compiled scorer differed by {worst:.2e}"
        log.warning("Compiled churn scorer differed from scikit-learn by %.2e; using scikit-learn.", worst)
        return scorer
    scorer.note = f"compiled ({type(pipeline[-1]).__name__}); max difference {worst:.1e} on check rows"
    return scorer


def _compile(scorer: ChurnScorer) -> None:
    pipeline = scorer.pipeline
    if not isinstance(pipeline, Pipeline) or len(pipeline.steps) != 2:
        raise Unsupported("the pipeline is not (ColumnTransformer, estimator)")
    encode, model = pipeline[0], pipeline[-1]
    if not isinstance(encode, ColumnTransformer) or not hasattr(encode, "transformers_"):
        raise Unsupported(f"the first step is {type(encode).__name__}, not a fitted ColumnTransformer")
    numeric, categorical = set(scorer.numeric), set(scorer.categorical)
    for _name, part, columns in encode.transformers_:
        columns = _column_names(columns)
        if part == "drop" or not columns:
            continue
        if isinstance(part, OneHotEncoder | OrdinalEncoder):
            if not set(columns) <= categorical:
                raise Unsupported(f"an encoder reads non-text columns {sorted(set(columns) - categorical)}")
            scorer._parts.append(_compile_categories(part, columns))
        else:
            if not set(columns) <= numeric:
                raise Unsupported(f"numeric steps read non-numeric columns {sorted(set(columns) - numeric)}")
            scorer._parts.append(_compile_numbers(part, columns))
    if isinstance(model, LogisticRegression) and len(model.classes_) == 2 and hasattr(model, "coef_"):
        scorer._coef = np.asarray(model.coef_[0], dtype=np.float64)
        scorer._intercept = float(model.intercept_[0])
    elif not hasattr(model, "predict_proba"):
        raise Unsupported(f"{type(model).__name__} has no predict_proba")
    names = getattr(model, "feature_names_in_", None)
    scorer._feature_names = list(names) if names is not None else None


def _column_names(columns: Any) -> tuple[str, ...]:
    if isinstance(columns, str):
        return (columns,)
    items = list(columns) if isinstance(columns, list | tuple | np.ndarray) else None
    if items is None or not all(isinstance(c, str) for c in items):
        raise Unsupported(f"columns selected by {type(columns).__name__}, not by name")
    return tuple(items)


def _compile_categories(encoder: OneHotEncoder | OrdinalEncoder, columns: tuple[str, ...]) -> _Categories:
    one_hot = isinstance(encoder, OneHotEncoder)
    if one_hot and getattr(encoder, "drop_idx_", None) is not None:
        raise Unsupported("a OneHotEncoder drops a category")
    if one_hot and encoder.handle_unknown not in ("ignore", "infrequent_if_exist", "warn"):
        raise Unsupported(f"OneHotEncoder handle_unknown={encoder.handle_unknown!r}")
    if not one_hot and encoder.handle_unknown != "use_encoded_value":
        raise Unsupported(f"OrdinalEncoder handle_unknown={encoder.handle_unknown!r}")
    try:
        infrequent = list(encoder.infrequent_categories_)
    except AttributeError:  # fitted without max_categories / min_frequency
        infrequent = [None] * len(encoder.categories_)
    lookups, unknown, widths = [], [], []
    for cats, rare in zip(encoder.categories_, infrequent, strict=True):
        if not all(isinstance(c, str) for c in cats):
            raise Unsupported("an encoder was fitted on non-text categories")
        rare_set = set(rare) if rare is not None else set()
        frequent = [c for c in cats if c not in rare_set]
        lookup = {c: i for i, c in enumerate(frequent)}
        pooled = len(frequent) if rare_set else -1
        lookup.update({c: pooled for c in rare_set})
        lookups.append(lookup)
        widths.append(len(frequent) + (1 if rare_set else 0))
        if one_hot:
            # Unseen values join the pooled column only under infrequent_if_exist (or warn); else no column is set.
            unknown.append(float(pooled if encoder.handle_unknown != "ignore" else -1))
        else:
            unknown.append(float(encoder.unknown_value))
    if not one_hot and np.dtype(encoder.dtype).kind != "f":
        raise Unsupported("an OrdinalEncoder with a non-float dtype")
    return _Categories(columns, tuple(lookups), tuple(unknown), tuple(widths), one_hot)


def _compile_numbers(part: Any, columns: tuple[str, ...]) -> _Numbers:
    steps: list[Any] = []
    width = len(columns)
    chain = part.steps if isinstance(part, Pipeline) else [("only", part)]
    for _name, est in chain:
        if _is_identity(est):
            continue
        if isinstance(est, SimpleImputer):
            if not (isinstance(est.missing_values, float) and math.isnan(est.missing_values)):
                raise Unsupported("a SimpleImputer whose missing value is not NaN")
            stats = np.asarray(est.statistics_, dtype=np.float64)
            keep = np.arange(width) if est.keep_empty_features else np.flatnonzero(~np.isnan(stats))
            indicator = np.zeros(0, dtype=int)
            if est.add_indicator:
                if est.indicator_.features != "missing-only" and est.indicator_.features != "all":
                    raise Unsupported("an unknown missing-value indicator")
                indicator = np.asarray(est.indicator_.features_, dtype=int)
            steps.append(("impute", stats[keep], keep, indicator))
            width = len(keep) + len(indicator)
        elif isinstance(est, StandardScaler):
            mean = est.mean_ if est.with_mean else None
            scale = est.scale_ if est.with_std else None
            steps.append(("scale", mean, scale))
        else:
            raise Unsupported(f"numeric step {type(est).__name__}")
    return _Numbers(columns, tuple(steps), width)


def _one_thread() -> Any:
    """One native thread for the estimator call; the controller is built once (threadpool_limits costs ~2 ms)."""
    if not _controller:
        _controller.append(ThreadpoolController())
    return _controller[0].limit(limits=1)


def _is_identity(est: Any) -> bool:
    # A fitted ColumnTransformer stores "passthrough" as a FunctionTransformer without a function.
    if isinstance(est, str) or est is None:
        return est in ("passthrough", None)
    return isinstance(est, FunctionTransformer) and est.func is None


def _as_float(value: Any) -> float:
    # Exactly as ``features.rows_to_frame`` reads a numeric column.
    if value is None or isinstance(value, str):
        return math.nan
    return float(value)


def _as_category(value: Any) -> str:
    # Exactly as ``features.rows_to_frame`` reads a text column.
    if value is None:
        return MISSING
    text = str(value).strip()
    return text if text else MISSING


def _categories_block(part: _Categories, rows: Rows) -> np.ndarray:
    n = len(rows)
    if not part.one_hot:
        block = np.empty((n, len(part.columns)), dtype=np.float64)
        for j, (column, lookup, unseen) in enumerate(zip(part.columns, part.lookups, part.unknown, strict=True)):
            block[:, j] = [lookup.get(_as_category(row.get(column)), unseen) for row in rows]
        return block
    block = np.zeros((n, part.width), dtype=np.float64)
    offset = 0
    for column, lookup, unseen, width in zip(part.columns, part.lookups, part.unknown, part.widths, strict=True):
        for i, row in enumerate(rows):
            position = lookup.get(_as_category(row.get(column)), unseen)
            if position >= 0:
                block[i, offset + int(position)] = 1.0
        offset += width
    return block


def _numbers_block(part: _Numbers, rows: Rows) -> np.ndarray:
    x = np.array([[_as_float(row.get(c)) for c in part.columns] for row in rows], dtype=np.float64)
    x = x.reshape(len(rows), len(part.columns))
    for step in part.steps:
        if step[0] == "impute":
            _, fill, keep, indicator = step
            missing = np.isnan(x)
            x = x[:, keep]
            x = np.where(np.isnan(x), fill, x)
            if len(indicator):
                x = np.hstack([x, missing[:, indicator].astype(np.float64)])
        else:
            _, mean, scale = step
            if mean is not None:
                x = x - mean
            if scale is not None:
                x = x / scale
    return x


def synthetic_rows(scorer: ChurnScorer, n: int, seed: int = CHECK_SEED) -> list[dict[str, Feature]]:
    """Rows that exercise every fitted category, unseen and missing values, NaNs and wide-ranging numbers."""
    rng = np.random.default_rng(seed)
    values = scorer.category_values()
    medians = scorer.fitted_medians()
    rows: list[dict[str, Feature]] = []
    for i in range(n):
        row: dict[str, Feature] = {}
        for column in scorer.categorical:
            known = values.get(column, [])
            choices = [*known, UNSEEN_CATEGORY, MISSING]
            row[column] = choices[(i + rng.integers(0, 3)) % len(choices)]
        for column in scorer.numeric:
            centre = medians.get(column, 0.0)
            spread = max(abs(centre), 1.0) * 3
            row[column] = math.nan if rng.random() < 0.15 else float(centre + rng.normal() * spread)
        rows.append(row)
    return rows


def _check(scorer: ChurnScorer, rows: Rows) -> float:
    """Largest difference between the compiled scorer and scikit-learn on these rows (matrix and probability)."""
    frame = rows_to_frame(rows, scorer.numeric, scorer.categorical)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected_matrix = scorer.pipeline[:-1].transform(frame)
        expected = scorer.pipeline.predict_proba(frame)[:, 1]
    if hasattr(expected_matrix, "toarray"):
        expected_matrix = expected_matrix.toarray()
    mine = scorer.matrix(rows)
    if mine.shape != np.shape(expected_matrix):
        raise Unsupported(f"the compiled matrix has shape {mine.shape}, scikit-learn's {np.shape(expected_matrix)}")
    expected_matrix = np.asarray(expected_matrix, dtype=np.float64)
    if not np.array_equal(np.isnan(mine), np.isnan(expected_matrix)):
        raise Unsupported("the compiled matrix has missing values where scikit-learn's has none, or the reverse")
    both = ~np.isnan(mine)
    matrix_gap = float(np.max(np.abs(mine[both] - expected_matrix[both]), initial=0.0))
    score_gap = float(np.max(np.abs(scorer.score(rows) - expected), initial=0.0))
    return max(matrix_gap, score_gap)
