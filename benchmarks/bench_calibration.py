"""Calibration benchmark: time and parameter recovery on simulated GRM data.

Our ``calibrate`` (``map`` and ``nuts``) runs side by side, in this process, with two
established marginal maximum-likelihood GRM estimators: ``girth.grm_mml`` and the ``mirt``
package's ``fit_mirt(model="GRM")`` (EM). Every estimate is put into our parameterization,

    P(Y >= k | theta) = logistic(a (theta - b_k)),  k = 1..K-1, categories indexed 0..K-1,

before it is compared with the true parameters that generated the data.

Both reference packages are unidimensional here: girth has no multidimensional GRM, and
mirt's EM integrates on a full tensor grid (``n_quadpts ** n_factors`` nodes, 41**8 for 8
dimensions), so they are fitted one dimension at a time. Each item loads on one dimension
and theta_d ~ N(0, 1), so this is the same per-dimension marginal likelihood that our model
uses (see the ``calibrate`` module docstring).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.stats import norm

from workbench.skills.calibrate import NUTS_DRAWS, ConvergenceWarning, calibrate
from workbench.skills.data import ResponseData
from workbench.skills.grm import MISSING, ItemParams, category_probs
from workbench.skills.simulate import correlated_thetas, make_test, simulate_data

from ._common import BenchResult, Column, timed

LEVEL = 0.9  # central interval whose coverage is reported
N_QUADPTS = 41  # quadrature points for ours (calibrate's default) and for mirt; girth's default is 41 too
ESTIMATORS = ("map", "nuts", "girth", "mirt")


@dataclass(frozen=True)
class Case:
    """A simulated data set: persons x items, items spread evenly over dimensions."""

    key: str
    n_persons: int
    n_items: int
    n_dims: int
    seed: int
    n_categories: int = 5
    rho: float = 0.3  # correlation between dimensions

    @property
    def label(self) -> str:
        dims = "1 dim" if self.n_dims == 1 else f"{self.n_dims} dims"
        return f"{self.n_persons:,} x {self.n_items} ({dims})"


CASES = {
    "small": Case("small", 2_000, 25, 1, seed=20_240),
    "large": Case("large", 10_000, 60, 8, seed=20_241),
}


@dataclass
class Estimate:
    """Item parameters from one estimator, in our parameterization (NaN where not estimated)."""

    a: np.ndarray  # (J,)
    b: np.ndarray  # (J, Kmax-1)
    interval: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None  # a_lo, a_hi, b_lo, b_hi
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


def simulate_case(case: Case) -> tuple[ItemParams, ResponseData]:
    """The true parameters and the simulated responses of a case (fixed seed)."""
    rng = np.random.default_rng(case.seed)
    truth = make_test(case.n_items, case.n_dims, rng, n_categories=case.n_categories)
    theta = correlated_thetas(case.n_persons, case.n_dims, case.rho, rng)
    return truth, simulate_data(truth, theta, rng)


# ----------------------------------------------------------------------------- estimators
def fit_ours(data: ResponseData, method: str, seed: int = 0) -> Estimate:
    """Our ``calibrate`` with its default settings (NUTS: 1,800 draws per chain after 200 tuning steps,
    2 chains); intervals are the central 90% of the draws (Laplace draws for map)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        cal = calibrate(data, method=method, chains=2, seed=seed, n_points=N_QUADPTS, progressbar=False)
    notes = []
    diag = cal.diagnostics_
    if method == "nuts":
        notes.append(f"{diag['tune']}+{diag['draws']} x2 chains; r-hat {diag['max_rhat']:.3f}, ESS {diag['min_ess_bulk']:.0f}, "
                     f"{diag['divergences']} div")
    else:
        notes.append("Laplace at mode" + ("" if diag.get("converged") else "; L-BFGS not converged"))
    notes += [f"warning: {w.message}" for w in caught if issubclass(w.category, ConvergenceWarning)]
    return Estimate(cal.items_.a, cal.items_.b, cal.interval(LEVEL), notes, {"diagnostics": diag})


def _blocks(data: ResponseData) -> list[np.ndarray]:
    """Item indices of each dimension."""
    return [np.flatnonzero(data.items.dimension == d) for d in range(len(data.items.dimensions))]


def fit_girth(data: ResponseData) -> Estimate:
    """``girth.grm_mml`` (marginal ML, default options), one dimension at a time.

    girth takes items x persons and recodes each item's observed values to 0..(number seen)-1;
    its GRM is P(Y >= k) = expit(a (theta - beta_k)), our form, so the thresholds line up
    with our category indices whenever every category of an item was observed. Items with an
    unobserved category are left out (NaN), since their thresholds cannot be matched.
    It returns no standard errors.
    """
    from girth import INVALID_RESPONSE, grm_mml

    spec = data.items
    J, Kmax = len(spec.item_ids), int(spec.n_categories.max())
    a, b = np.full(J, np.nan), np.full((J, Kmax - 1), np.nan)
    dropped = 0
    for idx in _blocks(data):
        y = data.y[:, idx]
        res = grm_mml(np.where(y == MISSING, INVALID_RESPONSE, y).T)
        for i, j in enumerate(idx):
            K = int(spec.n_categories[j])
            seen = np.unique(y[:, i][y[:, i] != MISSING])
            if not np.array_equal(seen, np.arange(K)):
                dropped += 1
                continue
            a[j] = res["Discrimination"][i]
            b[j, : K - 1] = res["Difficulty"][i, : K - 1]
    notes = ["marginal ML, no SEs"]
    if len(_blocks(data)) > 1:
        notes.append(f"fit per dim x{len(_blocks(data))}")
    if dropped:
        notes.append(f"{dropped} items with an unseen category left out")
    return Estimate(a, b, None, notes)


def fit_mirt(data: ResponseData) -> Estimate:
    """``mirt.fit_mirt(model="GRM")`` (EM, marginal ML), one dimension at a time.

    For one factor mirt's GRM is P(Y >= k+1) = sigmoid(a (theta - thresholds[k])) on
    categories 0..K-1: our form. That is checked here on a theta grid against mirt's own
    ``model.probability``. Intervals are Wald intervals from mirt's standard errors
    (observed information by Oakes' identity).
    """
    import mirt

    spec = data.items
    J, Kmax = len(spec.item_ids), int(spec.n_categories.max())
    a, b = np.full(J, np.nan), np.full((J, Kmax - 1), np.nan)
    se_a, se_b = np.full(J, np.nan), np.full((J, Kmax - 1), np.nan)
    grid = np.linspace(-3.0, 3.0, 13)[:, None]
    max_dp, converged, se_methods = 0.0, True, set()
    for idx in _blocks(data):
        K = spec.n_categories[idx]
        fit = mirt.fit_mirt(data.y[:, idx], model="GRM", n_categories=[int(k) for k in K],
                            n_quadpts=N_QUADPTS, item_names=[spec.item_ids[j] for j in idx])
        converged &= bool(fit.converged)
        se_methods.add(str(fit.se_method))
        pars, ses = fit.model.parameters, fit.standard_errors
        p_mirt = fit.model.probability(grid)  # (Q, J_d, Kmax)
        for i, j in enumerate(idx):
            k = int(K[i])
            a[j] = pars["discrimination"][i]
            b[j, : k - 1] = pars["thresholds"][i, : k - 1]
            if ses:
                se_a[j] = ses["discrimination"][i]
                se_b[j, : k - 1] = ses["thresholds"][i, : k - 1]
            ours = category_probs(grid[:, 0], a[j], b[j, : k - 1])
            max_dp = max(max_dp, float(np.abs(ours - p_mirt[:, i, :k]).max()))
    z = norm.ppf(0.5 + LEVEL / 2)
    interval = (a - z * se_a, a + z * se_a, b - z * se_b, b + z * se_b) if np.isfinite(se_a).any() else None
    notes = [f"EM, Wald SE ({'/'.join(sorted(se_methods))})"]
    if len(_blocks(data)) > 1:
        notes.append(f"fit per dim x{len(_blocks(data))}")
    if not converged:
        notes.append("EM not converged")
    if max_dp > 1e-8:
        notes.append(f"PARAMETERIZATION MISMATCH: max |dP| {max_dp:.2g}")
    return Estimate(a, b, interval, notes, {"max_abs_prob_diff_vs_mirt": max_dp, "converged": converged})


# ----------------------------------------------------------------------------- recovery
def recovery(truth: ItemParams, est: Estimate) -> dict[str, Any]:
    """RMSE, correlation with truth and interval coverage of a and of the thresholds b."""
    out: dict[str, Any] = {}
    b_true = truth.b
    for name, t, e, lo_hi in (
        ("a", truth.a, est.a, None if est.interval is None else est.interval[:2]),
        ("b", b_true, est.b, None if est.interval is None else est.interval[2:]),
    ):
        mask = np.isfinite(t) & np.isfinite(e)
        tv, ev = t[mask], e[mask]
        out[f"rmse_{name}"] = float(np.sqrt(np.mean((ev - tv) ** 2))) if tv.size else None
        out[f"bias_{name}"] = float(np.mean(ev - tv)) if tv.size else None
        out[f"corr_{name}"] = float(np.corrcoef(tv, ev)[0, 1]) if tv.size > 1 else None
        out[f"n_{name}"] = int(tv.size)
        if lo_hi is None:
            out[f"cover_{name}"] = None
        else:
            lo, hi = lo_hi[0][mask], lo_hi[1][mask]
            ok = np.isfinite(lo) & np.isfinite(hi)
            out[f"cover_{name}"] = float(np.mean((lo[ok] <= tv[ok]) & (tv[ok] <= hi[ok]))) if ok.any() else None
    return out


# ----------------------------------------------------------------------------- runner
COLUMNS = [
    Column("estimator", "estimator", justify="left"),
    Column("data", "data (persons x items)", justify="left"),
    Column("seconds", "seconds", "{:.1f}"),
    Column("rmse_a", "RMSE a", "{:.3f}"),
    Column("rmse_b", "RMSE b", "{:.3f}"),
    Column("corr_a", "corr a", "{:.3f}"),
    Column("corr_b", "corr b", "{:.3f}"),
    Column("cover_a", f"{LEVEL:.0%} cover a", "{:.0%}"),
    Column("cover_b", f"{LEVEL:.0%} cover b", "{:.0%}"),
    Column("notes", "notes", justify="left"),
]

LABELS = {"map": "ours map", "nuts": "ours nuts", "girth": "girth grm_mml", "mirt": "mirt fit_mirt GRM"}


def run(quick: bool = False, full: bool = False, estimators: tuple[str, ...] = ESTIMATORS,
        sizes: tuple[str, ...] = tuple(CASES), log: Callable[[str], None] = print) -> BenchResult:
    """Fit every selected estimator on every selected case and tabulate recovery.

    Parameters
    ----------
    quick
        Accepted for symmetry with the scoring benchmark; it changes nothing here. NUTS always
        runs calibrate's defaults (2 chains of 200 tuning steps and 1,800 draws with the Laplace
        mass matrix): an unconverged fit says nothing about recovery.
    full
        Also run NUTS on the large case (10,000 x 60), which takes tens of minutes.
    estimators
        Subset of ``ESTIMATORS``.
    sizes
        Subset of ``CASES`` keys.
    log
        Progress messages.
    """
    logging.getLogger("pymc").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", message=".*installed via pip.*")
    result = BenchResult("calibration", "Calibration: time and parameter recovery (simulated GRM data)", COLUMNS)
    result.meta.update({"quick": quick, "full": full, "level": LEVEL, "n_quadpts": N_QUADPTS,
                        "nuts": {"draws": NUTS_DRAWS, "tune": "calibrate's default", "chains": 2}, "cases": {}})
    fitters: dict[str, Callable[[ResponseData], Estimate]] = {
        "map": lambda d: fit_ours(d, "map"),
        "nuts": lambda d: fit_ours(d, "nuts"),
        "girth": fit_girth,
        "mirt": fit_mirt,
    }
    for key in sizes:
        case = CASES[key]
        truth, data = simulate_case(case)
        result.meta["cases"][key] = {"label": case.label, "n_persons": case.n_persons, "n_items": case.n_items,
                                     "n_dims": case.n_dims, "n_categories": case.n_categories, "rho": case.rho,
                                     "seed": case.seed}
        for name in estimators:
            row: dict[str, Any] = {"estimator": LABELS[name], "data": case.label, "case": key, "method": name}
            if name == "nuts" and key == "large" and not full:
                result.notes.append(f"ours nuts on {case.label} not run (takes tens of minutes): add --full.")
                continue
            log(f"calibration: {LABELS[name]} on {case.label} ...")
            try:
                seconds, est = timed(lambda n=name, d=data: fitters[n](d))
            except ImportError as exc:
                row["notes"] = f"not installed ({exc.name}); pip install '.[benchmarks]'"
                result.rows.append(row)
                continue
            except Exception as exc:  # a failing reference estimator is reported, not fatal
                row["notes"] = f"failed: {type(exc).__name__}: {exc}"[:120]
                result.rows.append(row)
                continue
            row.update({"seconds": seconds, **recovery(truth, est), "notes": "; ".join(est.notes), **est.extra})
            result.rows.append(row)
            log(f"  {seconds:.1f} s, RMSE a {row['rmse_a']:.3f}, RMSE b {row['rmse_b']:.3f}")
    result.notes += [
        "seconds: wall clock of one fit call in this process (ours includes the inter-dimension correlation "
        "and reliability step); one run, not a median.",
        "RMSE / corr over all items (a) and all thresholds (b), after conversion to "
        "P(Y>=k|theta)=logistic(a(theta-b_k)) on categories 0..K-1.",
        f"cover: share of true values inside the central {LEVEL:.0%} interval (ours: posterior or Laplace draws; "
        "mirt: estimate +/- 1.645 SE); '-' where the estimator gives no standard errors.",
    ]
    return result
