"""Randomized experiments: assign leaders to arms, simulate every arm, analyse the outcome.

For each seed of the config: one population of ``config.population`` leaders is drawn
(:func:`~workbench.sim.population.generate_population`), shuffled and split as evenly as
possible over the arms (:func:`assign`), and every arm is simulated with
:func:`~workbench.sim.run.simulate_arm` on its own leaders, with the *same* true module
effectiveness for all arms. The chosen outcome is then summarized per arm and analysed with
:mod:`workbench.sim.analysis` (Welch against the first arm, Bayesian posterior of the arm
means, the decision rules).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workbench.content import Library
from workbench.recommend import catalog_for
from workbench.skills.grm import ItemParams

from .analysis import BayesResult, Decision, WelchResult, bayes_arms, decide, welch
from .config import ExperimentConfig
from .dynamics import Dynamics, draw_effectiveness
from .population import generate_population
from .run import ArmOutcome, simulate_arm


@dataclass(frozen=True)
class ArmSummary:
    """Mean, SD and standard error of the outcome in one arm."""

    arm: str
    strategy: str
    n: int
    mean: float
    sd: float
    se: float


@dataclass(frozen=True, eq=False)
class SeedResult:
    """One replication: outcomes, summaries, Welch vs the first arm, Bayes and decisions."""

    seed: int
    outcomes: dict[str, ArmOutcome]
    summaries: tuple[ArmSummary, ...]
    welch: dict[str, WelchResult]  # arm -> arm minus control (arms after the first)
    bayes: BayesResult
    decision: Decision
    leader_weeks: int


@dataclass(frozen=True, eq=False)
class ExperimentResult:
    """All replications of an experiment and the share of them with a declared winner."""

    config: ExperimentConfig
    seeds: tuple[SeedResult, ...]

    def winner_rate(self, rule: str = "bayes", arm: str | None = None) -> float:
        """Share of seeds where ``rule`` ("bayes" or "frequentist") declared a winner (``arm`` if given)."""
        if rule not in ("bayes", "frequentist"):
            raise ValueError(f"rule must be 'bayes' or 'frequentist', got {rule!r}")
        w = [s.decision.bayes_winner if rule == "bayes" else s.decision.frequentist_winner for s in self.seeds]
        return float(np.mean([x is not None and (arm is None or x == arm) for x in w]))


def assign(n: int, n_arms: int, seed: int) -> np.ndarray:
    """(n,) arm index per leader: a seeded random permutation split as evenly as possible."""
    if n_arms < 1 or n < 2 * n_arms:
        raise ValueError(f"need at least 2 leaders per arm, got {n} leaders for {n_arms} arms")
    rng = np.random.default_rng([int(seed), 505])
    return rng.permutation(np.arange(n) % n_arms)


def run_seed(config: ExperimentConfig, library: Library, item_params: ItemParams, seed: int) -> SeedResult:
    """One replication of ``config`` with ``seed``."""
    dyn = Dynamics(**config.dynamics)
    pop = generate_population(library, config.population, seed)
    arm_of = assign(len(pop), len(config.arms), seed)
    eff = draw_effectiveness(catalog_for(library).n_modules, seed, dyn.effectiveness_cv)
    outcomes: dict[str, ArmOutcome] = {}
    for i, arm in enumerate(config.arms):
        sub = pop.take(np.flatnonzero(arm_of == i))
        outcomes[arm.name] = simulate_arm(sub, arm.strategy, config.weeks, library, item_params, (seed, i),
                                          settings=arm.settings, dynamics=dyn, effectiveness=eff)
    values = {k: o.outcome(config.outcome) for k, o in outcomes.items()}
    summaries = tuple(ArmSummary(a.name, a.strategy, int(v.size), float(v.mean()), float(v.std(ddof=1)),
                                 float(v.std(ddof=1) / np.sqrt(v.size)))
                      for a, v in zip(config.arms, values.values(), strict=True))
    control = config.arms[0].name
    tests = {k: welch(values[control], v, config.alpha) for k, v in values.items() if k != control}
    bayes = bayes_arms(values, config.method, seed=seed)
    return SeedResult(seed, outcomes, summaries, tests, bayes, decide(values, bayes, config.threshold, config.alpha),
                      sum(o.leader_weeks for o in outcomes.values()))


def run_experiment(config: ExperimentConfig, library: Library, item_params: ItemParams) -> ExperimentResult:
    """Every seed of ``config`` (:func:`run_seed`), in order; deterministic per config."""
    if not isinstance(config, ExperimentConfig):
        raise ValueError(f"config must be an ExperimentConfig (see load_config), got {type(config).__name__}")
    return ExperimentResult(config, tuple(run_seed(config, library, item_params, s) for s in config.seed_list))
