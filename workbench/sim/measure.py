"""Re-assessment of simulated leaders through the graded response model.

:func:`measure` simulates one self-assessment of every item of the bank at the leaders' true
skills (:func:`workbench.skills.grm.simulate_responses`) and scores it with EAP
(:func:`workbench.skills.score.eap`), so experiments only see noisy, shrunken measurements
of skill, as the real product does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workbench.skills.grm import ItemParams, simulate_responses
from workbench.skills.score import eap


@dataclass(frozen=True, eq=False)
class Measurement:
    """EAP mean and SD per leader (rows) and competency (columns, ``competencies`` order)."""

    competencies: tuple[str, ...]
    mean: np.ndarray
    sd: np.ndarray


def measure(skill: np.ndarray, competencies: tuple[str, ...], item_params: ItemParams,
            rng: np.random.Generator, n_points: int = 41) -> Measurement:
    """Simulate answers to every item at true ``skill`` (N, C) and score them.

    ``competencies`` names the columns of ``skill``; every one must be a dimension of
    ``item_params`` (columns are reordered to the parameters' dimensions and back).
    """
    skill = np.atleast_2d(np.asarray(skill, float))
    if skill.shape[1] != len(competencies):
        raise ValueError(f"skill has {skill.shape[1]} columns for {len(competencies)} competencies")
    missing = [c for c in competencies if c not in item_params.dimensions]
    if missing:
        raise ValueError(f"item parameters have no items for competencies {missing}")
    cols = [competencies.index(d) if d in competencies else -1 for d in item_params.dimensions]
    theta = np.zeros((skill.shape[0], len(item_params.dimensions)))
    for d, c in enumerate(cols):
        if c >= 0:
            theta[:, d] = skill[:, c]
    y = simulate_responses(theta, item_params, rng)
    scores = eap(y, item_params, n_points=n_points)
    back = [item_params.dimensions.index(c) for c in competencies]
    return Measurement(tuple(competencies), scores.mean[:, back], scores.sd[:, back])
