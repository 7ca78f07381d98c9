"""The graded response model as one estimator object, in the scikit-learn manner.

>>> model = GradedResponseModel(method="map", seed=0).fit(data)     # doctest: +SKIP
>>> model.item_table()                  # a, b and their posterior SDs, information  # doctest: +SKIP
>>> model.global_fit(data)              # M2, RMSEA, CFI, TLI per dimension          # doctest: +SKIP
>>> model.idata_                        # ArviZ InferenceData, for every method      # doctest: +SKIP
>>> scores = model.score(other_data)    # EAP by quadrature, no MCMC                 # doctest: +SKIP
>>> model.save("params.json"); GradedResponseModel.load("params.json")             # doctest: +SKIP

Configuration goes to the constructor; :meth:`fit` learns the trailing-underscore attributes and
returns the model. :meth:`save` writes the parameters JSON contract through its one writer
(:func:`workbench.skills.params.params_to_json`) and :meth:`load` reads it through its one reader
(:func:`workbench.skills.params.params_from_json`), so a saved and loaded model scores exactly
as the fitted one. PyMC is imported only by :meth:`fit`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pandas as pd

from .data import ResponseData
from .params import ModelParams, load_params, params_from_json
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
        NUTS settings.
    seed
        Random seed; the same seed gives the same fit.
    n_points
        Gauss-Hermite points of the marginal likelihood (41 or more).
    progressbar
        Show PyMC's progress bar while sampling.

    Attributes
    ----------
    calibration_ : workbench.skills.calibrate.Calibration
        The frozen fit: posterior means, SDs, draws and InferenceData (after :meth:`fit`).
    params_ : ModelParams
        Item parameters, correlation, rater effects, diagnostics and reliability, as in the contract.
    idata_ : arviz.InferenceData or None
        Posterior (or approximate-posterior) draws for every method; None for a loaded model.
    diagnostics_, rater_effects_, correlation_, reliability_
        Shortcuts into ``params_``.
    fit_seconds_ : float
        Wall-clock seconds :meth:`fit` took.
    """

    def __init__(self, method: str = "map", *, draws: int = 1000, tune: int = 500, chains: int = 2, seed: int = 0,
                 n_points: int = 41, progressbar: bool = False, cores: int | None = None):
        if method not in METHODS:
            raise ValueError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
        self.method, self.draws, self.tune, self.chains, self.seed = method, draws, tune, chains, seed
        self.n_points, self.progressbar, self.cores = n_points, progressbar, cores

    def __repr__(self) -> str:
        state = "fitted" if hasattr(self, "params_") else "not fitted"
        return f"GradedResponseModel(method={self.method!r}, seed={self.seed}, {state})"

    # ------------------------------------------------------------------ learning
    def fit(self, data: ResponseData) -> GradedResponseModel:
        """Calibrate on ``data`` (answer sheets, with rater types when present); returns ``self``."""
        from .calibrate import calibrate  # PyMC: imported only when fitting

        started = time.monotonic()
        cal = calibrate(data, method=self.method, draws=self.draws, tune=self.tune, chains=self.chains, seed=self.seed,
                        n_points=self.n_points, progressbar=self.progressbar, cores=self.cores)
        self.fit_seconds_ = round(time.monotonic() - started, 1)
        self.calibration_ = cal
        self._set(params_from_json(cal.to_json(), "the fitted model"))
        return self

    @property
    def idata_(self):
        """ArviZ InferenceData of the fit, for every method (None for a loaded model)."""
        self._check()
        cal = getattr(self, "calibration_", None)
        return None if cal is None else cal.inference_data()

    def _set(self, params: ModelParams) -> None:
        self.params_ = params
        self.diagnostics_ = params.diagnostics
        self.rater_effects_ = params.rater_effects
        self.correlation_ = params.correlation
        self.reliability_ = params.reliability

    def _check(self) -> None:
        if not hasattr(self, "params_"):
            raise NotFittedError("this GradedResponseModel is not fitted: call fit(data) or load(path) first")

    # ------------------------------------------------------------------ using
    def score(self, data: ResponseData, n_points: int = SCORE_POINTS) -> Scores:
        """EAP scores of ``data``'s respondents (pooling their sheets, each read through its rater
        type's effect) with the fitted item parameters; items in ``data`` must be the model's."""
        self._check()
        ids = tuple(self.params_.items.item_ids)
        if tuple(data.items.item_ids) != ids:
            raise ValueError("the responses' items are not the model's items (in the model's order)")
        return score_sheets(data.y, data.person, data.n_persons, self.params_.items, data.rater,
                            self.params_.shifts, n_points=n_points)

    def item_table(self, fit: pd.DataFrame | None = None) -> pd.DataFrame:
        """One row per item: a, b_k with their posterior SDs (standard errors), information."""
        from .analysis import item_table

        self._check()
        return item_table(getattr(self, "calibration_", None) or self.params_, fit)

    def global_fit(self, data: ResponseData) -> pd.DataFrame:
        """Limited-information fit per dimension: M2, df, p, RMSEA, CFI, TLI
        (:func:`workbench.skills.analysis.limited_information_fit`)."""
        from .analysis import limited_information_fit

        self._check()
        return limited_information_fit(data, getattr(self, "calibration_", None) or self.params_)

    # ------------------------------------------------------------------ contract
    def to_json(self) -> dict[str, Any]:
        """The parameters JSON document."""
        self._check()
        if hasattr(self, "calibration_"):
            return self.calibration_.to_json()
        from .params import params_to_json

        p = self.params_
        return params_to_json(p.items, p.correlation, p.rater_effects, p.diagnostics, p.reliability,
                              a_sd=p.a_sd, b_sd=p.b_sd)

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
    def _loaded(cls, params: ModelParams) -> GradedResponseModel:
        method = params.diagnostics.get("method")
        model = cls(method=method if method in METHODS else "map")
        model._set(params)
        return model

