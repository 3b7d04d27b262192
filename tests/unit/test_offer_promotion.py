"""The nightly offer-model promotion rule: worse beyond the tolerance *and* beyond the hold-out's noise keeps the
champion; anything else promotes. A hold-out too thin to compare values leaves the decision to the log loss."""

from __future__ import annotations

from retention_desk.services.models.offer_training import decide_offer_model

CHAMPION = {"snips": 4000.0, "log_loss": 0.55}


def _new(snips: float, low: float, high: float, log_loss: float = 0.55) -> dict:
    return {
        "snips": snips,
        "log_loss": log_loss,
        "vs_champion": {"difference": snips - 4000, "ci_low": low, "ci_high": high},
    }


def test_a_lower_value_inside_the_noise_promotes_and_says_so():
    would, reason = decide_offer_model(_new(3500, -2000, 1000), CHAMPION)
    assert would == "promoted" and "noise" in reason


def test_a_value_lower_beyond_the_noise_and_the_tolerance_is_kept():
    would, reason = decide_offer_model(_new(3000, -1500, -500), CHAMPION)
    assert would == "kept" and "challenger" in reason


def test_a_lower_value_whose_interval_only_just_reaches_the_tolerance_promotes():
    assert decide_offer_model(_new(3000, -1500, -79), CHAMPION)[0] == "promoted"  # margin: 2% of 4,000 = 80


def test_without_a_paired_interval_the_tolerance_alone_decides():
    assert decide_offer_model({"snips": 3900.0, "log_loss": 0.55}, CHAMPION)[0] == "kept"
    assert decide_offer_model({"snips": 3950.0, "log_loss": 0.55}, CHAMPION)[0] == "promoted"


def test_a_worse_stay_log_loss_keeps_a_learned_champion_but_not_the_priors():
    worse = _new(4100, -100, 300, log_loss=0.60)
    assert decide_offer_model(worse, CHAMPION)[0] == "kept"
    assert decide_offer_model(worse, CHAMPION, champion_is_prior=True)[0] == "promoted"
    assert decide_offer_model(worse, CHAMPION, force=True)[0] == "promoted"


def _thin(new: dict, effective_n: float = 51.0) -> dict:
    return {**new, "effective_n": effective_n}


def test_a_hold_out_too_thin_to_compare_values_leaves_the_decision_to_the_log_loss():
    clearly_lower = _new(2400, -7600, -400, log_loss=0.531)  # kept on value with a full hold-out
    priors = {**CHAMPION, "log_loss": 0.553, "effective_n": 46.0}
    assert decide_offer_model(clearly_lower, priors, champion_is_prior=True)[0] == "kept"  # no effective_n given
    would, reason = decide_offer_model(_thin(clearly_lower), priors, champion_is_prior=True)
    assert would == "promoted" and "51 and 46 decisions" in reason and "log loss" in reason


def test_on_a_thin_hold_out_a_worse_log_loss_keeps_even_the_priors():
    worse = _thin(_new(4100, -100, 300, log_loss=0.60))
    priors = {**CHAMPION, "effective_n": 46.0}
    assert decide_offer_model(worse, priors, champion_is_prior=True)[0] == "kept"
    assert decide_offer_model(worse, priors, champion_is_prior=True, force=True)[0] == "promoted"


def test_a_hold_out_with_enough_decisions_still_compares_values():
    lower = _thin(_new(3000, -1500, -500), effective_n=150.0)
    assert decide_offer_model(lower, {**CHAMPION, "effective_n": 140.0})[0] == "kept"
