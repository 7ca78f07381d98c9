"""EffectivenessModel: conjugate updates, sampling, alignment, plain-dict round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest

from workbench.recommend import EffectivenessModel


def test_conjugate_updates_match_closed_form():
    model = EffectivenessModel.prior(["a", "b"], completion=(2.0, 2.0), gain=(0.1, 0.2), noise_sd=0.3)
    gains = [0.5, 0.7, 0.2]
    new = model.update(["a", "a", "a", "b"], completed=[True, True, False, None], gains=gains + [None])
    assert new.alpha.tolist() == [4.0, 2.0] and new.beta.tolist() == [3.0, 2.0]
    prec = 1 / 0.2**2 + 3 / 0.3**2
    assert new.gain_sd[0] == pytest.approx(prec**-0.5)
    assert new.gain_mean[0] == pytest.approx((0.1 / 0.2**2 + sum(gains) / 0.3**2) / prec)
    assert new.gain_mean[1] == 0.1 and new.gain_sd[1] == 0.2  # untouched
    assert model.alpha.tolist() == [2.0, 2.0]  # the original is unchanged
    one = model.update("b", completed=False, gains=0.4)
    assert one.beta[1] == 3.0 and one.gain_mean[1] > 0.1


def test_sampling_matches_the_posterior_mean():
    model = EffectivenessModel.prior(["a", "b", "c"]).update(["c"] * 30, completed=[True] * 30, gains=[0.6] * 30)
    draws = model.sample(np.random.default_rng(3), 40_000)
    assert draws.shape == (40_000, 3)
    np.testing.assert_allclose(draws.mean(axis=0), model.mean(), atol=0.004)
    assert model.sample(np.random.default_rng(3)).shape == (3,)
    assert model.mean()[2] > 3 * model.mean()[0]


def test_round_trip_and_alignment():
    model = EffectivenessModel.prior(["a", "b"]).update(["b"], completed=[True], gains=[0.9])
    back = EffectivenessModel.from_dict(json.loads(json.dumps(model.to_dict())))
    for name in ("alpha", "beta", "gain_mean", "gain_sd"):
        np.testing.assert_array_equal(getattr(back, name), getattr(model, name))
    assert back.module_ids == ("a", "b") and back.noise_sd == model.noise_sd
    wide = model.aligned(["c", "b", "a"])
    assert wide.module_ids == ("c", "b", "a")
    assert wide.gain_mean[1] == model.gain_mean[1] and wide.gain_mean[0] == model.prior_gain[0]


def test_bad_input():
    model = EffectivenessModel.prior(["a"])
    with pytest.raises(ValueError, match="unknown module 'zzz'"):
        model.update("zzz", completed=True)
    with pytest.raises(ValueError, match="must match module_ids"):
        model.update(["a", "a"], completed=[True])
    with pytest.raises(ValueError, match="gain for 'a' must be finite"):
        model.update("a", gains=float("nan"))
    with pytest.raises(ValueError, match="completed must be True, False or None"):
        model.update("a", completed=1)
    with pytest.raises(ValueError, match="not an effectiveness model dict"):
        EffectivenessModel.from_dict({"modules": {"a": {"alpha": 1}}})
    with pytest.raises(ValueError, match="alpha must be > 0"):
        EffectivenessModel(("a",), np.array([0.0]), np.array([1.0]), np.array([0.0]), np.array([1.0]))
