"""Off-policy estimates on a bandit whose true policy values are known in closed form."""

from __future__ import annotations

import numpy as np
import pytest

from retention_desk.ml.policy_value import estimate_policy_value, paired_ratio, snips_difference

# Three actions; the mean reward of each depends on a binary context.
MEANS = np.array([[0.2, 0.3, 0.5], [0.8, 0.1, 0.4]])  # context × action
LOGGING = np.array([[0.6, 0.2, 0.2], [0.6, 0.2, 0.2]])  # a biased logging policy, context × action
TARGET = np.array([1, 0])  # the target policy's action in each context (deterministic)
TRUE_VALUE = 0.5 * MEANS[0, 1] + 0.5 * MEANS[1, 0]  # 0.55


def _logged(seed: int, n: int = 4000) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    context = rng.integers(0, 2, n)
    u = rng.random(n)
    action = (u[:, None] > np.cumsum(LOGGING[context], axis=1)).sum(axis=1)
    reward = (rng.random(n) < MEANS[context, action]).astype(float)
    mu = LOGGING[context, action]
    pi = (TARGET[context] == action).astype(float)
    return context, action, reward, mu, pi


def test_ips_snips_and_dr_recover_the_true_value_of_a_deterministic_policy_within_their_interval():
    context, action, reward, mu, pi = _logged(seed=1)
    # A deliberately wrong reward model: DR stays unbiased because the propensities are right.
    q = np.full((2, 3), 0.4)
    value = estimate_policy_value(reward, mu, pi, model_values=(q[context, TARGET[context]], q[context, action]))
    assert value.ci_low <= TRUE_VALUE <= value.ci_high
    assert value.dr == pytest.approx(TRUE_VALUE, abs=0.04)
    assert value.snips == pytest.approx(TRUE_VALUE, abs=0.04)
    assert value.ips == pytest.approx(TRUE_VALUE, abs=0.05)
    assert 0 < value.effective_n < value.n


def test_the_snips_interval_covers_the_truth_in_most_repetitions():
    covered = 0
    for seed in range(40):
        _, _, reward, mu, pi = _logged(seed, n=1500)
        value = estimate_policy_value(reward, mu, pi)
        covered += value.ci_low <= TRUE_VALUE <= value.ci_high
    assert covered >= 34  # a 95% interval: 38 expected, 34 leaves room for chance


def test_unweighted_logged_rewards_are_biased_where_the_estimators_are_not():
    _, _, reward, mu, pi = _logged(seed=3)
    naive = reward[pi > 0].mean()  # the reward where logging happened to agree with the target
    value = estimate_policy_value(reward, mu, pi)
    assert abs(value.snips - TRUE_VALUE) < abs(naive - TRUE_VALUE)


def test_evaluating_the_logging_policy_itself_uses_every_decision():
    _, _, reward, mu, _ = _logged(seed=4)
    value = estimate_policy_value(reward, mu, mu)
    assert value.effective_n == pytest.approx(value.n)
    assert value.snips == pytest.approx(reward.mean())


def test_a_perfect_reward_model_makes_dr_exact_up_to_noise_and_tighter_than_snips():
    context, action, reward, mu, pi = _logged(seed=5)
    value = estimate_policy_value(
        reward, mu, pi, model_values=(MEANS[context, TARGET[context]], MEANS[context, action])
    )
    snips_only = estimate_policy_value(reward, mu, pi)
    assert value.ci_low <= TRUE_VALUE <= value.ci_high
    assert value.ci_high - value.ci_low < snips_only.ci_high - snips_only.ci_low


@pytest.mark.parametrize(
    "rewards, logged, target",
    [([1.0, 0.0], [0.5], [1.0, 0.0]), ([1.0], [0.0], [1.0]), ([1.0], [0.5], [1.5]), ([], [], [])],
    ids=["lengths", "zero-logged-propensity", "target-above-one", "empty"],
)
def test_bad_inputs_are_refused_with_a_clear_error(rewards, logged, target):
    with pytest.raises(ValueError):
        estimate_policy_value(rewards, logged, target)


def test_the_paired_difference_covers_the_true_gap_and_is_narrower_than_two_separate_intervals():
    other = np.array([2, 0])  # differs from TARGET only in context 0; true value 0.5 × 0.5 + 0.5 × 0.8 = 0.65
    covered = 0
    for seed in range(40):
        context, action, reward, mu, pi = _logged(seed, n=1500)
        pi_other = (other[context] == action).astype(float)
        difference, low, high = snips_difference(reward, mu, pi_other, pi)
        covered += low <= 0.65 - TRUE_VALUE <= high
        a, b = estimate_policy_value(reward, mu, pi_other), estimate_policy_value(reward, mu, pi)
        separate = (a.ci_high - a.ci_low) / 2 + (b.ci_high - b.ci_low) / 2
        assert high - low < 2 * separate
        assert difference == pytest.approx(a.snips - b.snips)
    assert covered >= 34


def test_a_policy_against_itself_differs_by_exactly_nothing():
    _, _, reward, mu, pi = _logged(seed=5)
    assert snips_difference(reward, mu, pi, pi) == (0.0, 0.0, 0.0)


def test_self_normalised_dr_takes_a_common_model_bias_out_where_the_target_repeats_few_logged_decisions():
    # Every decision worth 1,000; the model says 900 for every action. The logging policy chose each logged action
    # with probability 1/2; the target policy would repeat a quarter of them (w = 2) and none of the rest (w = 0).
    n = 400
    rewards = np.full(n, 1000.0)
    logged = np.full(n, 0.5)
    target = np.where(np.arange(n) % 4 == 0, 1.0, 0.0)
    q = np.full(n, 900.0)
    value = estimate_policy_value(rewards, logged, target, model_values=(q, q))
    assert value.dr == pytest.approx(950.0)  # the correction is scaled by the mean weight (1/2)
    assert value.dr_self_normalised == pytest.approx(1000.0)
    assert estimate_policy_value(rewards, logged, target).dr_self_normalised is None


def test_switch_dr_leaves_rarely_logged_actions_to_the_model_instead_of_one_huge_weight():
    # The model is right (1,000) everywhere; one decision of 400 was an explored action (logged propensity 0.01)
    # the target now takes, and its caller happened to leave: reward -500. Plain DR lets that one caller move the
    # whole estimate by 100 × 1,500 / 400 = 375; SWITCH-DR keeps the model's value for it.
    n = 400
    rewards = np.full(n, 1000.0)
    logged = np.full(n, 0.95)
    target = np.full(n, 0.95)
    rewards[7], logged[7] = -500.0, 0.01
    q = np.full(n, 1000.0)
    plain = estimate_policy_value(rewards, logged, target, model_values=(q, q))
    switched = estimate_policy_value(rewards, logged, target, model_values=(q, q), switch_weight=10)
    assert plain.dr == pytest.approx(1000.0 - 95 * 1500 / n)
    assert switched.dr == pytest.approx(1000.0)
    assert (plain.switched, switched.switched) == (0, 1)
    assert switched.ci_high - switched.ci_low < plain.ci_high - plain.ci_low


def test_switch_dr_is_unbiased_below_the_threshold_and_takes_the_model_s_error_above_it():
    context, action, reward, mu, pi = _logged(seed=6)
    wrong = np.full((2, 3), 0.4)  # right for no action
    for q, switch, expected in (
        (wrong, 6.0, TRUE_VALUE),  # every weight (at most 1 / 0.2) is below 6: plain DR
        (MEANS, 4.0, TRUE_VALUE),  # context 0's target action (weight 5) switched to a right model
        (wrong, 4.0, 0.5 * 0.4 + 0.5 * MEANS[1, 0]),  # ... to a wrong one: its error is the estimate's
    ):
        values = (q[context, TARGET[context]], q[context, action])
        value = estimate_policy_value(reward, mu, pi, model_values=values, switch_weight=switch)
        assert value.dr == pytest.approx(expected, abs=0.03)
    assert estimate_policy_value(reward, mu, pi, model_values=values, switch_weight=4.0).switched == np.sum(
        pi / mu > 4.0
    )


def test_a_switch_weight_of_zero_is_refused():
    with pytest.raises(ValueError, match="switch weight"):
        estimate_policy_value([1.0], [0.5], [1.0], model_values=([1.0], [1.0]), switch_weight=0)


def test_the_paired_ratio_interval_covers_the_true_ratio_about_95_times_in_100():
    # A week of callers (1,400) met by two policies: a caller's worth (skewed, like customer values) drives both,
    # the oracle keeps about half of them and ours 90% of the oracle's, so the two totals move together.
    rng = np.random.default_rng(11)
    n, true_ratio = 1400, 0.9
    covered, widths = 0, []
    for _ in range(400):
        worth = rng.lognormal(mean=0.0, sigma=0.6, size=n)
        oracle = worth * (rng.random(n) < 0.5)
        ours = oracle * (rng.random(n) < true_ratio)
        ratio, low, high = paired_ratio(ours, oracle)
        covered += low <= true_ratio <= high
        widths.append(high - low)
    assert 0.92 <= covered / 400 <= 0.98
    assert 0 < np.mean(widths) < 0.1


def test_a_paired_ratio_of_a_policy_with_itself_is_exactly_one_and_an_empty_denominator_has_none():
    values = np.array([3.0, -1.0, 7.5, 0.0])
    assert paired_ratio(values, values) == (1.0, 1.0, 1.0)
    ratio, low, high = paired_ratio([1.0, 2.0], [-1.0, 0.5])
    assert np.isnan(ratio) and (low, high) == (-np.inf, np.inf)
    with pytest.raises(ValueError, match="one entry per call"):
        paired_ratio([1.0], [1.0, 2.0])
