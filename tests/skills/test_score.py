"""Quadrature scoring: exact against direct integration, incremental equals batch, rater-aware."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from workbench.skills.grm import category_probs, log_category_probs, simulate_responses
from workbench.skills.score import SkillPosterior, eap, score_sheets
from workbench.skills.simulate import correlated_thetas, make_test


@pytest.fixture(scope="module")
def test3():
    rng = np.random.default_rng(7)
    return make_test(12, 3, rng), rng


def test_category_probabilities_sum_to_one_and_are_stable():
    theta = np.linspace(-40, 40, 81)
    lp = log_category_probs(theta, 2.5, np.array([-1.0, 0.0, 1.5]))
    assert np.all(np.isfinite(lp))
    np.testing.assert_allclose(np.exp(lp).sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(np.exp(lp[30:50]), category_probs(theta[30:50], 2.5, np.array([-1.0, 0.0, 1.5])), atol=1e-12)


def test_simulation_matches_model_probabilities():
    rng = np.random.default_rng(1)
    p = make_test(1, 1, rng)
    y = simulate_responses(np.full((200_000, 1), 0.3), p, rng)[:, 0]
    expected = category_probs(np.array([0.3]), p.a[0], p.thresholds(0))[0]
    np.testing.assert_allclose(np.bincount(y, minlength=5) / y.size, expected, atol=0.004)


def test_eap_matches_direct_integration(test3):
    p, rng = test3
    y = simulate_responses(correlated_thetas(1, 3, 0.0, rng), p, rng)
    y[0, 5] = -1
    s = eap(y, p)
    for d in range(3):
        idx = [j for j in np.flatnonzero(p.dimension == d) if y[0, j] >= 0]

        def like(t, idx=idx):
            return np.prod([category_probs(np.array([t]), p.a[j], p.thresholds(j))[0, y[0, j]] for j in idx]) * stats.norm.pdf(t)

        z = integrate.quad(like, -8, 8, limit=200)[0]
        m = integrate.quad(lambda t, f=like: t * f(t), -8, 8, limit=200)[0] / z
        v = integrate.quad(lambda t, f=like, m=m: (t - m) ** 2 * f(t), -8, 8, limit=200)[0] / z
        assert s.mean[0, d] == pytest.approx(m, abs=1e-6)
        assert s.sd[0, d] == pytest.approx(np.sqrt(v), abs=1e-6)


def test_scores_track_truth_and_missing_answers_widen_intervals(test3):
    p, rng = test3
    theta = correlated_thetas(4000, 3, 0.3, rng)
    y = simulate_responses(theta, p, rng)
    s = eap(y, p)
    for d in range(3):
        assert np.corrcoef(s.mean[:, d], theta[:, d])[0, 1] > 0.8
    # the posterior SD is the actual error: z-scores against truth have SD ~ 1
    z = (s.mean - theta) / s.sd
    assert 0.9 < z.std() < 1.1
    y2 = y.copy()
    y2[:, :6] = -1
    assert (eap(y2, p).sd.mean(axis=0) > s.sd.mean(axis=0)).all()
    none = eap(np.full((1, 12), -1), p)
    np.testing.assert_allclose(none.mean, 0, atol=1e-9)
    np.testing.assert_allclose(none.sd, 1, atol=1e-3)


def test_incremental_updates_equal_batch_scoring(test3):
    p, rng = test3
    y = simulate_responses(correlated_thetas(1, 3, 0.0, rng), p, rng)[0]
    post = SkillPosterior(p.dimensions)
    for j in rng.permutation(12):
        post.add_item(p, p.item_ids[j], int(y[j]))
    batch = eap(y[None, :], p)
    # batch scoring runs its products in float32; the incremental path is float64
    np.testing.assert_allclose(post.mean, batch.mean[0], atol=1e-6)
    np.testing.assert_allclose(post.sd, batch.sd[0], atol=1e-6)


def test_scenario_evidence_moves_and_sharpens_one_competency():
    post = SkillPosterior(("conflict", "trust"))
    before_mean, before_sd = post.mean.copy(), post.sd.copy()
    for _ in range(3):  # three strong choices, each an item with its own parameters
        post.add("conflict", a=1.2, b=np.array([-1.0, 0.0, 1.0]), category=3)
    assert post.mean[0] > before_mean[0] + 0.3 and post.sd[0] < before_sd[0]
    assert post.mean[1] == pytest.approx(before_mean[1]) and post.sd[1] == pytest.approx(before_sd[1])
    with pytest.raises(ValueError):
        post.add("conflict", a=1.2, b=np.array([-1.0, 0.0, 1.0]), category=4)


def test_pooling_sheets_and_rater_shifts(test3):
    p, rng = test3
    theta = correlated_thetas(300, 3, 0.0, rng)
    y_self = simulate_responses(theta + 0.6, p, rng)
    y_peer = simulate_responses(theta, p, rng)
    y = np.concatenate([y_self, y_peer])
    person = np.concatenate([np.arange(300), np.arange(300)])
    rater = np.array(["self"] * 300 + ["peer"] * 300)
    naive = score_sheets(y, person, 300, p, rater)
    fair = score_sheets(y, person, 300, p, rater, {"self": 0.6})
    assert (naive.mean - theta).mean() > 0.2 and abs((fair.mean - theta).mean()) < 0.08
    assert (fair.n_answered == 8).all()


def test_chunking_does_not_change_results(test3, monkeypatch):
    import workbench.skills.score as score

    p, rng = test3
    y = simulate_responses(correlated_thetas(50, 3, 0.0, rng), p, rng)
    whole = eap(y, p)
    monkeypatch.setattr(score, "CHUNK", 7)
    np.testing.assert_allclose(eap(y, p).mean, whole.mean, atol=1e-6)


def test_bad_category_is_refused(test3):
    p, _ = test3
    y = np.zeros((2, 12), int)
    y[1, 3] = 9
    with pytest.raises(ValueError, match="row 1, item i04"):
        eap(y, p)
