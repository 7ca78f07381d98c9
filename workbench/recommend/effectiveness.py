"""What we believe about each module's effectiveness, learned from completions and gains.

A module's effectiveness is ``p * g``: the probability ``p`` that a leader who starts it
completes it, times ``g``, the expected skill gain (theta units, in its primary competency)
seen at the next assessment after completing it. Both have conjugate posteriors per module:

* ``p ~ Beta(alpha, beta)``, updated by each start that ended completed (alpha + 1) or
  abandoned (beta + 1);
* ``g ~ Normal(gain_mean, gain_sd**2)``, the posterior of the module's mean gain, updated by
  each observed gain ``y ~ Normal(g, noise_sd**2)`` (a re-assessment is noisy, so
  ``noise_sd`` is the spread of one leader's measured gain around the module's mean).

The model is immutable: updates return a new model. :meth:`EffectivenessModel.to_dict` and
:meth:`EffectivenessModel.from_dict` round-trip it through plain JSON-ready data.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Default prior: completions Beta(4, 2) (two thirds finish), mean gain N(0.15, 0.10**2).
PRIOR_COMPLETION = (4.0, 2.0)
PRIOR_GAIN = (0.15, 0.10)
NOISE_SD = 0.30


def _positive(x: float, name: str) -> float:
    x = float(x)
    if not math.isfinite(x) or x <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {x!r}")
    return x


@dataclass(frozen=True, eq=False)
class EffectivenessModel:
    """Per-module Beta (completion) and Normal (mean gain) posteriors.

    Build one with :meth:`prior`; arrays are aligned with ``module_ids``.
    """

    module_ids: tuple[str, ...]
    alpha: np.ndarray
    beta: np.ndarray
    gain_mean: np.ndarray
    gain_sd: np.ndarray
    noise_sd: float = NOISE_SD
    prior_completion: tuple[float, float] = PRIOR_COMPLETION
    prior_gain: tuple[float, float] = PRIOR_GAIN

    def __post_init__(self) -> None:
        n = len(self.module_ids)
        if len(set(self.module_ids)) != n:
            raise ValueError("module_ids must be unique")
        for name in ("alpha", "beta", "gain_mean", "gain_sd"):
            arr = np.array(getattr(self, name), dtype=float)
            if arr.shape != (n,):
                raise ValueError(f"{name} must have one value per module ({n}), got shape {arr.shape}")
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"{name} must be finite")
            if name != "gain_mean" and np.any(arr <= 0):
                bad = self.module_ids[int(np.argmax(arr <= 0))]
                raise ValueError(f"{name} must be > 0 (module {bad!r})")
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        _positive(self.noise_sd, "noise_sd")
        a, b = (_positive(v, "prior_completion") for v in self.prior_completion)
        gm, gs = float(self.prior_gain[0]), _positive(self.prior_gain[1], "prior_gain sd")
        object.__setattr__(self, "prior_completion", (a, b))
        object.__setattr__(self, "prior_gain", (gm, gs))

    # ----------------------------------------------------------------- building
    @classmethod
    def prior(
        cls,
        module_ids: Iterable[str],
        completion: tuple[float, float] = PRIOR_COMPLETION,
        gain: tuple[float, float] = PRIOR_GAIN,
        noise_sd: float = NOISE_SD,
    ) -> EffectivenessModel:
        """The same prior for every module (``module_ids`` may be a Library's ``modules``)."""
        ids = tuple(module_ids)
        n = len(ids)
        return cls(ids, np.full(n, float(completion[0])), np.full(n, float(completion[1])),
                   np.full(n, float(gain[0])), np.full(n, float(gain[1])), noise_sd,
                   (float(completion[0]), float(completion[1])), (float(gain[0]), float(gain[1])))

    def _index(self, module_id: str) -> int:
        try:
            return self.module_ids.index(module_id)
        except ValueError:
            raise ValueError(f"unknown module {module_id!r} in the effectiveness model") from None

    # ------------------------------------------------------------------ updates
    def update(
        self,
        module_ids: str | Sequence[str],
        completed: bool | Sequence[bool | None] | None = None,
        gains: float | Sequence[float | None] | None = None,
    ) -> EffectivenessModel:
        """A new model after observing outcomes.

        Parameters
        ----------
        module_ids
            One module id or a sequence of them (one per observation).
        completed
            Per observation: True (completed), False (started and abandoned) or None (no
            completion information).
        gains
            Per observation: the measured skill gain after completing, or None.

        Returns
        -------
        EffectivenessModel
            The posterior given these observations (conjugate updates, order-independent).
        """
        if isinstance(module_ids, str):
            module_ids = [module_ids]
            completed = None if completed is None else [completed]  # type: ignore[list-item]
            gains = None if gains is None else [gains]  # type: ignore[list-item]
        ids = list(module_ids)
        n = len(ids)
        comp = [None] * n if completed is None else list(completed)  # type: ignore[arg-type]
        gain = [None] * n if gains is None else list(gains)  # type: ignore[arg-type]
        if len(comp) != n or len(gain) != n:
            raise ValueError(f"completed ({len(comp)}) and gains ({len(gain)}) must match module_ids ({n})")
        alpha, beta = self.alpha.copy(), self.beta.copy()
        prec = 1.0 / self.gain_sd**2
        weighted = self.gain_mean * prec
        tau = 1.0 / self.noise_sd**2
        for mid, c, g in zip(ids, comp, gain, strict=True):
            j = self._index(mid)
            if c is not None:
                if not isinstance(c, bool | np.bool_):
                    raise ValueError(f"completed must be True, False or None, got {c!r} for {mid!r}")
                if c:
                    alpha[j] += 1.0
                else:
                    beta[j] += 1.0
            if g is not None:
                y = float(g)
                if not math.isfinite(y):
                    raise ValueError(f"gain for {mid!r} must be finite, got {g!r}")
                prec[j] += tau
                weighted[j] += tau * y
        touched = prec != 1.0 / self.gain_sd**2
        mean = np.where(touched, weighted / prec, self.gain_mean)
        sd = np.where(touched, 1.0 / np.sqrt(prec), self.gain_sd)
        return EffectivenessModel(self.module_ids, alpha, beta, mean, sd, self.noise_sd, self.prior_completion,
                                  self.prior_gain)

    # ------------------------------------------------------------------- reading
    def aligned(self, module_ids: Sequence[str]) -> EffectivenessModel:
        """The model over ``module_ids`` in that order; modules it has not seen get the prior."""
        if tuple(module_ids) == self.module_ids:
            return self
        pos = {m: i for i, m in enumerate(self.module_ids)}
        a0, b0 = self.prior_completion
        gm, gs = self.prior_gain

        def pick(arr: np.ndarray, default: float) -> np.ndarray:
            return np.array([arr[pos[m]] if m in pos else default for m in module_ids])

        return EffectivenessModel(tuple(module_ids), pick(self.alpha, a0), pick(self.beta, b0),
                                  pick(self.gain_mean, gm), pick(self.gain_sd, gs), self.noise_sd,
                                  self.prior_completion, self.prior_gain)

    def mean(self) -> np.ndarray:
        """Posterior mean effectiveness per module, ``E[p] * E[g]``."""
        return self.alpha / (self.alpha + self.beta) * self.gain_mean

    def sample(self, rng: np.random.Generator, size: int | None = None) -> np.ndarray:
        """Draws of effectiveness ``p * g``: shape (M,) or (size, M)."""
        shape = (len(self.module_ids),) if size is None else (int(size), len(self.module_ids))
        p = rng.beta(self.alpha, self.beta, size=shape)
        g = self.gain_mean + self.gain_sd * rng.standard_normal(shape)
        return p * g

    def as_dict_of(self, module_id: str) -> dict[str, float]:
        """One module's posterior parameters."""
        j = self._index(module_id)
        return {"alpha": float(self.alpha[j]), "beta": float(self.beta[j]),
                "gain_mean": float(self.gain_mean[j]), "gain_sd": float(self.gain_sd[j])}

    # ------------------------------------------------------------ serialization
    def to_dict(self) -> dict[str, Any]:
        """Plain data: ``{"noise_sd", "prior": {...}, "modules": {id: {alpha, beta, gain_mean, gain_sd}}}``."""
        return {
            "noise_sd": float(self.noise_sd),
            "prior": {"completion": list(self.prior_completion), "gain": list(self.prior_gain)},
            "modules": {m: self.as_dict_of(m) for m in self.module_ids},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EffectivenessModel:
        """Inverse of :meth:`to_dict`."""
        try:
            modules = data["modules"]
            ids = tuple(modules)
            prior = data.get("prior", {})
            return cls(
                ids,
                np.array([modules[m]["alpha"] for m in ids], dtype=float),
                np.array([modules[m]["beta"] for m in ids], dtype=float),
                np.array([modules[m]["gain_mean"] for m in ids], dtype=float),
                np.array([modules[m]["gain_sd"] for m in ids], dtype=float),
                float(data.get("noise_sd", NOISE_SD)),
                tuple(prior.get("completion", PRIOR_COMPLETION)),  # type: ignore[arg-type]
                tuple(prior.get("gain", PRIOR_GAIN)),  # type: ignore[arg-type]
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not an effectiveness model dict: missing or malformed {exc}") from None
