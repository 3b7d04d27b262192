"""The nightly offer-model promotion rule: worse beyond the tolerance *and* beyond the hold-out's noise keeps the
champion; anything else promotes."""

from __future__ import annotations

from retention_desk.services.offer_training import decide_offer_model

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
