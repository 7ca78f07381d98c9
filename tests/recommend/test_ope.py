"""Off-policy evaluation on simulated logs whose true values are known exactly."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.recommend import (
    ContextBatch,
    LeaderContext,
    catalog_for,
    choice_probabilities,
    select_batch,
)
from workbench.recommend.ope import (
    BanditLog,
    doubly_robust,
    effective_sample_size,
    evaluate,
    ips,
    snips,
)
from workbench.recommend.synthetic import SyntheticBandit, softmax_policy


def setting(offset: float, seed: int = 0):
    rng = np.random.default_rng(seed)
    env = SyntheticBandit.random(20, 5, rng, offset=offset)
    logging = softmax_policy(rng.normal(size=(20, 5)))
    target = softmax_policy(2 * rng.normal(size=(20, 5)))
    model = np.clip(env.mean_reward + rng.normal(0, 0.1, env.mean_reward.shape), 0, 1) + offset  # imperfect
    return env, logging, target, model


def run(env, logging, target, model, logs: int, n: int, **kw):
    truth = env.true_value(target)
    out = {"ips": [], "snips": [], "dr": []}
    for s in range(logs):
        rng = np.random.default_rng(10_000 + s)
        log, x = env.draw_log(n, logging, rng)
        for name, est in evaluate(log, target[x], model[x], rng=rng, **kw).items():
            out[name].append((est.value, est.covers(truth), est.ess))
    return truth, {k: np.array(v) for k, v in out.items()}


@pytest.mark.parametrize("offset", [0.0, 3.0])
def test_normal_intervals_cover_the_truth_at_their_nominal_rate(offset):
    env, logging, target, model = setting(offset)
    truth, res = run(env, logging, target, model, logs=200, n=1000)
    for name, r in res.items():
        coverage = r[:, 1].mean()
        assert 0.88 <= coverage <= 0.99, (name, offset, coverage)
        # unbiased (IPS, DR) or nearly so (SNIPS): the mean over logs is within 3 standard errors
        assert abs(r[:, 0].mean() - truth) < 3 * r[:, 0].std() / np.sqrt(len(r)) + 0.002, name


def test_bootstrap_intervals_cover_the_truth():
    env, logging, target, model = setting(0.0)
    truth, res = run(env, logging, target, model, logs=200, n=800, ci="bootstrap", n_boot=300)
    for name, r in res.items():
        assert 0.88 <= r[:, 1].mean() <= 0.99, (name, r[:, 1].mean())


def test_snips_and_dr_vary_less_than_ips_when_rewards_have_a_large_baseline():
    # a constant added to every reward inflates IPS's variance (it multiplies the weights'
    # spread) but leaves SNIPS untouched and is absorbed by DR's reward model
    env, logging, target, model = setting(3.0)
    _, res = run(env, logging, target, model, logs=200, n=1000)
    sd = {k: v[:, 0].std() for k, v in res.items()}
    assert sd["snips"] < 0.4 * sd["ips"]
    assert sd["dr"] < 0.4 * sd["ips"]


def test_effective_sample_size_is_reported_beside_ips():
    env, logging, target, model = setting(0.0)
    log, x = env.draw_log(2000, logging, np.random.default_rng(3))
    est = ips(log, target[x])
    w = target[x, log.actions] / log.propensities
    assert est.ess == pytest.approx(w.sum() ** 2 / (w**2).sum())
    assert 0 < est.ess < 2000
    same = ips(log, logging[x])  # the logging policy itself: all weights 1
    assert same.ess == pytest.approx(2000) and same.value == pytest.approx(log.rewards.mean())
    assert snips(log, logging[x]).value == pytest.approx(log.rewards.mean())
    assert effective_sample_size(np.array([1.0, 0.0, 0.0])) == 1.0


def test_dr_with_a_perfect_model_and_the_logging_policy_as_target():
    env, logging, target, _ = setting(0.0)
    log, x = env.draw_log(3000, logging, np.random.default_rng(4))
    exact = doubly_robust(log, target[x], env.mean_reward[x])
    assert exact.ci_low <= env.true_value(target) <= exact.ci_high
    assert exact.se < ips(log, target[x]).se


def test_log_from_records_with_ids():
    recs = [{"context": "L1", "action": "feedback-sbi", "propensity": 0.5, "reward": 1},
            {"context": "L2", "action": "clear-messages", "propensity": 0.25, "reward": 0}]
    log = BanditLog.from_records(recs, ["clear-messages", "feedback-sbi"])
    assert log.actions.tolist() == [1, 0] and log.contexts == ("L1", "L2")
    assert ips(log, np.array([1.0, 0.0])).value == pytest.approx(1.0)  # (1/0.5 * 1 + 0) / 2


@pytest.mark.parametrize(("call", "message"), [
    (lambda: BanditLog(np.array([0, 1]), np.array([0.5, 0.0]), np.array([1.0, 0.0])), r"propensities must be in \(0, 1\]"),
    (lambda: BanditLog(np.array([0, 1]), np.array([0.5]), np.array([1.0, 0.0])), "propensities has shape"),
    (lambda: BanditLog(np.array([], dtype=int), np.array([]), np.array([])), "non-empty"),
    (lambda: BanditLog(np.array([0]), np.array([0.5]), np.array([np.nan])), "rewards must be finite"),
    (lambda: BanditLog.from_records([{"action": "x", "reward": 1}], ["x"]), "record 0: needs"),
    (lambda: BanditLog.from_records([{"action": "y", "propensity": 1, "reward": 1}], ["x"]), "unknown action 'y'"),
    (lambda: ips(BanditLog(np.array([0]), np.array([0.5]), np.array([1.0])), np.array([0.5, 0.5])), "target has 2"),
    (lambda: ips(BanditLog(np.array([2]), np.array([0.5]), np.array([1.0])), np.array([[0.5, 0.5]])), "outside the target"),
    (lambda: ips(BanditLog(np.array([0]), np.array([0.5]), np.array([1.0])), np.array([[0.9, 0.9]])), "sums to"),
    (lambda: ips(BanditLog(np.array([0]), np.array([0.5]), np.array([1.0])), np.array([0.5]), level=95), "level"),
    (lambda: ips(BanditLog(np.array([0]), np.array([0.5]), np.array([1.0])), np.array([0.5]), ci="exact"), "ci must"),
    (lambda: doubly_robust(BanditLog(np.array([0]), np.array([0.5]), np.array([1.0])), np.array([0.5]), np.array([0.5])),
     "every action"),
    (lambda: snips(BanditLog(np.array([0]), np.array([0.5]), np.array([1.0])), np.array([0.0])), "undefined"),
])
def test_bad_input_is_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_evaluating_a_recommendation_strategy_from_random_logs(library):
    """Log first-slot recommendations of the random strategy, evaluate priority-with-softmax offline.

    The leaders are fixed and the reward probabilities known, so the candidate's value for
    them is exact; each simulated log redraws the random choices and the rewards.
    """
    cat = catalog_for(library)
    rng = np.random.default_rng(21)
    comps = list(library.competencies)
    contexts = [LeaderContext(f"L{i}", ("first-time", "experienced", "senior")[i % 3],
                              dict(zip(comps, rng.normal(0, 0.7, 8), strict=True)), {c: 0.3 for c in comps})
                for i in range(3000)]
    batch = ContextBatch.from_contexts(contexts, library)
    # completing-and-improving is likelier the more the module meets the leader's needs
    mean_reward = np.clip(0.15 + 0.5 * np.maximum(batch.need, 0) @ cat.relevance.T, 0, 0.95)
    target = choice_probabilities(batch, library, "priority", temperature=0.15)
    truth = float(np.mean((target * mean_reward).sum(axis=1)))
    random_value = float(np.mean((choice_probabilities(batch, library, "random") * mean_reward).sum(axis=1)))
    model = np.clip(0.1 + 0.6 * np.maximum(batch.need, 0) @ cat.relevance.T, 0, 1)  # a rough reward model
    covered = {"ips": 0, "snips": 0, "dr": 0}
    better = 0
    logs = 30
    rows = np.arange(len(contexts))
    for seed in range(logs):
        gen = np.random.default_rng(seed)
        sel = select_batch(batch, library, "random", k=1, rng=gen)
        actions, props = sel.modules[:, 0], sel.propensities[:, 0]
        rewards = (gen.random(len(contexts)) < mean_reward[rows, actions]).astype(float)
        est = evaluate(BanditLog(actions, props, rewards), target, model)
        for name, e in est.items():
            covered[name] += e.covers(truth)
        better += est["dr"].ci_low > random_value
        assert est["dr"].se < est["ips"].se
    for name, c in covered.items():
        assert c >= 0.8 * logs, (name, c)
    assert better == logs  # every log shows the candidate beats the logger
