"""Randomized experiments: assign leaders to arms, simulate every arm, analyse the outcome.

For each seed of the config: one population of ``config.population`` leaders is drawn
(:func:`~workbench.sim.population.generate_population`), shuffled and split as evenly as
possible over the arms (:func:`assign`), and every arm is simulated with
:func:`~workbench.sim.run.simulate_arm` on its own leaders, with the *same* true module
effectiveness for all arms. The chosen outcome is then summarized per arm and analysed with
:mod:`workbench.sim.analysis` (Welch against the first arm, Bayesian posterior of the arm
means, the per-run rules), and its contrasts against the control are kept for pooling over
seeds (:mod:`workbench.sim.evidence`): baseline-adjusted (ANCOVA) for measured outcomes, and
the same contrasts of the true-skill outcome, which the simulator knows.
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
from .evidence import (
    BayesDecision,
    Contrasts,
    FrequentistDecision,
    contrasts,
    pool_bayes,
    pool_frequentist,
)
from .population import generate_population
from .run import BASELINES, TRUE_COUNTERPART, ArmOutcome, simulate_arm


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
    contrasts: Contrasts  # of the outcome against the control (baseline-adjusted if measured)
    true_contrasts: Contrasts | None  # of the true-skill counterpart (None for non-skill outcomes)
    outcome_sd: float  # SD of the outcome between leaders, all arms together


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

    def frequentist(self) -> FrequentistDecision:
        """The pooled frequentist decision (:func:`~workbench.sim.evidence.pool_frequentist`)."""
        return pool_frequentist([s.contrasts for s in self.seeds], self.config.arms[0].name, self.config.alpha)

    def bayes(self, backend: str = "grid") -> BayesDecision:
        """The pooled Bayesian decision (:func:`~workbench.sim.evidence.pool_bayes`)."""
        sd = float(np.mean([s.outcome_sd for s in self.seeds])) or 1.0
        return pool_bayes([s.contrasts for s in self.seeds], self.config.arms[0].name, sd, alpha=self.config.alpha,
                          threshold=self.config.threshold, backend=backend, seed=self.seeds[0].seed)


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
    bayes = bayes_arms(values, config.method or "conjugate", seed=seed)
    decision = decide(values, bayes, per_run_threshold(config), config.alpha)
    return SeedResult(seed, outcomes, summaries, tests, bayes, decision, sum(o.leader_weeks for o in outcomes.values()),
                      *seed_contrasts(outcomes, config.outcome),
                      float(np.concatenate(list(values.values())).std(ddof=1)))


def per_run_threshold(config: ExperimentConfig) -> float:
    """P(best) threshold of the per-run rule: the config's, else ``1 - alpha / 2`` (two arms: rate alpha)."""
    return config.threshold if config.threshold is not None else 1 - config.alpha / 2


def seed_contrasts(outcomes: dict[str, ArmOutcome], outcome: str) -> tuple[Contrasts, Contrasts | None]:
    """The outcome's contrasts (ANCOVA on the pre-assessment for measured outcomes) and the true-skill ones."""
    values = {k: o.outcome(outcome) for k, o in outcomes.items()}
    base = BASELINES.get(outcome)
    baseline = {k: getattr(o, base) for k, o in outcomes.items()} if base else None
    true = TRUE_COUNTERPART.get(outcome)
    true_c = contrasts({k: o.outcome(true) for k, o in outcomes.items()}) if true else None
    return contrasts(values, baseline), true_c


def run_experiment(config: ExperimentConfig, library: Library, item_params: ItemParams) -> ExperimentResult:
    """Every seed of ``config`` (:func:`run_seed`), in order; deterministic per config."""
    if not isinstance(config, ExperimentConfig):
        raise ValueError(f"config must be an ExperimentConfig (see load_config), got {type(config).__name__}")
    return ExperimentResult(config, tuple(run_seed(config, library, item_params, s) for s in config.seed_list))
