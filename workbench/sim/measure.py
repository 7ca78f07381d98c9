"""Re-assessment of simulated leaders through the graded response model.

:func:`measure` simulates one self-assessment of every item of the bank at the leaders' true
skills (:func:`workbench.skills.grm.simulate_responses`) and scores it with EAP
(:func:`workbench.skills.score.eap`), so experiments only see noisy, shrunken measurements
of skill, as the real product does. :func:`demo_item_params` draws the bank's true parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workbench.content import Library
from workbench.skills.grm import ItemParams, random_item_params, simulate_responses
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


def demo_item_params(library: Library, seed: int) -> ItemParams:
    """True item parameters for the library's bank, drawn from ``seed``: the demo organization's
    (seed 7) and the simulations'. Each item keeps its categories; reverse-keyed items as scored."""
    items = list(library.items.values())
    dims = library.competency_ids
    rng = np.random.default_rng([seed, 1])
    p = random_item_params(
        [i.id for i in items], [dims.index(i.competency) for i in items], dims, rng,
        n_categories=[len(i.categories) for i in items],
    )
    return ItemParams(p.item_ids, p.dimension, p.dimensions, p.a, p.b, p.n_categories,
                      first_category=np.array([i.categories[0] for i in items]),
                      reverse=np.array([i.reverse for i in items]))
