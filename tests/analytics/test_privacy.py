"""The small-group rule: aggregates over fewer than MIN_GROUP leaders are withheld, never shown."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from workbench.analytics import MIN_GROUP, group_mean, is_suppressed, suppress


def test_min_group_is_five():
    assert MIN_GROUP == 5
    assert is_suppressed(4) and not is_suppressed(5) and is_suppressed(0) and is_suppressed(float("nan"))


def test_group_mean_withholds_small_groups():
    assert group_mean(pd.Series([1.0, 2.0, 3.0, 4.0])) == (4, pytest.approx(float("nan"), nan_ok=True))
    n, mean = group_mean(pd.Series([1.0, 2.0, 3.0, 4.0, 5.0]))
    assert (n, mean) == (5, 3.0)
    n, mean = group_mean(pd.Series([1.0, 2.0, 3.0, 4.0, None, None]))  # missing values do not count
    assert n == 4 and math.isnan(mean)


def test_suppress_blanks_values_and_flags_rows():
    frame = pd.DataFrame({"group": ["a", "b"], "n": [4, 5], "mean": [0.7, 0.2], "share": [0.5, 0.4]})
    out = suppress(frame, "n", ["mean", "share"])
    assert out["suppressed"].tolist() == [True, False]
    assert out.loc[0, ["mean", "share"]].isna().all()
    assert out.loc[1, "mean"] == 0.2 and out.loc[1, "share"] == 0.4
    assert 0.7 not in out.to_numpy().ravel().tolist()
    assert frame.loc[0, "mean"] == 0.7  # the input is left alone
