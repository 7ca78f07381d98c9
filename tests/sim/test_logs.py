"""Logged plans from the simulator: off-policy estimates agree with the truth the simulator knows."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.recommend.ope import LoggedPlans, evaluate_plans, target_probabilities
from workbench.sim import generate_population
from workbench.sim.logs import LOGGING_POLICY, log_week, policy_value, work_through

CANDIDATES = {"priority": {"strategy": "priority"}, "gap": {"strategy": "gap"}, "random": {"strategy": "random"},
              "logging policy": dict(LOGGING_POLICY)}


@pytest.fixture(scope="module")
def week(library, item_params):
    return log_week(generate_population(library, 1500, 11), library, item_params, 11)


def test_the_log_is_what_the_policy_served(week, library):
    plans = week.plans
    assert len(plans) > 1400 and plans.propensities.shape[1] == 3
    assert (plans.propensities > 0).all() and (plans.propensities <= 1).all()
    assert 0.05 < plans.propensities[:, 0].mean() < 0.95  # the softmax explores: neither greedy nor uniform
    # replaying the log through the engine gives back the logged propensities
    own = target_probabilities(plans, library, **LOGGING_POLICY)
    np.testing.assert_allclose(own["top_pick"], plans.propensities[:, 0], rtol=1e-9)
    np.testing.assert_allclose(own["plan"], plans.logging_probability("plan"), rtol=1e-9)


def test_same_seed_same_log(library, item_params):
    pop = generate_population(library, 200, 3)
    a, b = log_week(pop, library, item_params, 5), log_week(pop, library, item_params, 5)
    assert a.plans.modules == b.plans.modules and (a.plans.completed == b.plans.completed).all()
    assert log_week(pop, library, item_params, 6).plans.modules != a.plans.modules


def test_estimates_land_on_the_truth(week, library):
    """Where the log overlaps the candidate well (effective sample size in the hundreds), IPS and SNIPS
    land within three standard errors of the candidate's true value; the logging policy's own row is
    the observed mean."""
    table = evaluate_plans(week.plans, library, CANDIDATES, rng=0)
    checked = 0
    for label, spec in CANDIDATES.items():
        truth = policy_value(week, library, replicates=40, seed=1, **spec)
        for row in table.query("policy == @label").itertuples():
            if row.ess < 300:
                continue
            slack = 3 * row.se + (3 * truth["plan_mc_se"] if row.unit == "plan" else 0.0)
            assert abs(row.value - truth[row.unit]) < slack, (label, row, truth)
            checked += 1
    assert checked >= 8  # priority and random (top pick), priority and the logging policy (both units)
    logged = table.query("policy == 'logged'").set_index("unit").value
    own = table.query("policy == 'logging policy' and estimator == 'ips'").set_index("unit").value
    np.testing.assert_allclose(own, logged, rtol=1e-12)


def test_a_greedy_candidate_rests_on_fewer_plans(week, library):
    table = evaluate_plans(week.plans, library, {"priority": {"strategy": "priority"}}, rng=0)
    ess = table.query("policy == 'priority' and estimator == 'ips'").set_index("unit").ess
    assert ess["plan"] < ess["top_pick"] < len(week.plans)


def test_work_through_uses_up_the_minutes():
    rng = np.random.default_rng(0)
    modules = np.array([[0, 1, -1]] * 4000)
    minutes = np.array([30.0, 30.0])
    done = work_through(modules, minutes, np.full(4000, 1.0), np.full(4000, 40.0), rng)
    assert done[:, 0].all() and not done[:, 2].any()  # fully engaged with time for the first
    # 10 minutes left for the second: completed with probability (10/30)^2
    assert abs(done[:, 1].mean() - (10 / 30) ** 2) < 0.03


def test_logged_plans_refuse_bad_input(week):
    p = week.plans
    with pytest.raises(ValueError, match="propensity"):
        LoggedPlans(p.contexts, p.modules, np.where(np.arange(3) == 0, 0.0, p.propensities), p.completed)
    with pytest.raises(ValueError, match="rewards|unit"):
        p.rewards("week")
