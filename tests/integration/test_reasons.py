"""Reasons are faithful to the model: moving the top factor to its typical value moves the score as stated."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

import numpy as np
import pytest
from flask import Flask
from sqlmodel import Session, select

from retention_desk.domain.reasons import Reason
from retention_desk.ml.features import BillItem, bill_comparison_periods, build_features, rows_to_frame
from retention_desk.ml.reasons import describe, explain, reference_values
from retention_desk.ml.registry import serving_model
from retention_desk.services.models.risk import score_account, score_screen
from retention_desk.storage.db import get_engine
from retention_desk.storage.snapshots import AccountSnapshot
from retention_desk.storage.tables import Account
from retention_desk.storage.training_data import load_account_snapshots
from retention_desk.web.risk_words import reason_text

ACCOUNTS = 40


@pytest.fixture(scope="module")
def scored(world_settings):
    """Risk with reasons for a spread of real accounts of the seeded world, and the champion that scored them."""
    with Session(get_engine(world_settings.database_url)) as session:
        ids = list(session.execute(select(Account.id).order_by(Account.id)).scalars())[:: 1500 // ACCOUNTS]
        model = serving_model(session=session, settings=world_settings).model
        risks = {i: score_account(session=session, settings=world_settings, account_id=i) for i in ids}
        snapshots = load_account_snapshots(session, ids)
    return model, risks, snapshots


def _sklearn(model, rows) -> np.ndarray:
    return model.pipeline.predict_proba(rows_to_frame(rows, model.numeric, model.categorical))[:, 1]


def _row_at(reason: Reason, snapshot, risk_time: datetime) -> tuple[dict, dict]:
    row = build_features(snapshot, risk_time)
    return row, {**row, reason.feature: reason.reference}


def test_the_scores_are_scikit_learns_own_probabilities(scored):
    model, risks, snapshots = scored
    now = datetime.now(UTC)
    ids = list(risks)
    expected = _sklearn(model, [build_features(snapshots[i], now) for i in ids])
    got = np.array([risks[i].probability for i in ids])
    assert np.max(np.abs(got - expected)) < 1e-6  # the two were built a moment apart: day-dated features agree


@pytest.mark.parametrize("direction", ["raising", "lowering"])
def test_setting_the_top_factor_to_typical_moves_the_score_by_the_stated_amount_the_stated_way(scored, direction):
    model, risks, snapshots = scored
    checked = 0
    for account_id, risk in risks.items():
        reasons = risk.reasons_up if direction == "raising" else risk.reasons_down
        if not reasons:
            continue
        top = reasons[0]
        row, typical = _row_at(top, snapshots[account_id], datetime.now(UTC))
        before, after = _sklearn(model, [row, typical])
        # A raising factor's delta is positive: taking it away lowers the score by that much, and vice versa.
        assert (after < before) if direction == "raising" else (after > before)
        assert before - after == pytest.approx(top.delta, abs=0.002)
        checked += 1
    assert checked >= 5


def test_reasons_are_ordered_by_how_much_they_moved_the_score(scored):
    _model, risks, _snapshots = scored
    for risk in risks.values():
        ups = [r.delta for r in risk.reasons_up]
        downs = [r.delta for r in risk.reasons_down]
        assert ups == sorted(ups, reverse=True) and all(d > 0 for d in ups)
        assert downs == sorted(downs) and all(d < 0 for d in downs)
        assert len(ups) <= 3 and len(downs) <= 3


def test_offer_variants_are_scored_in_the_same_call_as_the_account(world_settings, scored):
    _model, risks, _snapshots = scored
    account_id = next(iter(risks))
    with Session(get_engine(world_settings.database_url)) as session:
        screen = score_screen(
            session=session,
            settings=world_settings,
            account_id=account_id,
            variants=[{}, {"contract_type": "two_year"}, {"contract_type": "month_to_month"}],
        )
    assert screen is not None
    assert screen.variants[0] == pytest.approx(screen.risk.probability, abs=1e-12)
    assert len(screen.variants) == 3


def test_an_explanation_comes_from_one_scorer_call():
    calls = []

    def score(rows):
        calls.append(len(rows))
        return np.array([0.6 if r["contract_type"] == "month_to_month" else 0.3 for r in rows]) + np.array(
            [0.05 * r["outages_90d"] for r in rows]
        )

    row = {"contract_type": "month_to_month", "outages_90d": 3.0, "tenure_months": 100.0}
    refs = reference_values(
        [{"contract_type": "two_year", "outages_90d": 0.0, "tenure_months": 100.0}],
        ["outages_90d", "tenure_months"],
        ["contract_type"],
    )
    explained = explain(row, refs, score)
    assert calls == [3]  # the row and one variant per differing feature
    assert [r.feature for r in explained.raised] == ["contract_type", "outages_90d"]
    assert explained.raised[0].delta == pytest.approx(0.3)


@pytest.mark.parametrize(
    ("feature", "value", "words"),
    [
        ("contract_type", "month_to_month", "month-to-month contract"),
        ("months_to_contract_end", 2.1, "contract ends in 2 months"),
        ("bill_change_3m", 1.18, "bill up 18% since March 2026"),
        ("outages_90d", 3.0, "3 outages in 90 days"),
        ("tenure_months", 14 * 12 + 3.0, "customer for 14 years"),
        ("bills_unpaid", 2.0, "2 unpaid bills"),
        ("n_premium_channels", 0.0, "no premium channels"),
        ("x_total_day_minutes", 265.0, "total day minutes is high (265)"),
        ("days_since_last_offer", math.nan, "never had a retention offer"),
    ],
)
def test_reasons_read_as_an_agent_would_say_them(world_app: Flask, feature, value, words):
    code, params = describe(feature, value, 180.0, {"bill_change_3m": date(2026, 3, 1)})
    reason = Reason(feature, value, 0.0, 0.1, code, params)
    with world_app.test_request_context():
        assert reason_text(reason) == words


def test_the_bill_comparison_names_the_month_the_feature_compared_with():
    bills = [BillItem(date(2026, m, 1), 500.0 + m) for m in range(1, 11)]
    snapshot = AccountSnapshot(account_id=1, bills=bills)
    months = bill_comparison_periods(snapshot, datetime(2026, 10, 15, tzinfo=UTC))
    assert months["bill_change_3m"] == date(2026, 7, 1)
    assert months["bill_change_12m"] == date(2026, 1, 1)  # ten months of bills: compared with the oldest
