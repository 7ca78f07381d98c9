"""Scenario choices as evidence about skills.

Every choice in a scenario carries a quality level 0..3 (poor, weak, good, strong) for each
competency it touches. We read that level as the answer to a four-category item of the graded
response model (the same model and parameterization as the assessment, see
``docs/skill-model.md``)::

    P(level >= k | theta) = logistic(a * (theta - b_k)),   k = 1, 2, 3

and multiply its likelihood into the leader's grid posterior with
:meth:`workbench.skills.score.SkillPosterior.add`, one choice and competency at a time. A choice
touching two competencies is two observations, one on each competency's scale.

Parameters (:data:`DEFAULT_CHOICE_ITEM`) and why
------------------------------------------------
``a = 1.0``. Lower than a typical assessment item (the demo organization's generating slopes
are uniform on 0.8 to 2.2) on purpose: one choice is a single, forced pick among three visible
options, partly a test of recognising the right answer rather than doing it, and the options of
one scenario are not independent of each other. With these thresholds a choice carries at most
0.31 units of Fisher information (at theta = -0.9), so one scenario of 3 to 6 decisions moves a
posterior SD of 0.45 to about 0.41 (four strong choices from N(0, 0.45²) give mean +0.5, SD
0.41): practice counts, but it does not override the 360 assessment.

``b = (-2.0, -0.75, 1.0)``. Placed so that a typical leader (theta = 0) picks quality 2 most
often (probabilities 0.12, 0.20, 0.41, 0.27 for levels 0..3), which is how the scenarios are
written: at most decision points a best option (3) and a defensible one with a real cost (2)
beside a weaker one a well-meaning new manager might take (0 or 1), so telling the best from the
merely good takes more than some leadership training. A poor choice (level 0) has probability
0.12 for a typical leader and 0.27 at theta = -1, and a strong choice is more likely than not
only above theta = 1. The levels are ordered as evidence too: from any starting estimate a
level-2 choice moves the mean less than a level-3 one and more than a level-1 or level-0 one
(the graded response model's likelihood ratios are monotone in theta; checked in
``tests/practice/test_evidence.py``).

Why the uncertainty shrinks
---------------------------
The GRM category likelihoods are log-concave in theta. With a Gaussian prior, multiplying in a
log-concave likelihood never increases the variance (Brascamp-Lieb inequality), so the first
choice always shrinks the SD; later choices are checked on every path of every shipped scenario
from a range of starting estimates (``tests/practice/test_evidence.py``). The grid has to resolve
the posterior for that to hold numerically: :func:`posterior_from_estimates` picks enough
quadrature points that the spacing near each mean is below 0.8 SD (at most 361 points, spacing
0.17 near 0, which resolves SDs down to about 0.2; the 61-point default grid resolves SDs above
0.5 and drifts upward by up to 0.01 on SDs near 0.2).

A choice at the top level (3) has a likelihood increasing in theta, so it always moves the
mean up; a choice at level 0 always moves it down; levels 1 and 2 pull the estimate towards
the region where that level is the most likely one.

Only new evidence counts: replays
---------------------------------
The model above treats every choice as an independent observation of the leader's skill. That
holds the first time a leader plays a scenario. It does not hold on a replay: after the first
run the leader has seen the feedback on each choice they made and a debrief naming the strong
and weak behaviours, so a second run measures how well they remember the key, not how they
would act. Counting replays as fresh evidence let a leader farm the estimate (replaying
``missed-deadline`` four times along the same path moved feedback from +0.23 to +1.24, past the
experienced-level expectation) and, worse, shrank the SD as if the model had learned more.

The rule (:func:`evidence_weights`): a leader's **first finished run** of a scenario counts with
weight 1; **every later run** of the same scenario counts with :data:`REPLAY_WEIGHT` = 0, on every
path, including decision points the first run never reached (the debrief and the feedback seen
already describe the better options, so those choices are not independent either). A weight
``w`` tempers the choice's likelihood (it is raised to the power ``w``); at 0 the run is still
stored, shown and debriefed, but the estimate and its SD stay exactly where they were. A
genuinely new scenario is new evidence and counts fully. The same rule is applied wherever
runs become evidence: when a run is saved (:func:`workbench.services.practice.save_run`) and when a
rescore replays the stored runs (``workbench.services.assessment``). Knowledge checks never move the skill
estimate (they test whether a module's ideas were understood, not how the leader acts), and a
retaken check is stored with its attempt number so the first try stays on the record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from ..skills.score import DEFAULT_POINTS, SkillPosterior, quadrature

if TYPE_CHECKING:  # pragma: no cover
    from .scenario import ScenarioRun

#: Weight of the choices of a run of a scenario the leader has already finished once (see above).
REPLAY_WEIGHT = 0.0
MAX_POINTS = 361  # Gauss-Hermite weights underflow past about 370 points
GRID_RESOLUTION = 0.8  # grid spacing near a mean must be at most this many SDs


@dataclass(frozen=True)
class ChoiceItem:
    """GRM parameters of a scenario choice read as a 4-category item (levels 0..3)."""

    a: float = 1.0
    b: tuple[float, float, float] = (-2.0, -0.75, 1.0)

    def __post_init__(self) -> None:
        if not np.isfinite(self.a) or self.a <= 0:
            raise ValueError(f"choice item slope a must be a positive number, got {self.a}")
        if len(self.b) != 3:
            raise ValueError(f"choice items have 4 levels (0..3) and need 3 thresholds, got {len(self.b)}")
        if not all(np.isfinite(self.b)) or any(x >= y for x, y in zip(self.b, self.b[1:], strict=False)):
            raise ValueError(f"choice item thresholds must be finite and increasing, got {self.b}")

    def probabilities(self, theta: float | np.ndarray) -> np.ndarray:
        """P(level = 0..3 | theta), shape ``(len(theta), 4)``."""
        from ..skills.grm import category_probs

        return category_probs(np.atleast_1d(np.asarray(theta, float)), self.a, np.asarray(self.b))


DEFAULT_CHOICE_ITEM = ChoiceItem()


@dataclass(frozen=True)
class Evidence:
    """One observation: at ``node_id`` the choice ``choice_id`` showed ``level`` on ``competency``."""

    competency: str
    level: int
    node_id: str
    choice_id: str


@dataclass(frozen=True)
class EstimateChange:
    """A competency's posterior before and after a run, how many observations the run had and the
    weight they counted with (1 for a first play, :data:`REPLAY_WEIGHT` for a replay)."""

    competency: str
    before_mean: float
    before_sd: float
    after_mean: float
    after_sd: float
    n_observations: int
    weight: float = 1.0

    @property
    def delta_mean(self) -> float:
        return self.after_mean - self.before_mean

    def as_dict(self) -> dict[str, float | int | str]:
        return {
            "competency": self.competency, "before_mean": self.before_mean, "before_sd": self.before_sd,
            "after_mean": self.after_mean, "after_sd": self.after_sd, "n_observations": self.n_observations,
            "weight": self.weight,
        }


def run_evidence(run: ScenarioRun) -> list[Evidence]:
    """The observations a run provides, in the order the choices were made."""
    out = []
    for f in run.feedback:
        for comp, level in f.quality.items():
            out.append(Evidence(comp, int(level), f.node_id, f.choice_id))
    return out


def evidence_weight(earlier_runs: int) -> float:
    """The weight of a run given how many finished runs of the same scenario the leader has
    before it: 1 for the first, :data:`REPLAY_WEIGHT` for any later one."""
    if isinstance(earlier_runs, bool) or not isinstance(earlier_runs, int) or earlier_runs < 0:
        raise ValueError(f"earlier_runs must be a count of runs (0 or more), got {earlier_runs!r}")
    return 1.0 if earlier_runs == 0 else REPLAY_WEIGHT


def evidence_weights(scenario_ids: list[str] | tuple[str, ...]) -> list[float]:
    """The weight of each of a leader's finished runs, given their scenario ids oldest first."""
    seen: dict[str, int] = {}
    out = []
    for sid in scenario_ids:
        out.append(evidence_weight(seen.get(sid, 0)))
        seen[sid] = seen.get(sid, 0) + 1
    return out


def apply_run(
    posterior: SkillPosterior,
    run: ScenarioRun,
    item: ChoiceItem = DEFAULT_CHOICE_ITEM,
    allow_partial: bool = False,
    weight: float = 1.0,
) -> dict[str, EstimateChange]:
    """Update ``posterior`` in place with every choice of ``run``; report each touched competency.

    Parameters
    ----------
    posterior:
        The leader's grid posterior (see :func:`posterior_from_estimates` to start from stored
        means and SDs). It is modified in place through :meth:`SkillPosterior.add`.
    run:
        A scenario run; by default it must have reached an ending.
    item:
        The GRM parameters shared by all choices.
    allow_partial:
        Also accept an unfinished run (the choices made so far still count as evidence).
    weight:
        How much the run counts, 0..1 (:func:`evidence_weight`): each choice's likelihood is
        raised to this power; at 0 the posterior is left exactly as it was.

    Returns
    -------
    dict
        ``{competency: EstimateChange}`` for every competency the run's choices touched, in
        the order first touched.

    Raises
    ------
    ValueError
        When the run is unfinished (unless ``allow_partial``), or a choice touches a
        competency the posterior does not have.
    """
    if not run.done and not allow_partial:
        raise ValueError(
            f"scenario run {run.scenario.id!r} has not reached an ending (at node {run.node_id!r}); "
            "pass allow_partial=True to score the choices made so far"
        )
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0.0 <= weight <= 1.0:
        raise ValueError(f"weight must be a number from 0 to 1, got {weight!r}")
    evidence = run_evidence(run)
    missing = sorted({e.competency for e in evidence} - set(posterior.dimensions))
    if missing:
        raise ValueError(f"the posterior has no dimension for {', '.join(missing)} (has {', '.join(posterior.dimensions)})")
    before_mean, before_sd = posterior.mean.copy(), posterior.sd.copy()
    counts: dict[str, int] = {}
    b = np.asarray(item.b, float)
    for e in evidence:
        if weight == 1.0:
            posterior.add(e.competency, item.a, b, e.level)
        elif weight > 0.0:
            _add_tempered(posterior, e.competency, item.a, b, e.level, weight)
        counts[e.competency] = counts.get(e.competency, 0) + 1
    after_mean, after_sd = posterior.mean, posterior.sd
    out = {}
    for comp, n in counts.items():
        d = posterior.dimensions.index(comp)
        out[comp] = EstimateChange(comp, float(before_mean[d]), float(before_sd[d]), float(after_mean[d]),
                                   float(after_sd[d]), n, float(weight))
    return out


def _add_tempered(posterior: SkillPosterior, competency: str, a: float, b: np.ndarray, level: int,
                  weight: float) -> None:
    """Multiply in P(level | theta) ** weight (a likelihood counted as a fraction of an observation)."""
    from ..skills.grm import log_category_probs

    row = posterior.log_post[posterior.dimensions.index(competency)]
    row += weight * log_category_probs(posterior.nodes, a, b)[:, level]
    row -= np.logaddexp.reduce(row)


@lru_cache(maxsize=32)
def _grid(n: int) -> tuple[np.ndarray, np.ndarray]:
    x, logw = quadrature(n)
    x.setflags(write=False)
    logw.setflags(write=False)
    return x, logw


def grid_points_for(estimates: Mapping[str, tuple[float, float]], minimum: int = DEFAULT_POINTS) -> int:
    """Quadrature points needed so the grid spacing near each mean is at most 0.8 SD."""
    n = minimum if minimum % 2 else minimum + 1
    while n < MAX_POINTS:
        x, _ = _grid(n)
        ok = True
        for mean, sd in estimates.values():
            i = int(np.clip(np.searchsorted(x, mean), 1, x.size - 1))
            if x[i] - x[i - 1] > GRID_RESOLUTION * sd:
                ok = False
                break
        if ok:
            return n
        n = min(MAX_POINTS, int(n * 1.25) | 1)
    return MAX_POINTS


def posterior_from_estimates(
    dimensions: tuple[str, ...],
    estimates: Mapping[str, tuple[float, float]],
    n_points: int | None = None,
) -> SkillPosterior:
    """A :class:`SkillPosterior` whose marginals are N(mean, sd²) for the stored estimates.

    Competencies in ``dimensions`` without an estimate keep the N(0, 1) prior. The stored
    estimates (posterior mean and SD per competency) are read as Gaussians, the usual summary
    of an EAP posterior.

    Raises
    ------
    ValueError
        For an estimate of an unknown competency, or a non-finite mean or non-positive SD.
    """
    dims = tuple(dimensions)
    unknown = sorted(set(estimates) - set(dims))
    if unknown:
        raise ValueError(f"estimates for unknown competencies {', '.join(unknown)}; expected some of {', '.join(dims)}")
    for comp, (mean, sd) in estimates.items():
        if not np.isfinite(mean) or not np.isfinite(sd) or sd <= 0:
            raise ValueError(f"estimate for {comp!r} needs a finite mean and a positive SD, got ({mean}, {sd})")
    n = n_points or grid_points_for(estimates)
    x, logw = _grid(n)
    log_post = np.tile(logw, (len(dims), 1))
    for comp, (mean, sd) in estimates.items():
        # grid weights integrate against N(0, 1); reweight them to N(mean, sd^2)
        lp = logw - 0.5 * ((x - mean) / sd) ** 2 + 0.5 * x**2
        lp -= np.logaddexp.reduce(lp)
        log_post[dims.index(comp)] = lp
    return SkillPosterior(dims, n, log_post)
