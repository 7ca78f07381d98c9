"""Self-view against others' view: where a leader sees themself differently from the people around them.

Both views are skill posteriors on the same scale: the demo and the assessment edge score a
leader's self-ratings through the estimated self-rater shift (self-ratings that run high are
read as such), and the others' ratings through theirs. A gap here is therefore a gap *beyond*
the usual self-inflation, not the inflation itself.

For one competency, with self posterior N(mu_s, sd_s^2) and others' posterior N(mu_o, sd_o^2),
the difference ``mu_s - mu_o`` has SD ``sqrt(sd_s^2 + sd_o^2)`` (the two come from different
answer sheets, so their errors are independent given the item parameters) and the probability
that the self-view is the higher one is ``Phi(difference / difference_sd)``. A competency is

* a **blind spot** when the leader rates themself clearly above how others see them:
  ``P(self > others) >= CLEAR_PROBABILITY`` and ``difference >= MIN_GAP``;
* a **hidden strength** when others clearly see more than the leader does:
  ``P(self > others) <= 1 - CLEAR_PROBABILITY`` and ``difference <= -MIN_GAP``;
* **aligned** otherwise (including "we cannot tell yet").

Both conditions are needed: the probability alone would flag tiny, well-measured differences,
and the size alone would flag large differences that are mostly noise. Both posteriors are
shrunk towards the prior mean, the self-view more (it rests on one sheet), so gaps are, if
anything, understated. This module imports only numpy, pandas and scipy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtr  # the normal CDF; scipy.stats would add about a second to page loads

CLEAR_PROBABILITY = 0.975  # how sure we must be of the direction of a gap to label it
MIN_GAP = 0.3  # the smallest gap (in SD units of the skill scale) worth a label
DEFAULT_Z = 1.645  # a 90% interval

BLIND_SPOT = "blind spot"
HIDDEN_STRENGTH = "hidden strength"
ALIGNED = "aligned"
LABELS = (BLIND_SPOT, HIDDEN_STRENGTH, ALIGNED)

COLUMNS = [
    "competency", "self_mean", "self_sd", "self_low", "self_high",
    "others_mean", "others_sd", "others_low", "others_high",
    "difference", "difference_sd", "difference_low", "difference_high", "p_self_higher", "label",
]


@dataclass(frozen=True)
class PerceptionGap:
    """Self vs others per competency (rows in the order of the self frame).

    ``table`` has the columns of :data:`COLUMNS`: each view's mean, SD and ``z``-interval,
    the difference (self minus others) with its SD and interval, the probability that the
    self-view is higher, and the label.
    """

    table: pd.DataFrame
    z: float = DEFAULT_Z

    @property
    def blind_spots(self) -> tuple[str, ...]:
        return tuple(self.table.loc[self.table.label == BLIND_SPOT, "competency"])

    @property
    def hidden_strengths(self) -> tuple[str, ...]:
        return tuple(self.table.loc[self.table.label == HIDDEN_STRENGTH, "competency"])

    @property
    def empty(self) -> bool:
        return self.table.empty


def label_gap(difference: float, p_self_higher: float, *, clear: float = CLEAR_PROBABILITY,
              min_gap: float = MIN_GAP) -> str:
    """The label of one gap (see the module docstring for the rule)."""
    if p_self_higher >= clear and difference >= min_gap:
        return BLIND_SPOT
    if p_self_higher <= 1.0 - clear and difference <= -min_gap:
        return HIDDEN_STRENGTH
    return ALIGNED


def _frame(est: pd.DataFrame, which: str) -> pd.DataFrame:
    missing = {"competency", "mean", "sd"} - set(est.columns)
    if missing:
        raise ValueError(f"{which} estimates need columns competency, mean and sd; missing {sorted(missing)}")
    df = est[["competency", "mean", "sd"]].copy()
    if df.competency.duplicated().any():
        dup = df.competency[df.competency.duplicated()].iloc[0]
        raise ValueError(f"{which} estimates list competency {dup!r} twice")
    df["mean"], df["sd"] = df["mean"].astype(float), df["sd"].astype(float)
    bad = ~np.isfinite(df["mean"]) | ~np.isfinite(df["sd"]) | (df["sd"] <= 0)
    if bad.any():
        row = df[bad].iloc[0]
        raise ValueError(f"{which} estimate for {row.competency!r} needs a finite mean and a positive SD, "
                         f"got mean={row['mean']}, sd={row['sd']}")
    return df


def compare(self_est: pd.DataFrame, others_est: pd.DataFrame, z: float = DEFAULT_Z, *,
            clear: float = CLEAR_PROBABILITY, min_gap: float = MIN_GAP) -> PerceptionGap:
    """Compare a leader's self-view with others' view, competency by competency.

    Parameters
    ----------
    self_est, others_est
        Frames with ``competency``, ``mean`` and ``sd`` (as ``repo.latest_estimates`` returns
        for sources ``self`` and ``others``). Only competencies present in both are compared;
        an empty ``others_est`` (nobody's view may be shown yet) gives an empty result.
    z
        Half-width of the intervals in SDs (1.645: 90% intervals).
    clear, min_gap
        The labelling thresholds, :data:`CLEAR_PROBABILITY` and :data:`MIN_GAP` by default.

    Returns
    -------
    PerceptionGap
    """
    if not z > 0:
        raise ValueError(f"z must be positive, got {z}")
    if not 0.5 < clear < 1:
        raise ValueError(f"clear must lie between 0.5 and 1, got {clear}")
    if min_gap < 0:
        raise ValueError(f"min_gap must not be negative, got {min_gap}")
    s, o = _frame(self_est, "self"), _frame(others_est, "others")
    df = s.merge(o, on="competency", how="inner", suffixes=("_s", "_o"), sort=False)
    out = pd.DataFrame({"competency": df.competency.astype(str),
                        "self_mean": df.mean_s, "self_sd": df.sd_s,
                        "others_mean": df.mean_o, "others_sd": df.sd_o})
    for who in ("self", "others"):
        out[f"{who}_low"] = out[f"{who}_mean"] - z * out[f"{who}_sd"]
        out[f"{who}_high"] = out[f"{who}_mean"] + z * out[f"{who}_sd"]
    out["difference"] = out.self_mean - out.others_mean
    out["difference_sd"] = np.sqrt(out.self_sd**2 + out.others_sd**2)
    out["difference_low"] = out.difference - z * out.difference_sd
    out["difference_high"] = out.difference + z * out.difference_sd
    out["p_self_higher"] = ndtr(out.difference / out.difference_sd) if len(out) else np.array([], float)
    out["label"] = [label_gap(d, p, clear=clear, min_gap=min_gap)
                    for d, p in zip(out.difference, out.p_self_higher, strict=True)]
    return PerceptionGap(out[COLUMNS].reset_index(drop=True), float(z))


def biggest_gaps(gap: PerceptionGap, k: int = 3, labelled_only: bool = True) -> pd.DataFrame:
    """The ``k`` largest gaps by size (either direction), largest first.

    With ``labelled_only`` (the default) only blind spots and hidden strengths are listed,
    so a leader whose views agree gets an empty frame rather than noise dressed up as a gap.
    """
    if k < 0:
        raise ValueError(f"k must not be negative, got {k}")
    t = gap.table
    if labelled_only:
        t = t[t.label != ALIGNED]
    order = t.difference.abs().sort_values(ascending=False, kind="stable").index
    return t.loc[order].head(k).reset_index(drop=True)
