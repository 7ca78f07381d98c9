"""Peer practice: pairs who play a scenario together and rate each other.

Pairing
-------
For a scenario touching competencies C, two leaders are complementary when one is strong
where the other is not: ``complementarity(i, j) = sum_c |mean_i,c - mean_j,c|`` over C. Pairs
are formed greedily, largest complementarity first (forbidden pairs skipped); with an odd
count one leader is left unpaired and reported.

Feedback as evidence
--------------------
After the scenario each partner rates the other 0..3 (poor, weak, good, strong) on each of the
scenario's behaviors, grouped by competency (:func:`feedback_form` lists the competency's key
behaviors from the library). The behavior ratings of one competency are averaged and rounded
(half up) to one level, because ratings of behaviors of the same competency by the same rater
are not independent; that level is read as one answer to a 4-category graded-response item and
multiplied into the receiver's posterior with :meth:`SkillPosterior.add`.

Parameters (:data:`PEER_RATING_ITEM`) and why: ``a = 0.7``, ``b = (-2.25, -1.0, 0.75)``.

* ``a`` is below a scenario choice's 1.0 (``workbench.practice.evidence``): a peer is an
  untrained rater who watched one conversation, and partners in a learning group tend to agree
  with each other more than the behavior warrants. One rating carries at most about 0.15 units
  of Fisher information (at theta = -0.8): a rating of 3 moves N(0, 0.45²) to mean +0.09,
  SD 0.445. Peer ratings accumulate over sessions; one never overrides the 360 assessment.
* ``b`` is shifted 0.25 below the choice item's thresholds: peers are lenient (the usual
  leniency of peer ratings in 360 feedback), so a typical leader (theta = 0) is rated 0..3 with
  probabilities 0.17, 0.16, 0.30, 0.37: a rating of 3 is weaker evidence of high skill than a
  strong scenario choice, and a rating of 0 or 1 is a clear signal.

Level 3 always raises the mean and level 0 always lowers it; every update of a Gaussian-like
posterior by this log-concave likelihood shrinks the SD.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..content.library import Library
from ..content.schema import Scenario
from ..skills.score import SkillPosterior
from .groups import Member


@dataclass(frozen=True)
class PeerRatingItem:
    """GRM parameters of a peer's 0..3 rating of one competency."""

    a: float = 0.7
    b: tuple[float, float, float] = (-2.25, -1.0, 0.75)

    def __post_init__(self) -> None:
        if not math.isfinite(self.a) or self.a <= 0:
            raise ValueError(f"peer rating slope a must be positive, got {self.a}")
        if len(self.b) != 3 or any(x >= y for x, y in zip(self.b, self.b[1:], strict=False)):
            raise ValueError(f"peer rating thresholds must be 3 increasing numbers, got {self.b}")


PEER_RATING_ITEM = PeerRatingItem()


@dataclass(frozen=True)
class PracticePair:
    """Two leaders who play ``scenario_id`` together and rate each other."""

    first: str
    second: str
    scenario_id: str
    complementarity: float


@dataclass(frozen=True)
class Pairing:
    pairs: tuple[PracticePair, ...]
    unpaired: tuple[str, ...]


@dataclass(frozen=True)
class PeerFeedback:
    """``giver``'s ratings of ``receiver`` on ``scenario_id``: ``{competency: {behavior: 0..3}}``."""

    giver: str
    receiver: str
    scenario_id: str
    ratings: Mapping[str, Mapping[str, int]]

    def __post_init__(self) -> None:
        if self.giver == self.receiver:
            raise ValueError("a leader cannot give peer feedback to themselves")
        if not self.ratings:
            raise ValueError("peer feedback needs at least one rating")
        for comp, by_behavior in self.ratings.items():
            if not by_behavior:
                raise ValueError(f"no behavior ratings for {comp!r}")
            for beh, r in by_behavior.items():
                if not isinstance(r, int | np.integer) or not 0 <= r <= 3:
                    raise ValueError(f"rating of {comp!r} / {beh!r} must be an integer 0..3, got {r!r}")

    def levels(self) -> dict[str, int]:
        """One level per competency: the mean of its behavior ratings, rounded half up."""
        return {c: int(math.floor(float(np.mean(list(v.values()))) + 0.5)) for c, v in self.ratings.items()}


@dataclass(frozen=True)
class PeerUpdate:
    """The receiver's posterior on one competency before and after a peer rating."""

    competency: str
    level: int
    before_mean: float
    before_sd: float
    after_mean: float
    after_sd: float


def feedback_form(library: Library, scenario: Scenario) -> dict[str, tuple[str, ...]]:
    """``{competency: key behaviors}`` to rate, for the scenario's competencies."""
    return {c: tuple(library.competencies[c].key_behaviors) for c in scenario.competencies if c in library.competencies}


def complementarity(a: Member, b: Member, competencies: Sequence[str]) -> float:
    """Sum over ``competencies`` of the absolute difference of the two means."""
    return float(sum(abs(a.skills[c][0] - b.skills[c][0]) for c in competencies))


def pair_for_practice(members: Sequence[Member], scenario: Scenario,
                      forbidden: Iterable[tuple[str, str]] = ()) -> Pairing:
    """Greedy complementary pairing for one scenario (see the module docstring)."""
    comps = [c for c in scenario.competencies if members and c in members[0].skills]
    if not comps:
        raise ValueError(f"members have no skill estimates for the scenario's competencies {scenario.competencies}")
    ids = [m.leader_id for m in members]
    if len(set(ids)) != len(ids):
        raise ValueError("leader ids must be unique")
    bad = {frozenset(p) for p in forbidden}
    cands = sorted(((complementarity(members[i], members[j], comps), i, j)
                    for i in range(len(members)) for j in range(i + 1, len(members))
                    if frozenset((ids[i], ids[j])) not in bad), key=lambda t: (-t[0], t[1], t[2]))
    taken: set[int] = set()
    pairs = []
    for score, i, j in cands:
        if i in taken or j in taken:
            continue
        taken |= {i, j}
        pairs.append(PracticePair(ids[i], ids[j], scenario.id, score))
    return Pairing(tuple(pairs), tuple(ids[i] for i in range(len(ids)) if i not in taken))


def apply_peer_feedback(posterior: SkillPosterior, feedback: PeerFeedback,
                        item: PeerRatingItem = PEER_RATING_ITEM) -> dict[str, PeerUpdate]:
    """Multiply the feedback into the receiver's posterior (in place); before/after per competency.

    Raises
    ------
    ValueError
        When a rated competency is not a dimension of the posterior.
    """
    missing = sorted(set(feedback.ratings) - set(posterior.dimensions))
    if missing:
        raise ValueError(f"the posterior has no dimension for {', '.join(missing)}")
    out = {}
    b = np.asarray(item.b, float)
    for comp, level in feedback.levels().items():
        d = posterior.dimensions.index(comp)
        m0, s0 = float(posterior.mean[d]), float(posterior.sd[d])
        posterior.add(comp, item.a, b, level)
        out[comp] = PeerUpdate(comp, level, m0, s0, float(posterior.mean[d]), float(posterior.sd[d]))
    return out
