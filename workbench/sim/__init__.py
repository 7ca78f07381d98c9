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

# ``measure`` names both a module and its function; the function is what the package exports (bound
# here, before anyone imports the module and the import system sets the attribute to the module)
from .measure import Measurement, demo_item_params, measure

# every other name this package exports, by the module that defines it: imported on first use
# (PEP 562), so a caller of one module (the demo: population, dynamics, measure) does not load
# scipy.stats and the experiment machinery of the others
_EXPORTS = {
    "ab": ("ArmSummary", "ExperimentResult", "SeedResult", "assign", "run_experiment", "run_seed"),
    "analysis": ("ArmPosterior", "BayesResult", "Decision", "WelchResult", "bayes_arms", "decide", "power",
                 "welch"),
    "config": ("ArmConfig", "ExperimentConfig", "load_config", "parse_config"),
    "dynamics": ("Dynamics", "draw_effectiveness"),
    "evidence": ("BayesDecision", "Contrasts", "FrequentistDecision", "PooledEffect", "calibrated_threshold",
                 "contrasts", "pool_bayes", "pool_frequentist"),
    "population": ("Population", "generate_population"),
    "run": ("OUTCOMES", "SETTINGS", "ArmOutcome", "simulate_arm"),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = ["Measurement", "demo_item_params", "measure", *_MODULE_OF]


def __getattr__(name: str):
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_MODULE_OF))
