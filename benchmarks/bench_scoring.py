"""Scoring benchmark: EAP throughput and latency, and the incremental posterior update.

Each operation is compared, in this process, with a naive reference that scores one person
at a time in a Python loop: start from the prior's log-weights on the same quadrature grid,
add the precomputed row log P(Y_j = y | node) of every answered item, normalize, take the
mean and SD. The reference shares the probability table with ``eap`` (so it measures the
per-person loop, not the table), and its scores are checked against ``eap``'s.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.special import logsumexp

from workbench.skills.grm import MISSING, ItemParams, simulate_responses
from workbench.skills.score import SkillPosterior, eap, log_prob_table, quadrature
from workbench.skills.simulate import correlated_thetas, make_test

from ._common import BenchResult, Column, median_time, timed

N_LEADERS = 100_000
N_ITEMS = 60
N_DIMS = 8
N_POINTS = 61  # score.py's default grid
SEED = 20_242


def naive_eap(y: np.ndarray, params: ItemParams, n_points: int = N_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """Reference EAP: a Python loop over persons and items on a shared probability table.

    Parameters
    ----------
    y
        Category indices (N, J), ``-1`` missing.
    params
        Item parameters.
    n_points
        Quadrature nodes.

    Returns
    -------
    mean, sd
        Posterior means and SDs, (N, D) each.
    """
    nodes, logw = quadrature(n_points)
    table = log_prob_table(params, nodes)  # (J, Kmax, Q)
    D = len(params.dimensions)
    blocks = [np.flatnonzero(params.dimension == d) for d in range(D)]
    mean, sd = np.empty((y.shape[0], D)), np.empty((y.shape[0], D))
    for n in range(y.shape[0]):
        row = y[n]
        for d, idx in enumerate(blocks):
            lp = logw.copy()
            for j in idx:
                if row[j] != MISSING:
                    lp += table[j, row[j]]
            p = np.exp(lp - logsumexp(lp))
            m = p @ nodes
            mean[n, d] = m
            sd[n, d] = np.sqrt(max(p @ nodes**2 - m * m, 0.0))
    return mean, sd


COLUMNS = [
    Column("operation", "operation", justify="left"),
    Column("size", "size", justify="left"),
    Column("ours", "ours"),
    Column("reference", "naive loop"),
    Column("speedup", "speed-up", "{:.1f}x"),
    Column("agreement", "max |d mean|", "{:.1e}"),
    Column("notes", "notes", justify="left"),
]


def run(quick: bool = False, log: Callable[[str], None] = print) -> BenchResult:
    """Time ``eap`` on 100,000 x 60 (8 dims), one-leader latency and ``SkillPosterior.add``.

    Parameters
    ----------
    quick
        Fewer repetitions and a smaller sample for the (slow) naive reference.
    log
        Progress messages.
    """
    rng = np.random.default_rng(SEED)
    params = make_test(N_ITEMS, N_DIMS, rng)
    theta = correlated_thetas(N_LEADERS, N_DIMS, 0.3, rng)
    y = simulate_responses(theta, params, rng)
    n_ref = 2_000 if quick else 10_000
    repeat = 3 if quick else 5
    size = f"{N_LEADERS:,} x {N_ITEMS} ({N_DIMS} dims)"
    result = BenchResult("scoring", "Scoring: EAP throughput, latency, incremental update", COLUMNS)
    result.meta.update({"quick": quick, "n_leaders": N_LEADERS, "n_items": N_ITEMS, "n_dims": N_DIMS,
                        "n_points": N_POINTS, "n_reference_sample": n_ref, "repeat": repeat, "seed": SEED})

    # --- throughput
    log(f"scoring: eap on {size} ...")
    eap(y[:1000], params)  # warm-up
    t_eap = median_time(lambda: eap(y, params), repeat)
    scores = eap(y, params)
    log(f"scoring: naive loop on {n_ref:,} leaders ...")
    t_ref, (ref_mean, _) = timed(lambda: naive_eap(y[:n_ref], params))
    ours_rate, ref_rate = N_LEADERS / t_eap, n_ref / t_ref
    result.rows.append({
        "operation": "eap throughput", "size": size,
        "ours": f"{ours_rate:,.0f} leaders/s", "reference": f"{ref_rate:,.0f} leaders/s",
        "speedup": ours_rate / ref_rate,
        "agreement": float(np.abs(scores.mean[:n_ref] - ref_mean).max()),
        "notes": f"ours {t_eap:.2f} s (median of {repeat}); naive on {n_ref:,} leaders, {t_ref:.1f} s",
        "ours_leaders_per_s": ours_rate, "reference_leaders_per_s": ref_rate,
        "ours_seconds": t_eap, "reference_seconds": t_ref,
    })

    # --- one leader
    log("scoring: one-leader latency ...")
    n_lat = 200 if quick else 1000
    rows = [y[i : i + 1] for i in range(n_lat)]
    it = iter(range(10**9))
    t_one = median_time(lambda: eap(rows[next(it) % n_lat], params), repeat=n_lat)
    it = iter(range(10**9))
    t_one_ref = median_time(lambda: naive_eap(rows[next(it) % n_lat], params), repeat=n_lat)
    result.rows.append({
        "operation": "eap latency, one leader", "size": f"1 x {N_ITEMS} ({N_DIMS} dims)",
        "ours": f"{t_one * 1e3:.2f} ms", "reference": f"{t_one_ref * 1e3:.2f} ms",
        "speedup": t_one_ref / t_one, "agreement": None,
        "notes": f"median over {n_lat} leaders; both build the table",
        "ours_ms": t_one * 1e3, "reference_ms": t_one_ref * 1e3,
    })

    # --- incremental update
    log("scoring: SkillPosterior.add ...")
    result.rows.append(_add_row(params, y[0], quick))
    result.notes += [
        "naive loop: per person and dimension, prior log-weights + one precomputed table row per answered item, "
        "then normalize (see naive_eap); same grid and table as eap.",
        "speed-up: naive time / ours (higher is better for ours). max |d mean|: largest difference of posterior "
        "means, eap vs naive on the reference sample, and after 60 adds vs eap (eap works in float32).",
        "ratios are measured here and now, not thresholds: they vary with the machine and its load.",
    ]
    return result


def _add_row(params: ItemParams, answers: np.ndarray, quick: bool) -> dict[str, Any]:
    """``SkillPosterior.add`` per answer vs rescoring the leader from scratch with the naive loop.

    One leader answers the 60 items in turn. Incremental: one ``add`` per answer. Reference:
    without an incremental posterior, each new answer means rescoring all answers so far;
    its cost is averaged over answer counts 1..60.
    """
    J = params.n_items
    calls = [(int(params.dimension[j]), float(params.a[j]), params.thresholds(j), int(answers[j])) for j in range(J)]
    rounds = 20 if quick else 100

    def one_pass() -> None:
        post = SkillPosterior(params.dimensions, N_POINTS)
        for d, a, b, k in calls:
            post.add(d, a, b, k)

    one_pass()
    t_add = median_time(one_pass, repeat=rounds) / J
    post = SkillPosterior(params.dimensions, N_POINTS)
    for d, a, b, k in calls:
        post.add(d, a, b, k)
    full = eap(answers[None, :], params)
    partial = np.full((J, J), MISSING)
    for m in range(J):
        partial[m, : m + 1] = answers[: m + 1]
    t_rescore = median_time(lambda: naive_eap(partial, params), repeat=max(3, rounds // 10)) / J
    return {
        "operation": "SkillPosterior.add", "size": f"1 answer, {N_POINTS} nodes",
        "ours": f"{t_add * 1e6:.1f} us", "reference": f"{t_rescore * 1e6:.1f} us",
        "speedup": t_rescore / t_add,
        "agreement": float(np.abs(post.mean - full.mean[0]).max()),
        "notes": f"naive: rescore all answers so far (mean over 1..{J})",
        "ours_us": t_add * 1e6, "reference_us": t_rescore * 1e6,
    }
