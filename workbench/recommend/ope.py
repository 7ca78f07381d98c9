"""Off-policy evaluation: the value a candidate policy would have had, from logged choices.

A log holds, per logged decision ``i``, the action ``a_i`` the logging policy chose, the
probability ``mu_i`` it gave that action (the recommendation's ``propensity``) and the
reward ``r_i`` that followed. Given the candidate policy's probabilities ``pi(a | x_i)`` in
each logged context, with importance weights ``w_i = pi(a_i | x_i) / mu_i``:

* **IPS** ``V = mean(w_i r_i)``: unbiased when ``mu > 0`` wherever ``pi > 0``; its variance
  grows with the spread of the weights.
* **SNIPS** ``V = sum(w_i r_i) / sum(w_i)``: self-normalized; slightly biased (order
  ``1/n``) but invariant to adding a constant to all rewards, and usually far less variable.
* **DR** ``V = mean(sum_a pi(a | x_i) q(x_i, a) + w_i (r_i - q(x_i, a_i)))`` with a reward
  model ``q``: unbiased like IPS whatever ``q`` is, and less variable the better ``q`` fits.

Intervals are either normal (``ci="normal"``: the estimate plus or minus ``z`` times the
standard error from the empirical variance of each estimator's per-decision terms, for
SNIPS those of its linearization ``w_i (r_i - V) / mean(w)``) or percentile bootstrap
(``ci="bootstrap"``). The effective sample size ``(sum w)^2 / sum w^2`` is reported with
every estimate: when it is small, few decisions carry the estimate and the interval deserves
little trust.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import norm

ESTIMATORS = ("ips", "snips", "dr")
_BOOT_CHUNK = 200
_BOOT_CELLS = 2_000_000  # resampled decisions held at once


@dataclass(frozen=True, eq=False)
class BanditLog:
    """Logged decisions: actions (int indices), logging propensities, rewards, optional contexts."""

    actions: np.ndarray
    propensities: np.ndarray
    rewards: np.ndarray
    contexts: tuple[Any, ...] | None = None

    def __post_init__(self) -> None:
        a = np.asarray(self.actions)
        p = np.asarray(self.propensities, dtype=float)
        r = np.asarray(self.rewards, dtype=float)
        if a.ndim != 1 or a.size == 0:
            raise ValueError(f"actions must be a non-empty 1-D array, got shape {a.shape}")
        if not np.issubdtype(a.dtype, np.integer):
            if not np.all(np.equal(np.mod(a, 1), 0)):
                raise ValueError("actions must be integer action indices (use BanditLog.from_records for ids)")
            a = a.astype(np.int64)
        if a.min() < 0:
            raise ValueError(f"actions must be >= 0, got {int(a.min())} at index {int(a.argmin())}")
        for name, x in (("propensities", p), ("rewards", r)):
            if x.shape != a.shape:
                raise ValueError(f"{name} has shape {x.shape}, actions {a.shape}")
            bad = ~np.isfinite(x)
            if bad.any():
                raise ValueError(f"{name} must be finite (index {int(np.argmax(bad))})")
        bad = (p <= 0) | (p > 1)
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(f"propensities must be in (0, 1], got {p[i]!r} at index {i}")
        if self.contexts is not None and len(self.contexts) != a.size:
            raise ValueError(f"contexts has {len(self.contexts)} entries for {a.size} decisions")
        object.__setattr__(self, "actions", a)
        object.__setattr__(self, "propensities", p)
        object.__setattr__(self, "rewards", r)
        if self.contexts is not None:
            object.__setattr__(self, "contexts", tuple(self.contexts))

    def __len__(self) -> int:
        return int(self.actions.size)

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]], actions: Sequence[str]) -> BanditLog:
        """From dicts with ``action`` (an id in ``actions``), ``propensity``, ``reward`` and
        optionally ``context`` (an id or features, carried along)."""
        pos = {a: i for i, a in enumerate(actions)}
        acts, props, rews, ctxs = [], [], [], []
        for i, rec in enumerate(records):
            try:
                act = rec["action"]
                props.append(float(rec["propensity"]))
                rews.append(float(rec["reward"]))
            except (KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"record {i}: needs action, propensity and reward ({exc})") from None
            if act not in pos:
                raise ValueError(f"record {i}: unknown action {act!r}")
            acts.append(pos[act])
            ctxs.append(rec.get("context"))
        return cls(np.array(acts, dtype=np.int64), np.array(props), np.array(rews), tuple(ctxs))


@dataclass(frozen=True)
class Estimate:
    """A policy-value estimate with its interval and the effective sample size of the weights."""

    estimator: str
    value: float
    se: float
    ci_low: float
    ci_high: float
    level: float
    method: str
    n: int
    ess: float

    def covers(self, truth: float) -> bool:
        return self.ci_low <= truth <= self.ci_high


def effective_sample_size(weights: np.ndarray) -> float:
    """``(sum w)^2 / sum w^2``: how many equally weighted decisions the weights are worth."""
    w = np.asarray(weights, dtype=float)
    s2 = float(np.sum(w * w))
    return float(np.sum(w)) ** 2 / s2 if s2 > 0 else 0.0


def _target_of_logged(log: BanditLog, target: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    t = np.asarray(target, dtype=float)
    n = len(log)
    if t.ndim == 1:
        if t.shape != (n,):
            raise ValueError(f"target has {t.shape[0]} probabilities for {n} logged decisions")
        matrix = None
        logged = t
    elif t.ndim == 2:
        if t.shape[0] != n:
            raise ValueError(f"target has {t.shape[0]} rows for {n} logged decisions")
        if log.actions.max() >= t.shape[1]:
            raise ValueError(f"logged action {int(log.actions.max())} is outside the target's "
                             f"{t.shape[1]} actions")
        if np.any(t.sum(axis=1) > 1 + 1e-6):
            i = int(np.argmax(t.sum(axis=1)))
            raise ValueError(f"target row {i} sums to {t[i].sum():.6f} > 1")
        matrix = t
        logged = t[np.arange(n), log.actions]
    else:
        raise ValueError(f"target must be (n,) or (n, actions), got shape {t.shape}")
    if not np.all(np.isfinite(t)) or np.any(t < 0) or np.any(t > 1):
        raise ValueError("target probabilities must be in [0, 1]")
    return logged, matrix


def _interval(estimator: str, value: float, terms: np.ndarray, boot: np.ndarray | None, level: float,
              method: str, ess: float) -> Estimate:
    n = terms.size
    se = float(np.std(terms, ddof=1) / np.sqrt(n)) if n > 1 else float("inf")
    if method == "normal":
        z = float(norm.ppf(0.5 + level / 2))
        lo, hi = value - z * se, value + z * se
    else:
        assert boot is not None
        lo, hi = (float(x) for x in np.quantile(boot, [(1 - level) / 2, (1 + level) / 2]))
    return Estimate(estimator, float(value), se, float(lo), float(hi), level, method, n, ess)


def _check(level: float, ci: str, n_boot: int) -> None:
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    if ci not in ("normal", "bootstrap"):
        raise ValueError(f"ci must be 'normal' or 'bootstrap', got {ci!r}")
    if ci == "bootstrap" and (isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 100):
        raise ValueError(f"n_boot must be an integer >= 100, got {n_boot!r}")


def _boot_sums(columns: Sequence[np.ndarray], n_boot: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Per bootstrap resample (decisions drawn with replacement), each column's sum."""
    n = columns[0].size
    stacked = np.stack(columns, axis=1)  # (n, k)
    chunk = max(1, min(_BOOT_CHUNK, _BOOT_CELLS // n))
    out = []
    for start in range(0, n_boot, chunk):
        idx = rng.integers(0, n, size=(min(chunk, n_boot - start), n))
        out.append(stacked[idx].sum(axis=1))
    sums = np.concatenate(out)
    return [sums[:, j] for j in range(stacked.shape[1])]


def _rng(rng: np.random.Generator | int | None) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def ips(log: BanditLog, target: np.ndarray, *, level: float = 0.95, ci: str = "normal", n_boot: int = 1000,
        rng: np.random.Generator | int | None = None) -> Estimate:
    """Inverse propensity scoring.

    Parameters
    ----------
    log
        The logged decisions.
    target
        The candidate's probabilities: ``(n, A)`` over all actions, or ``(n,)`` for the
        logged actions only.
    level, ci, n_boot, rng
        Interval level, ``"normal"`` or ``"bootstrap"``, resamples, and their generator.
    """
    _check(level, ci, n_boot)
    pi, _ = _target_of_logged(log, target)
    w = pi / log.propensities
    terms = w * log.rewards
    boot = None
    if ci == "bootstrap":
        boot = _boot_sums([terms], n_boot, _rng(rng))[0] / len(log)
    return _interval("ips", float(terms.mean()), terms, boot, level, ci, effective_sample_size(w))


def snips(log: BanditLog, target: np.ndarray, *, level: float = 0.95, ci: str = "normal", n_boot: int = 1000,
          rng: np.random.Generator | int | None = None) -> Estimate:
    """Self-normalized inverse propensity scoring (parameters as :func:`ips`)."""
    _check(level, ci, n_boot)
    pi, _ = _target_of_logged(log, target)
    w = pi / log.propensities
    if w.sum() <= 0:
        raise ValueError("the candidate gives probability 0 to every logged action: SNIPS is undefined")
    value = float(np.sum(w * log.rewards) / np.sum(w))
    terms = w * (log.rewards - value) / w.mean()
    boot = None
    if ci == "bootstrap":
        num, den = _boot_sums([w * log.rewards, w], n_boot, _rng(rng))
        boot = num / np.where(den > 0, den, np.nan)
        boot = boot[np.isfinite(boot)]
    return _interval("snips", value, terms, boot, level, ci, effective_sample_size(w))


def doubly_robust(log: BanditLog, target: np.ndarray, reward_model: np.ndarray, *, level: float = 0.95,
                  ci: str = "normal", n_boot: int = 1000, rng: np.random.Generator | int | None = None) -> Estimate:
    """Doubly robust estimate.

    ``target`` must be ``(n, A)`` and ``reward_model`` the model's predicted reward for every
    action in every logged context, ``(n, A)``.
    """
    _check(level, ci, n_boot)
    pi, matrix = _target_of_logged(log, target)
    if matrix is None:
        raise ValueError("doubly robust needs the candidate's probabilities for every action, shape (n, A)")
    q = np.asarray(reward_model, dtype=float)
    if q.shape != matrix.shape:
        raise ValueError(f"reward_model has shape {q.shape}, target {matrix.shape}")
    if not np.all(np.isfinite(q)):
        raise ValueError("reward_model predictions must be finite")
    n = len(log)
    w = pi / log.propensities
    terms = (matrix * q).sum(axis=1) + w * (log.rewards - q[np.arange(n), log.actions])
    boot = None
    if ci == "bootstrap":
        boot = _boot_sums([terms], n_boot, _rng(rng))[0] / n
    return _interval("dr", float(terms.mean()), terms, boot, level, ci, effective_sample_size(w))


def evaluate(log: BanditLog, target: np.ndarray, reward_model: np.ndarray | None = None, *,
             level: float = 0.95, ci: str = "normal", n_boot: int = 1000,
             rng: np.random.Generator | int | None = None) -> dict[str, Estimate]:
    """IPS and SNIPS, and DR when a reward model is given, keyed by estimator name."""
    gen = _rng(rng)
    out = {"ips": ips(log, target, level=level, ci=ci, n_boot=n_boot, rng=gen),
           "snips": snips(log, target, level=level, ci=ci, n_boot=n_boot, rng=gen)}
    if reward_model is not None:
        out["dr"] = doubly_robust(log, target, reward_model, level=level, ci=ci, n_boot=n_boot, rng=gen)
    return out
