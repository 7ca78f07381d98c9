"""The graded response model as one estimator object, in the scikit-learn manner.

>>> model = GradedResponseModel(method="map", seed=0).fit(data)     # doctest: +SKIP
>>> model.item_table()                  # a, b and their posterior SDs, information  # doctest: +SKIP
>>> model.global_fit(data)              # M2, RMSEA, CFI, TLI per dimension          # doctest: +SKIP
>>> model.idata_                        # ArviZ InferenceData, for every method      # doctest: +SKIP
>>> scores = model.score(other_data)    # EAP by quadrature, no MCMC                 # doctest: +SKIP
>>> model.save("params.json"); GradedResponseModel.load("params.json")             # doctest: +SKIP

Configuration goes to the constructor; :meth:`fit` learns the trailing-underscore attributes and
returns the model; the learned attributes are read-only (fit again, or load, for others). :meth:`save`
writes the parameters JSON contract through its one writer
(:func:`workbench.skills.params.params_to_json`) and :meth:`load` reads it through its one reader
(:func:`workbench.skills.params.params_from_json`), so a saved and loaded model scores exactly
as the fitted one. PyMC is imported only by :meth:`fit`.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .calibrate import NUTS_DRAWS
from .data import ResponseData
from .grm import ItemParams
from .params import load_params, params_from_json, rater_shifts
from .score import DEFAULT_POINTS as SCORE_POINTS
from .score import Scores, score_sheets

METHODS = ("map", "nuts", "advi")


class NotFittedError(RuntimeError):
    """The model has no parameters yet: call fit() or load()."""


class GradedResponseModel:
    """Multidimensional graded response model with rater effects (``docs/skill-model.md``).

    Parameters
    ----------
    method
        ``"map"`` (default: posterior mode with a Laplace approximation, seconds), ``"nuts"``
        (full posterior, minutes) or ``"advi"``.
    draws, tune, chains
        NUTS settings: draws per chain (1,800), tuning steps per chain (``None``: 200 when the
        Laplace covariance is the mass matrix, otherwise 1,000) and chains.
    seed
        Random seed; the same seed gives the same fit.
    n_points
        Gauss-Hermite points of the marginal likelihood (41 or more).
    progressbar
        Show PyMC's progress bar while sampling.

    Attributes
    ----------
    items_ : workbench.skills.grm.ItemParams
        Item parameters (posterior means of a and b), what scoring and adaptive testing read.
    a_sd_, b_sd_ : numpy.ndarray
        Posterior SDs of a (J,) and b (J, Kmax-1); NaN where a loaded document has none.
    correlation_ : numpy.ndarray
        Correlation of the dimensions (D, D).
    rater_effects_ : dict
        ``{rater type: {"mean": float, "sd": float or None}}``; :attr:`shifts_` has the means.
    diagnostics_, reliability_ : dict
        As written to the parameters JSON.
    draws_ : dict or None
        Posterior (or approximate-posterior) draws after :meth:`fit`: ``"a"`` (S, J), ``"b"``
        (S, J, Kmax-1) and, with several rater types, ``"delta"`` (S, types); None for a loaded model.
    idata_ : arviz.InferenceData or None
        Posterior (or approximate-posterior) draws for every method; None for a loaded model.
    fit_seconds_ : float
        Wall-clock seconds :meth:`fit` took.
    """

    _LEARNED = ("items_", "a_sd_", "b_sd_", "correlation_", "rater_effects_", "diagnostics_", "reliability_",
                "fit_seconds_", "_fit")

    def __init__(self, method: str = "map", *, draws: int = NUTS_DRAWS, tune: int | None = None, chains: int = 2, seed: int = 0,
                 n_points: int = 41, progressbar: bool = False, cores: int | None = None):
        if method not in METHODS:
            raise ValueError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
        self.method, self.draws, self.tune, self.chains, self.seed = method, draws, tune, chains, seed
        self.n_points, self.progressbar, self.cores = n_points, progressbar, cores

    def __repr__(self) -> str:
        state = "fitted" if hasattr(self, "items_") else "not fitted"
        return f"GradedResponseModel(method={self.method!r}, seed={self.seed}, {state})"

    # ------------------------------------------------------------------ learning
    def fit(self, data: ResponseData) -> GradedResponseModel:
        """Calibrate on ``data`` (answer sheets, with rater types when present); returns ``self``."""
        from .calibrate import fit  # PyMC: imported only by the routes that sample

        started = time.monotonic()
        result = fit(data, self.method, self.draws, self.tune, self.chains, self.seed, self.n_points, self.progressbar,
                     self.cores)
        self._set(params_from_json(result.to_json(), "the fitted model"),
                  fit_seconds=round(time.monotonic() - started, 1))
        for draws in (result.a_draws, result.b_draws, result.delta_draws):
            if draws is not None:
                draws.flags.writeable = False
        self.__dict__["_fit"] = result  # the draws and InferenceData (draws_, idata_)
        return self

    @property
    def idata_(self):
        """ArviZ InferenceData of the fit, for every method (None for a loaded model)."""
        self._check()
        result = self.__dict__.get("_fit")
        return None if result is None else result.inference_data()

    @property
    def draws_(self) -> dict[str, np.ndarray] | None:
        """Posterior draws of ``a``, ``b`` and (several rater types) ``delta``; None for a loaded model."""
        self._check()
        result = self.__dict__.get("_fit")
        if result is None:
            return None
        out = {"a": result.a_draws, "b": result.b_draws}
        if result.delta_draws is not None:
            out["delta"] = result.delta_draws
        return out

    def interval(self, q: float = 0.9) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Central ``q`` intervals of a and b, ``(a_lo, a_hi, b_lo, b_hi)``: quantiles of the draws after a
        fit, the normal interval from the posterior SDs for a loaded model."""
        self._check()
        lo, hi = (1 - q) / 2, 1 - (1 - q) / 2
        draws = self.draws_
        if draws is not None:
            with warnings.catch_warnings():  # padded thresholds of items with fewer categories are all NaN
                warnings.simplefilter("ignore", RuntimeWarning)
                return (np.quantile(draws["a"], lo, axis=0), np.quantile(draws["a"], hi, axis=0),
                        np.nanquantile(draws["b"], lo, axis=0), np.nanquantile(draws["b"], hi, axis=0))
        from statistics import NormalDist

        z = NormalDist().inv_cdf(hi)
        a, b = self.items_.a, self.items_.b
        return a - z * self.a_sd_, a + z * self.a_sd_, b - z * self.b_sd_, b + z * self.b_sd_

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self._LEARNED:
            raise AttributeError(f"{name} is a learned attribute and read-only: fit() or load() a model for others")
        super().__setattr__(name, value)

    def _set(self, fields: dict[str, Any], **extra: Any) -> None:
        """Set the learned attributes from :func:`~workbench.skills.params.params_from_json`'s fields."""
        for name in self._LEARNED:  # a refit replaces everything
            self.__dict__.pop(name, None)
        for name, value in {**fields, **extra}.items():
            if isinstance(value, np.ndarray):
                value = value.copy()
                value.flags.writeable = False
            elif isinstance(value, ItemParams):  # its own arrays: their derived tables are cached
                for arr in (value.a, value.b, value.dimension, value.n_categories, value.first_category, value.reverse):
                    arr.flags.writeable = False
            self.__dict__[f"{name}_"] = value

    @property
    def shifts_(self) -> dict[str, float]:
        """``{rater type: mean shift}``, what scoring reads each rater type's sheets through."""
        self._check()
        return rater_shifts(self.rater_effects_)

    def subset(self, item_ids: Sequence[str]) -> GradedResponseModel:
        """The fitted model restricted to ``item_ids`` (in that order): e.g. the items a library still has."""
        self._check()
        pos = {iid: j for j, iid in enumerate(self.items_.item_ids)}
        missing = [i for i in item_ids if i not in pos]
        if missing:
            raise KeyError(f"items not in the model: {', '.join(missing[:5])}")
        idx = [pos[i] for i in item_ids]
        out = type(self)(self.method, draws=self.draws, tune=self.tune, chains=self.chains, seed=self.seed,
                         n_points=self.n_points, progressbar=self.progressbar, cores=self.cores)
        out._set({"items": self.items_.subset(idx), "a_sd": self.a_sd_[idx], "b_sd": self.b_sd_[idx],
                  "correlation": self.correlation_, "rater_effects": self.rater_effects_,
                  "diagnostics": self.diagnostics_, "reliability": self.reliability_})
        return out

    def _check(self) -> None:
        if "items_" not in self.__dict__:
            raise NotFittedError("this GradedResponseModel is not fitted: call fit(data) or load(path) first")

    # ------------------------------------------------------------------ using
    def score(self, data: ResponseData, n_points: int = SCORE_POINTS) -> Scores:
        """EAP scores of ``data``'s respondents (pooling their sheets, each read through its rater
        type's effect) with the fitted item parameters; items in ``data`` must be the model's."""
        self._check()
        ids = tuple(self.items_.item_ids)
        if tuple(data.items.item_ids) != ids:
            raise ValueError("the responses' items are not the model's items (in the model's order)")
        return score_sheets(data.y, data.person, data.n_persons, self.items_, data.rater, self.shifts_,
                            n_points=n_points)

    def item_table(self, fit: pd.DataFrame | None = None) -> pd.DataFrame:
        """One row per item: a, b_k with their posterior SDs (standard errors), information."""
        from .analysis import item_table

        self._check()
        return item_table(self, fit)

    def global_fit(self, data: ResponseData) -> pd.DataFrame:
        """Limited-information fit per dimension: M2, df, p, RMSEA, CFI, TLI
        (:func:`workbench.skills.analysis.limited_information_fit`)."""
        from .analysis import limited_information_fit

        self._check()
        return limited_information_fit(data, self)

    # ------------------------------------------------------------------ contract
    def to_json(self) -> dict[str, Any]:
        """The parameters JSON document."""
        self._check()
        from .params import params_to_json

        return params_to_json(self.items_, self.correlation_, self.rater_effects_, self.diagnostics_,
                              self.reliability_, a_sd=self.a_sd_, b_sd=self.b_sd_)

    def save(self, path: str | Path, **diagnostics: Any) -> Path:
        """Write the parameters JSON; keyword arguments are added to its ``diagnostics`` (e.g. ``seconds``)."""
        doc = self.to_json()
        doc["diagnostics"] = {**doc["diagnostics"], **diagnostics}
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc, indent=1))
        return path

    @classmethod
    def from_json(cls, doc: dict[str, Any], source: str = "parameters") -> GradedResponseModel:
        """A fitted model from a parameters document (raises ``DataError`` naming what is wrong)."""
        return cls._loaded(params_from_json(doc, source))

    @classmethod
    def load(cls, path: str | Path) -> GradedResponseModel:
        """A fitted model from a parameters JSON file (size-checked; errors name the file)."""
        return cls._loaded(load_params(path))

    @classmethod
    def _loaded(cls, fields: dict[str, Any]) -> GradedResponseModel:
        method = fields["diagnostics"].get("method")
        model = cls(method=method if method in METHODS else "map")
        model._set(fields)
        return model

