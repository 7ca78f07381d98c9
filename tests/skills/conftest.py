"""Simulated data sets and fitted calibrations shared by the skill-model tests (fit once)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest


@pytest.fixture(scope="session")
def sim_2000x25():
    """2,000 respondents x 25 five-point items on one dimension: the recovery benchmark."""
    from workbench.skills.simulate import correlated_thetas, make_test, simulate_data

    rng = np.random.default_rng(20261129)
    params = make_test(25, 1, rng)
    theta = correlated_thetas(2000, 1, 0.0, rng)
    return params, theta, simulate_data(params, theta, rng)


@pytest.fixture(scope="session")
def map_model_2000x25(sim_2000x25):
    """The estimator fitted once (Laplace); its frozen fit is ``map_2000x25``."""
    from workbench.skills.model import GradedResponseModel

    return GradedResponseModel("map", seed=1).fit(sim_2000x25[2])


@pytest.fixture(scope="session")
def map_2000x25(map_model_2000x25):
    return map_model_2000x25


@pytest.fixture(scope="session")
def nuts_2000x25(sim_2000x25):
    from workbench.skills.calibrate import calibrate

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return calibrate(sim_2000x25[2], method="nuts", seed=1, progressbar=False)


def recovery(cal, params):
    """RMSE of a and b, and 90% interval coverage of a and b, against the true values."""
    seen = ~np.isnan(params.b)
    a_lo, a_hi, b_lo, b_hi = cal.interval(0.9)
    return {
        "rmse_a": float(np.sqrt(np.mean((cal.items_.a - params.a) ** 2))),
        "rmse_b": float(np.sqrt(np.mean((cal.items_.b[seen] - params.b[seen]) ** 2))),
        "cover_a": float(np.mean((params.a >= a_lo) & (params.a <= a_hi))),
        "cover_b": float(np.mean(((params.b >= b_lo) & (params.b <= b_hi))[seen])),
    }
