"""GradedResponseModel: the one estimator (fit returns self, learned attributes, InferenceData for
every method, score, save/load through the contract's one writer and reader)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from workbench.skills.data import DataError
from workbench.skills.grm import ItemParams
from workbench.skills.model import GradedResponseModel, NotFittedError
from workbench.skills.params import params_to_json


def test_fit_learns_trailing_underscore_attributes(map_model_2000x25, sim_2000x25):
    m = map_model_2000x25
    assert isinstance(m.items_, ItemParams) and m.method == "map" and m.seed == 1
    assert m.diagnostics_["method"] == "map" and m.fit_seconds_ > 0
    assert set(m.reliability_) == {"d1"} and m.correlation_.shape == (1, 1)
    assert m.a_sd_.shape == (25,) and (m.a_sd_ > 0).all() and m.b_sd_.shape == (25, 4)
    # the learned attributes are a frozen result
    with pytest.raises(AttributeError, match="read-only"):
        m.items_ = m.items_.subset([0])
    with pytest.raises(ValueError, match="read-only"):
        m.a_sd_[0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        m.items_.a[0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        m.draws_["a"][0, 0] = 1.0


def test_interval_from_draws_or_from_the_sds_of_a_loaded_model(map_model_2000x25, tmp_path):
    m = map_model_2000x25
    a_lo, a_hi, b_lo, b_hi = m.interval(0.9)
    assert (a_lo < m.items_.a).all() and (m.items_.a < a_hi).all()
    loaded = GradedResponseModel.load(m.save(tmp_path / "p.json"))
    assert loaded.draws_ is None
    la_lo, la_hi, lb_lo, lb_hi = loaded.interval(0.9)
    np.testing.assert_allclose(la_hi - la_lo, 2 * 1.6449 * loaded.a_sd_, rtol=1e-4)
    # the Laplace draws are Gaussian in the sampler's coordinates, so the two intervals nearly agree
    np.testing.assert_allclose(la_lo, a_lo, atol=0.02)
    np.testing.assert_allclose(lb_hi, b_hi, atol=0.05)


def test_subset_keeps_the_items_asked_for_in_their_order(map_model_2000x25):
    m = map_model_2000x25
    ids = list(m.items_.item_ids)
    sub = m.subset([ids[3], ids[0]])
    assert sub.items_.item_ids == (ids[3], ids[0])
    assert sub.a_sd_.tolist() == [m.a_sd_[3], m.a_sd_[0]] and sub.items_.a.tolist() == [m.items_.a[3], m.items_.a[0]]
    assert sub.rater_effects_ == m.rater_effects_ and sub.draws_ is None
    with pytest.raises(KeyError, match="not in the model"):
        m.subset(["no-such-item"])


def test_laplace_fit_has_inference_data(map_model_2000x25):
    post = map_model_2000x25.idata_.posterior
    J = len(map_model_2000x25.items_.item_ids)
    assert post["a"].shape[-1] == J and post["b"].shape[-2:] == (J, 4)
    # the draws' SDs are the reported posterior SDs
    a_sd = post["a"].values.reshape(-1, J).std(0)
    assert np.allclose(a_sd, map_model_2000x25.a_sd_, rtol=0, atol=1e-5)  # the JSON keeps 5 decimals


def test_save_and_load_round_trip_and_score_alike(map_model_2000x25, sim_2000x25, tmp_path):
    m = map_model_2000x25
    path = m.save(tmp_path / "p.json", seconds=1.5)
    loaded = GradedResponseModel.load(path)
    assert loaded.idata_ is None and loaded.diagnostics_["seconds"] == 1.5
    doc = json.loads(path.read_text())
    doc["diagnostics"].pop("seconds")
    assert loaded.to_json() | {"diagnostics": doc["diagnostics"]} == doc  # one writer, one reader
    data = sim_2000x25[2]
    a, b = m.score(data), loaded.score(data)
    assert np.array_equal(a.mean, b.mean) and np.array_equal(a.sd, b.sd)
    truth = sim_2000x25[1][:, 0]
    assert np.corrcoef(a.mean[:, 0], truth)[0, 1] > 0.9
    table = loaded.item_table()
    assert table["a_sd"].notna().all() and (table["a_sd"] > 0).all()
    assert np.allclose(table["a_sd"], m.item_table()["a_sd"], atol=1e-5)


def test_rater_effects_have_one_shape():
    from workbench.skills.simulate import make_test

    p = make_test(4, 1, np.random.default_rng(0))
    doc = params_to_json(p, rater_effects={"self": 0.4, "peer": {"mean": -0.1, "sd": 0.05}})
    assert doc["rater_effects"] == {"self": {"mean": 0.4, "sd": None}, "peer": {"mean": -0.1, "sd": 0.05}}
    model = GradedResponseModel.from_json(doc)
    assert model.rater_effects_ == doc["rater_effects"]
    assert model.shifts_ == {"self": 0.4, "peer": -0.1}
    bad = {**doc, "rater_effects": {"self": "high"}}
    with pytest.raises(DataError, match="rater_effects"):
        GradedResponseModel.from_json(bad)


def test_errors_are_clear(sim_2000x25):
    with pytest.raises(ValueError, match="unknown method 'em'"):
        GradedResponseModel("em")
    with pytest.raises(NotFittedError, match="not fitted"):
        GradedResponseModel().score(sim_2000x25[2])
    from workbench.skills.simulate import make_test

    other = GradedResponseModel.from_json(params_to_json(make_test(3, 1, np.random.default_rng(1))))
    with pytest.raises(ValueError, match="not the model's items"):
        other.score(sim_2000x25[2])
