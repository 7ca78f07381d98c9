"""A logged week of plans with the truth behind it: the test bed of off-policy evaluation.

:func:`log_week` serves one week of plans to a simulated population with a *logging* policy
(by default the priority strategy, epsilon-greedy: the policy the demo organization runs) and lets each leader work through their plan as :mod:`workbench.sim.run` does: slot by
slot, completing a module with :func:`~workbench.sim.dynamics.completion_probability` given
the minutes still free that week. The result is a
:class:`~workbench.recommend.ope.LoggedPlans`, exactly what the store yields for real logs,
plus what only a simulator knows: each leader's engagement and the minutes they really had.

:func:`policy_value` uses that knowledge to give a candidate policy's *true* value on the
same leaders in the same week, so an off-policy estimate from the log can be checked against
it (``notebooks/tune_recommender.ipynb``, ``tests/sim/test_logs.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from workbench.content import Library
from workbench.recommend import ContextBatch, catalog_for, select_batch
from workbench.recommend.engine import choice_probabilities
from workbench.recommend.ope import LoggedPlans
from workbench.skills.grm import ItemParams

from . import dynamics as dyn_
from .dynamics import Dynamics, work_through
from .measure import measure
from .population import Population

#: The logging policy of the demo organization and of :func:`log_week` by default: the
#: priority strategy, epsilon-greedy. 70% of choices are the priority strategy's best module;
#: 30% are spread evenly over every feasible module, so each keeps a chance of at least
#: 0.3 / (feasible modules) and other strategies can be evaluated from the log. (A softmax at
#: temperature 0.15 was tried first: its smallest propensities were below 1e-4, and the IPS
#: estimate of the gap strategy's top pick missed the truth by six standard errors.)
LOGGING_POLICY: dict[str, Any] = {"strategy": "priority", "epsilon": 0.3}


@dataclass(frozen=True, eq=False)
class LoggedWeek:
    """One simulated week of logged plans and the simulator's private knowledge."""

    plans: LoggedPlans
    engagement: np.ndarray  # (N,) chance of acting on a recommendation that fits
    available: np.ndarray  # (N,) minutes each leader really had that week
    policy: dict[str, Any]


def log_week(population: Population, library: Library, item_params: ItemParams, seed: int, *,
             policy: Mapping[str, Any] | None = None, k: int = 3, dynamics: Dynamics | None = None) -> LoggedWeek:
    """Serve one week of plans with the logging ``policy`` and record what happened.

    The recommender sees measured skills (one assessment through ``item_params``), as in
    :func:`~workbench.sim.run.simulate_arm`'s first week. Same arguments, same log.
    """
    spec = dict(LOGGING_POLICY if policy is None else policy)
    strategy = spec.pop("strategy", "priority")
    dyn = dynamics or Dynamics()
    cat = catalog_for(library)
    rng = np.random.default_rng([int(seed), 404])
    N, M = len(population), cat.n_modules
    seen = measure(population.skill, population.competencies, item_params, rng)
    batch = ContextBatch(cat, population.leader_ids, seen.mean, seen.sd, population.level, population.level == 0,
                         np.zeros((N, M), dtype=bool), np.zeros((N, M), dtype=bool), np.zeros(N, dtype=np.int64),
                         population.weekly_minutes.astype(float), population.format_preference, population.moment,
                         np.zeros_like(seen.mean))
    sel = select_batch(batch, cat, strategy, k=k, rng=rng, **spec)
    available = dyn_.available_minutes(population.weekly_minutes, rng, dyn)
    done = work_through(sel.modules, cat.minutes, population.engagement, available, rng)
    keep = sel.modules[:, 0] >= 0  # a leader with nothing feasible got no plan
    ids = cat.module_ids
    modules = tuple(tuple(ids[m] if m >= 0 else None for m in row) for row in sel.modules[keep])
    props = np.where(sel.modules[keep] >= 0, sel.propensities[keep], 1.0)
    plans = LoggedPlans(batch.take(np.flatnonzero(keep)), modules, props, done[keep], strategy)
    return LoggedWeek(plans, population.engagement[keep], available[keep], {"strategy": strategy, **spec})


def policy_value(week: LoggedWeek, library: Library, strategy: str = "priority", *, k: int = 3,
                 replicates: int = 50, seed: int = 0, **policy: Any) -> dict[str, float]:
    """A candidate policy's true value on the logged week's leaders, contexts and free minutes.

    ``top_pick``: the chance that its first module is completed, exact (its choice
    distribution times each module's completion probability). ``plan``: the expected number of
    its modules completed, by ``replicates`` simulated runs of the same week (the candidate's own
    draws and the completions both vary; the leaders, their engagement and minutes do not).
    """
    cat = catalog_for(library)
    batch = week.plans.contexts
    first = choice_probabilities(batch, cat, strategy, rng=seed, **policy)
    p = dyn_.completion_probability(week.engagement[:, None], cat.minutes[None, :], week.available[:, None])
    top = float((first * p).sum(axis=1).mean())
    rng = np.random.default_rng([int(seed), 505])
    totals = []
    for _ in range(int(replicates)):
        sel = select_batch(batch, cat, strategy, k=k, rng=rng, **policy)
        totals.append(work_through(sel.modules, cat.minutes, week.engagement, week.available, rng).sum(axis=1).mean())
    return {"top_pick": top, "plan": float(np.mean(totals)), "plan_mc_se": float(np.std(totals, ddof=1)
                                                                                   / np.sqrt(len(totals)))}
