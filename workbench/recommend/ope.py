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
from scipy.special import ndtri  # the normal quantile (scipy.stats: a second of imports)

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
        z = float(ndtri(0.5 + level / 2))
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


# ------------------------------------------------------------ logged plans
#: The two decision units a logged plan supports (see :func:`evaluate_plans`).
PLAN_UNITS = ("top_pick", "plan")


@dataclass(frozen=True, eq=False)
class LoggedPlans:
    """Plans served by a logging policy, one row per plan, slots in rank order.

    ``contexts`` are what the engine saw when it served each plan (a
    :class:`~workbench.recommend.ContextBatch` or :class:`~workbench.recommend.LeaderContext`
    objects); ``modules[n][s]`` is the module id at slot ``s`` (``None`` for an empty slot),
    ``propensities[n, s]`` the logging policy's probability of it given the earlier slots
    (the ``propensity`` stored with every recommendation), and ``completed[n, s]`` whether the
    leader completed it while the plan was live: the reward.
    """

    contexts: Any
    modules: tuple[tuple[str | None, ...], ...]
    propensities: np.ndarray
    completed: np.ndarray
    strategy: str = ""

    def __post_init__(self) -> None:
        n = len(self.contexts)
        p = np.asarray(self.propensities, dtype=float)
        c = np.asarray(self.completed, dtype=bool)
        if len(self.modules) != n or p.shape[0] != n or c.shape != p.shape:
            raise ValueError(f"{n} contexts, {len(self.modules)} plans, propensities {p.shape}, completed {c.shape}")
        if n == 0:
            raise ValueError("no logged plans")
        for i, row in enumerate(self.modules):
            if len(row) != p.shape[1]:
                raise ValueError(f"plan {i} has {len(row)} slots, propensities {p.shape[1]}")
            if row[0] is None:
                raise ValueError(f"plan {i} has no module in its first slot")
            for s, mid in enumerate(row):
                filled = mid is not None
                if filled and not 0 < p[i, s] <= 1:
                    raise ValueError(f"plan {i} slot {s + 1}: propensity must be in (0, 1], got {p[i, s]!r}")
                if not filled and c[i, s]:
                    raise ValueError(f"plan {i} slot {s + 1}: an empty slot cannot be completed")
        object.__setattr__(self, "propensities", p)
        object.__setattr__(self, "completed", c)

    def __len__(self) -> int:
        return len(self.modules)

    @classmethod
    def from_frame(cls, frame: Any) -> LoggedPlans:
        """From stored recommendations, one row each: ``plan`` (any key shared by a plan's rows,
        e.g. leader and served time), ``rank`` (1-based slot), ``module_id``, ``propensity``,
        ``status`` (``"completed"`` is the reward) and ``context`` (the dict the engine saw,
        :meth:`LeaderContext.to_dict`, the same on every row of a plan)."""
        from .context import LeaderContext

        need = {"plan", "rank", "module_id", "propensity", "status", "context"}
        missing = sorted(need - set(frame.columns))
        if missing:
            raise ValueError(f"logged recommendations lack the columns {missing}")
        if len(frame) == 0:
            raise ValueError("no logged recommendations")
        plans = list(dict.fromkeys(frame["plan"]))
        K = int(frame["rank"].max())
        where = {p: i for i, p in enumerate(plans)}
        mods: list[list[str | None]] = [[None] * K for _ in plans]
        props = np.ones((len(plans), K))
        done = np.zeros((len(plans), K), dtype=bool)
        contexts: list[Any] = [None] * len(plans)
        for row in frame.itertuples(index=False):
            i, s = where[row.plan], int(row.rank) - 1
            if mods[i][s] is not None:
                raise ValueError(f"plan {row.plan!r} has two recommendations at rank {s + 1}")
            mods[i][s] = row.module_id
            props[i, s] = float(row.propensity)
            done[i, s] = row.status == "completed"
            if contexts[i] is None:
                contexts[i] = LeaderContext.from_dict(row.context)
        strategies = sorted(set(frame["strategy"])) if "strategy" in frame.columns else []
        return cls(tuple(contexts), tuple(tuple(r) for r in mods), props, done, ", ".join(strategies))

    def rewards(self, unit: str) -> np.ndarray:
        """Per plan: whether the top pick was completed (``top_pick``), or how many of the plan's
        modules were (``plan``)."""
        if unit == "top_pick":
            return self.completed[:, 0].astype(float)
        if unit == "plan":
            return self.completed.sum(axis=1).astype(float)
        raise ValueError(f"unknown unit {unit!r}; expected one of {', '.join(PLAN_UNITS)}")

    def logging_probability(self, unit: str) -> np.ndarray:
        """The logging policy's probability of the logged top pick, or of the whole logged plan
        (the product of its slots' propensities)."""
        if unit == "top_pick":
            return self.propensities[:, 0].copy()
        if unit == "plan":
            filled = np.array([[m is not None for m in row] for row in self.modules])
            return np.where(filled, self.propensities, 1.0).prod(axis=1)
        raise ValueError(f"unknown unit {unit!r}; expected one of {', '.join(PLAN_UNITS)}")


def target_probabilities(logged: LoggedPlans, library: Any, strategy: Any = "priority", *,
                         popularity: Mapping[str, int | float] | None = None, effectiveness: Any = None,
                         rng: np.random.Generator | int | None = 0, **policy: Any) -> dict[str, np.ndarray]:
    """A candidate policy's probability of each logged top pick and of each whole logged plan.

    Slot ``s`` is scored with the candidate's choice distribution given the *logged* modules of
    the earlier slots (:func:`~workbench.recommend.engine.choice_probabilities`), so the product
    over slots is the candidate's probability of serving exactly the logged plan. An empty
    logged slot counts 1 when the candidate has nothing feasible there either and 0 otherwise.
    ``policy``: ``epsilon``, ``temperature``, ``n_draws``, ``max_minutes``, as for the engine.
    """
    from .catalog import ContextBatch, catalog_for
    from .engine import choice_probabilities

    cat = catalog_for(library)
    ctx = logged.contexts
    batch = ctx if isinstance(ctx, ContextBatch) else ContextBatch.from_contexts(list(ctx), cat)
    index = batch.catalog.module_index
    n, K = logged.propensities.shape
    per_slot = np.ones((n, K))
    rows = np.arange(n)
    gen = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
    for s in range(K):
        chosen = [[m for m in row[:s] if m is not None] for row in logged.modules]
        probs = choice_probabilities(batch, cat, strategy, chosen=chosen, rng=gen, popularity=popularity,
                                     effectiveness=effectiveness, **policy)
        mods = np.array([index[row[s]] if row[s] is not None else -1 for row in logged.modules])
        filled = mods >= 0
        per_slot[filled, s] = probs[rows[filled], mods[filled]]
        per_slot[~filled, s] = (probs[~filled].sum(axis=1) == 0).astype(float)
    return {"top_pick": per_slot[:, 0], "plan": per_slot.prod(axis=1)}


def evaluate_plans(logged: LoggedPlans, library: Any, candidates: Mapping[str, Mapping[str, Any]], *,
                   level: float = 0.95, rng: np.random.Generator | int | None = 0) -> Any:
    """Off-policy values of candidate policies on logged plans, as a table.

    ``candidates`` maps a label to the engine arguments of a policy (``strategy`` plus any of
    ``epsilon``, ``temperature``, ``n_draws``, ``max_minutes``, ``popularity``, ``effectiveness``).
    For each candidate and each unit (``top_pick``: was the first module completed;
    ``plan``: how many of the plan's modules were) the table has the IPS and SNIPS estimates
    with their normal intervals and the effective sample size of the weights. The first row
    of each unit, ``logged``, is the logging policy's observed mean with its interval.

    Whole-plan weights multiply three slots' ratios: expect a far smaller effective sample
    size than for the top pick, and read estimates whose ``ess`` is a few dozen as a direction,
    not a number.
    """
    import pandas as pd

    gen = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
    rows = []
    for unit in PLAN_UNITS:
        r = logged.rewards(unit)
        se = float(r.std(ddof=1) / np.sqrt(r.size)) if r.size > 1 else float("inf")
        z = float(ndtri(0.5 + level / 2))
        rows.append(dict(policy="logged", unit=unit, estimator="observed", value=float(r.mean()), se=se,
                         ci_low=float(r.mean()) - z * se, ci_high=float(r.mean()) + z * se, n=int(r.size),
                         ess=float(r.size)))
    for label, spec in candidates.items():
        spec = dict(spec)
        strategy = spec.pop("strategy", label)
        target = target_probabilities(logged, library, strategy, rng=gen, **spec)
        for unit in PLAN_UNITS:
            log = BanditLog(np.zeros(len(logged), dtype=np.int64), logged.logging_probability(unit),
                            logged.rewards(unit))
            for est in (ips(log, target[unit], level=level), _snips_or_none(log, target[unit], level)):
                if est is None:
                    rows.append(dict(policy=label, unit=unit, estimator="snips", value=np.nan, se=np.nan,
                                     ci_low=np.nan, ci_high=np.nan, n=len(logged), ess=0.0))
                    continue
                rows.append(dict(policy=label, unit=unit, estimator=est.estimator, value=est.value, se=est.se,
                                 ci_low=est.ci_low, ci_high=est.ci_high, n=est.n, ess=est.ess))
    return pd.DataFrame(rows)


def _snips_or_none(log: BanditLog, target: np.ndarray, level: float) -> Estimate | None:
    """SNIPS, or None when the candidate gives every logged plan probability 0."""
    return snips(log, target, level=level) if np.any(np.asarray(target) > 0) else None
