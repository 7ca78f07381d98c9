"""Experiments on simulated leaders: A/B tests of recommendation strategies.

Pure functions over the content library and numpy arrays; nothing here touches the store.
See ``docs/simulation.md`` for the model and its parameters.

| module | what |
| --- | --- |
| ``population`` | :func:`generate_population` -> :class:`Population` of simulated leaders |
| ``dynamics`` | :class:`Dynamics`: learning gains, practice, decay, engagement, completion |
| ``measure`` | :func:`measure`: re-assessment through the GRM and EAP scoring; :func:`demo_item_params`: the bank's true parameters |
| ``run`` | :func:`simulate_arm`: the real strategies week by week -> :class:`ArmOutcome` |
| ``analysis`` | one seed: :func:`welch`, :func:`power`, :func:`bayes_arms` (conjugate / pymc), :func:`decide` |
| ``evidence`` | pooled over seeds: :func:`contrasts`, :func:`pool_frequentist`, :func:`pool_bayes`, calibration |
| ``config`` | :class:`ExperimentConfig`, :func:`parse_config`, :func:`load_config` |
| ``ab`` | :func:`assign`, :func:`run_seed`, :func:`run_experiment` -> :class:`ExperimentResult` |
"""

from .ab import ArmSummary, ExperimentResult, SeedResult, assign, run_experiment, run_seed
from .analysis import (
    ArmPosterior,
    BayesResult,
    Decision,
    WelchResult,
    bayes_arms,
    decide,
    power,
    welch,
)
from .config import ArmConfig, ExperimentConfig, load_config, parse_config
from .dynamics import Dynamics, draw_effectiveness
from .evidence import (
    BayesDecision,
    Contrasts,
    FrequentistDecision,
    PooledEffect,
    calibrated_threshold,
    contrasts,
    pool_bayes,
    pool_frequentist,
)
from .measure import Measurement, demo_item_params, measure
from .population import Population, generate_population
from .run import OUTCOMES, SETTINGS, ArmOutcome, simulate_arm

__all__ = [
    "OUTCOMES", "SETTINGS", "ArmConfig", "ArmOutcome", "ArmPosterior", "ArmSummary", "BayesDecision", "BayesResult",
    "Contrasts", "Decision", "FrequentistDecision", "PooledEffect", "calibrated_threshold", "contrasts",
    "pool_bayes", "pool_frequentist",
    "Dynamics", "ExperimentConfig", "ExperimentResult", "Measurement", "Population", "SeedResult", "WelchResult",
    "assign", "bayes_arms", "decide", "demo_item_params", "draw_effectiveness", "generate_population", "load_config", "measure",
    "parse_config", "power", "run_experiment", "run_seed", "simulate_arm", "welch",
]
