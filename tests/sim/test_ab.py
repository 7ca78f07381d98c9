"""Validity of the experiment machinery: determinism, A/A error rate, power vs design."""

import numpy as np
import pytest
from scipy import stats

from workbench.sim.ab import assign, run_experiment
from workbench.sim.analysis import power
from workbench.sim.config import parse_config
from workbench.sim.population import generate_population
from workbench.sim.run import simulate_arm

N_SEEDS = 200


def _tolerance(p: float, n: int) -> float:
    return 3 * np.sqrt(p * (1 - p) / n)


def test_assign_even_and_seeded():
    a = assign(101, 2, 3)
    assert abs((a == 0).sum() - (a == 1).sum()) <= 1
    np.testing.assert_array_equal(a, assign(101, 2, 3))
    with pytest.raises(ValueError, match="2 leaders per arm"):
        assign(3, 2, 0)


def test_experiment_deterministic(library, item_params):
    cfg = parse_config({"name": "d", "arms": [{"name": "a", "strategy": "random"}, {"name": "b", "strategy": "gap"}],
                        "population": 80, "weeks": 3, "seeds": [4]})
    r1, r2 = run_experiment(cfg, library, item_params), run_experiment(cfg, library, item_params)
    assert r1.seeds[0].summaries == r2.seeds[0].summaries
    assert r1.seeds[0].bayes == r2.seeds[0].bayes
    assert r1.seeds[0].contrasts == r2.seeds[0].contrasts and r1.seeds[0].contrasts.adjusted
    assert r1.frequentist() == r2.frequentist()


def test_aa_false_winner_rate(library, item_params):
    cfg = parse_config({"name": "aa", "arms": [{"name": "a", "strategy": "priority"},
                                               {"name": "b", "strategy": "priority"}],
                        "population": 60, "weeks": 3, "seeds": N_SEEDS})
    r = run_experiment(cfg, library, item_params)
    freq, bayes = r.winner_rate("frequentist"), r.winner_rate("bayes")
    assert abs(freq - 0.05) <= _tolerance(0.05, N_SEEDS)
    # per-run threshold 1 - alpha / 2 = 0.975: either arm can pass it, nominal rate 2 * 0.025
    assert abs(bayes - 0.05) <= _tolerance(0.05, N_SEEDS)
    p = np.array([s.decision.p_value for s in r.seeds])
    assert stats.kstest(p, "uniform").pvalue > 0.001


def test_planted_effect_power_matches_design(library, item_params):
    outcome, weeks, per_arm = "measured_need_gain", 4, 40
    pilot = generate_population(library, 6000, 12345)
    half = np.arange(len(pilot)) % 2 == 0
    x = simulate_arm(pilot.take(np.flatnonzero(half)), "random", weeks, library, item_params, 1).outcome(outcome)
    y = simulate_arm(pilot.take(np.flatnonzero(~half)), "priority", weeks, library, item_params, 2).outcome(outcome)
    predicted = power(y.mean() - x.mean(), x.std(ddof=1), y.std(ddof=1), per_arm, per_arm)
    assert 0.3 < predicted < 0.9  # the design is informative
    cfg = parse_config({"name": "pw", "arms": [{"name": "random", "strategy": "random"},
                                               {"name": "priority", "strategy": "priority"}],
                        "population": 2 * per_arm, "weeks": weeks, "seeds": N_SEEDS, "outcome": outcome})
    r = run_experiment(cfg, library, item_params)
    observed = r.winner_rate("frequentist", "priority")
    # binomial tolerance plus the pilot's own uncertainty about the effect (about +-0.03 in power)
    assert abs(observed - predicted) <= _tolerance(predicted, N_SEEDS) + 0.04, (observed, predicted)
