"""Peer groups: split a cohort so that every member's development areas are covered.

Definitions
-----------
Each member has a skill estimate (posterior mean and SD, on the theta scale where the
population is N(0, 1)) per competency.

*Strong* in competency c
    ``mean - strong_z * sd >= strong_level`` (defaults 0.5 and 0.5): the estimate is clearly
    above average even after discounting half an SD of uncertainty. With theta ~ N(0, 1) and
    SDs near 0.45 this marks roughly the top quarter of a cohort in each competency.
*Development areas* of a member
    As everywhere in the workbench, :mod:`workbench.skills.need`: the competencies whose skill is
    below the expectation for the member's role level (``Member.expectations``) with probability
    above 0.95, largest need first. A member never counts as strong in a development area of theirs.
*Coverage*
    The share of (member, development area) pairs for which another member of the same group
    is strong in that competency. Because a development area is never a strong one, a group
    covers member i's area c exactly when the group has at least one strong member in c; the
    group's contribution is ``need[g] . (strong_count[g] > 0)`` with ``need[g, c]`` the number
    of its members who develop c. Coverage is in [0, 1].

Secondary objectives (each in [0, 1], averaged over groups)
    * ``level_mix``: 1 when the group has both a first-time leader and an experienced or senior
      one (counted only when the cohort has both; 1 otherwise).
    * ``function_mix``: distinct functions in the group / min(group size, functions in cohort).

Objective = ``w_coverage * coverage + w_level * level_mix + w_function * function_mix``
(:class:`Weights`, defaults 1.0, 0.25, 0.25). Forbidden pairs (for example a manager and a
direct report) are a hard constraint, as are the group sizes.

Optimizer
---------
Seeded local search with restarts. Every quantity above is a sum over groups, and a group's
term depends on a few count vectors (strong members per competency, members developing each
competency, members per role level and per function), so a move or swap is evaluated in O(C)
by updating two groups' counts.

1. Sizes: ``n_groups = ceil(n / max_size)``; the initial sizes differ by at most one. Later
   moves may change sizes inside ``[min_size, max_size]``.
2. Greedy construction: members in random order, scarce strengths first (members strong in
   the competencies fewest people are strong in), each placed in the open group with the
   largest objective gain that holds none of its forbidden partners.
3. Improvement: random proposals, half swaps of two members of different groups and half
   moves of one member to another group; a proposal is taken when it keeps every constraint
   and raises the objective by more than 1e-12. It stops after ``patience`` proposals in a row
   without improvement or ``max_proposals`` in all.
4. ``restarts`` runs with seeds drawn from ``seed``; the best objective wins.

The baseline ``random_coverage`` is the mean coverage of ``n_random`` random permutations cut
into the same group sizes (forbidden pairs are not enforced on the baseline).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..skills.need import assess

FIRST_TIME = "first-time"
ROLE_LEVELS = ("first-time", "experienced", "senior")


@dataclass(frozen=True)
class Member:
    """One leader of the cohort as the grouping sees them.

    Attributes
    ----------
    leader_id
        Unique id.
    skills
        ``{competency: (mean, sd)}``; every member must have the same competencies.
    role_level
        ``"first-time"``, ``"experienced"`` or ``"senior"``.
    function
        Business function (free text; compared for equality).
    expectations
        ``{competency: expected skill}`` for the member's role level (0 where missing).
    """

    leader_id: str
    skills: Mapping[str, tuple[float, float]]
    role_level: str = "experienced"
    function: str = ""
    expectations: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.leader_id:
            raise ValueError("leader_id must be a non-empty string")
        if self.role_level not in ROLE_LEVELS:
            raise ValueError(f"role_level of {self.leader_id!r} must be one of {ROLE_LEVELS}, got {self.role_level!r}")
        for comp, (m, s) in self.skills.items():
            if not (math.isfinite(m) and math.isfinite(s) and s > 0):
                raise ValueError(f"skill {comp!r} of {self.leader_id!r} needs a finite mean and positive sd, got {(m, s)}")


@dataclass(frozen=True)
class Weights:
    """Weights of the objective terms (see the module docstring)."""

    coverage: float = 1.0
    level_mix: float = 0.25
    function_mix: float = 0.25

    def __post_init__(self) -> None:
        if min(self.coverage, self.level_mix, self.function_mix) < 0:
            raise ValueError("weights must be non-negative")


@dataclass(frozen=True)
class Thresholds:
    """When a member counts as strong in a competency (able to coach others in it)."""

    strong_level: float = 0.5
    strong_z: float = 0.5

    def strong(self, mean, sd) -> np.ndarray:
        """``mean - strong_z * sd >= strong_level`` (broadcasts)."""
        return np.asarray(mean, float) - self.strong_z * np.asarray(sd, float) >= self.strong_level


@dataclass(frozen=True)
class CoachingPair:
    """``coach`` is strong in ``competency``, which is a development area of ``learner``."""

    group: int
    coach: str
    learner: str
    competency: str


@dataclass(frozen=True)
class Grouping:
    """The result of :func:`form_groups`.

    Attributes
    ----------
    groups
        Member ids per group.
    coverage, random_coverage
        The coverage of these groups, and the mean coverage of random groupings of the same sizes.
    breakdown
        ``coverage``, ``level_mix``, ``function_mix`` and the weighted ``objective``.
    coaching_pairs
        For every covered (member, development area): the group's strongest member in it.
    development_areas
        ``{leader_id: (competency, ...)}``, largest need first.
    """

    groups: tuple[tuple[str, ...], ...]
    coverage: float
    random_coverage: float
    breakdown: Mapping[str, float]
    coaching_pairs: tuple[CoachingPair, ...]
    development_areas: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    seed: int = 0

    @property
    def objective(self) -> float:
        return float(self.breakdown["objective"])

    def group_of(self, leader_id: str) -> int:
        for g, members in enumerate(self.groups):
            if leader_id in members:
                return g
        raise KeyError(leader_id)

    def shared_development_areas(self, group: int) -> tuple[str, ...]:
        """The group's development areas, most members first (ties by first appearance)."""
        counts: dict[str, int] = {}
        for lid in self.groups[group]:
            for c in self.development_areas.get(lid, ()):
                counts[c] = counts.get(c, 0) + 1
        return tuple(sorted(counts, key=lambda c: -counts[c]))


# ---------------------------------------------------------------- profiles
@dataclass(frozen=True)
class _Profile:
    competencies: tuple[str, ...]
    strong: np.ndarray  # (n, C) bool
    need: np.ndarray  # (n, C) bool, development areas
    mean: np.ndarray  # (n, C)
    score: np.ndarray  # (n, C) need score, orders the development areas
    first_time: np.ndarray  # (n,) bool
    function: np.ndarray  # (n,) int codes
    n_functions: int


def strong_and_development(
    members: Sequence[Member], thresholds: Thresholds = Thresholds()
) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """Competencies, the strong matrix and the development-area matrix, both (n, C) bool."""
    p = _profile(members, thresholds)
    return p.competencies, p.strong, p.need


def _profile(members: Sequence[Member], th: Thresholds) -> _Profile:
    if not members:
        raise ValueError("the cohort has no members")
    comps = tuple(members[0].skills)
    if not comps:
        raise ValueError("members need at least one competency in skills")
    for m in members:
        if set(m.skills) != set(comps):
            raise ValueError(f"{m.leader_id!r} has competencies {sorted(m.skills)}, expected {sorted(comps)}")
    mean = np.array([[m.skills[c][0] for c in comps] for m in members], float)
    sd = np.array([[m.skills[c][1] for c in comps] for m in members], float)
    expectation = np.array([[float(m.expectations.get(c, 0.0)) for c in comps] for m in members], float)
    needs = assess(mean, sd, expectation)
    need = needs.development_area
    strong = th.strong(mean, sd) & ~need  # never a coach in one's own development area
    fn_codes: dict[str, int] = {}
    function = np.array([fn_codes.setdefault(m.function, len(fn_codes)) for m in members], int)
    first = np.array([m.role_level == FIRST_TIME for m in members], bool)
    return _Profile(comps, strong, need, mean, needs.score, first, function, len(fn_codes))


def development_areas(members: Sequence[Member], thresholds: Thresholds = Thresholds()) -> dict[str, tuple[str, ...]]:
    """``{leader_id: development areas}``, largest need first (:mod:`workbench.skills.need`)."""
    p = _profile(members, thresholds)
    out = {}
    for i, m in enumerate(members):
        idx = [j for j in np.argsort(-p.score[i], kind="stable") if p.need[i, j]]
        out[m.leader_id] = tuple(p.competencies[j] for j in idx)
    return out


# ---------------------------------------------------------------- objective
class _State:
    """Group assignment plus the per-group count vectors the objective needs."""

    def __init__(self, p: _Profile, n_groups: int, w: Weights, min_size: int, max_size: int):
        self.p, self.G, self.w = p, n_groups, w
        self.min_size, self.max_size = min_size, max_size
        C = len(p.competencies)
        self.S = np.zeros((n_groups, C), int)
        self.N = np.zeros((n_groups, C), int)
        self.first = np.zeros(n_groups, int)
        self.size = np.zeros(n_groups, int)
        self.fn = np.zeros((n_groups, p.n_functions), int)
        self.of = np.full(len(p.first_time), -1, int)
        self.total_need = max(int(p.need.sum()), 1)
        self.mixed_cohort = bool(p.first_time.any() and (~p.first_time).any())
        self.s_int = p.strong.astype(int)
        self.n_int = p.need.astype(int)

    def group_score(self, S: np.ndarray, N: np.ndarray, first: int, size: int, fn_distinct: int) -> float:
        if size == 0:
            return 0.0
        cov = float(N[S > 0].sum()) / self.total_need
        lvl = (1.0 if (0 < first < size) else 0.0) if self.mixed_cohort else 1.0
        fnm = fn_distinct / min(size, self.p.n_functions)
        return self.w.coverage * cov + (self.w.level_mix * lvl + self.w.function_mix * fnm) / self.G

    def score_of(self, g: int) -> float:
        return self.group_score(self.S[g], self.N[g], int(self.first[g]), int(self.size[g]),
                                int((self.fn[g] > 0).sum()))

    def _score_changed(self, g: int, out: Sequence[int], into: Sequence[int]) -> float:
        S, N = self.S[g].copy(), self.N[g].copy()
        first, size = int(self.first[g]), int(self.size[g])
        fn = self.fn[g].copy()
        for i in out:
            S -= self.s_int[i]
            N -= self.n_int[i]
            first -= int(self.p.first_time[i])
            size -= 1
            fn[self.p.function[i]] -= 1
        for i in into:
            S += self.s_int[i]
            N += self.n_int[i]
            first += int(self.p.first_time[i])
            size += 1
            fn[self.p.function[i]] += 1
        return self.group_score(S, N, first, size, int((fn > 0).sum()))

    def add(self, i: int, g: int) -> None:
        self.S[g] += self.s_int[i]
        self.N[g] += self.n_int[i]
        self.first[g] += int(self.p.first_time[i])
        self.size[g] += 1
        self.fn[g, self.p.function[i]] += 1
        self.of[i] = g

    def remove(self, i: int) -> None:
        g = self.of[i]
        self.S[g] -= self.s_int[i]
        self.N[g] -= self.n_int[i]
        self.first[g] -= int(self.p.first_time[i])
        self.size[g] -= 1
        self.fn[g, self.p.function[i]] -= 1
        self.of[i] = -1

    def objective(self) -> float:
        return sum(self.score_of(g) for g in range(self.G))

    def breakdown(self) -> dict[str, float]:
        groups = [np.flatnonzero(self.of == g) for g in range(self.G)]
        cov = sum(float(self.N[g][self.S[g] > 0].sum()) for g in range(self.G)) / self.total_need
        lvl = np.mean([(1.0 if 0 < self.first[g] < self.size[g] else 0.0) if self.mixed_cohort else 1.0
                       for g in range(self.G)])
        fnm = np.mean([(self.fn[g] > 0).sum() / min(len(groups[g]), self.p.n_functions) for g in range(self.G)])
        obj = self.w.coverage * cov + self.w.level_mix * lvl + self.w.function_mix * fnm
        return {"coverage": cov, "level_mix": float(lvl), "function_mix": float(fnm), "objective": float(obj)}


def _coverage_of(p: _Profile, labels: np.ndarray, n_groups: int) -> float:
    S = np.zeros((n_groups, p.strong.shape[1]), int)
    N = np.zeros_like(S)
    np.add.at(S, labels, p.strong.astype(int))
    np.add.at(N, labels, p.need.astype(int))
    return float(N[S > 0].sum()) / max(int(p.need.sum()), 1)


# ---------------------------------------------------------------- search
def _sizes(n: int, min_size: int, max_size: int) -> list[int]:
    if min_size < 1 or max_size < min_size:
        raise ValueError(f"need 1 <= min_size <= max_size, got {min_size}..{max_size}")
    g = math.ceil(n / max_size)
    if g * min_size > n:
        raise ValueError(f"{n} leaders cannot be split into groups of {min_size} to {max_size}")
    base, extra = divmod(n, g)
    return [base + 1] * extra + [base] * (g - extra)


def _forbidden_index(members: Sequence[Member], forbidden: Iterable[tuple[str, str]]) -> list[list[int]]:
    idx = {m.leader_id: i for i, m in enumerate(members)}
    if len(idx) != len(members):
        raise ValueError("leader ids must be unique")
    nbrs: list[list[int]] = [[] for _ in members]
    for a, b in forbidden:
        if a not in idx or b not in idx:
            raise ValueError(f"forbidden pair ({a!r}, {b!r}) names a leader not in the cohort")
        if a == b:
            raise ValueError(f"forbidden pair ({a!r}, {b!r}) names the same leader twice")
        nbrs[idx[a]].append(idx[b])
        nbrs[idx[b]].append(idx[a])
    return nbrs


def _conflict(st: _State, nbrs: list[list[int]], i: int, g: int, ignore: int = -1) -> bool:
    return any(st.of[j] == g and j != ignore for j in nbrs[i])


def _construct(st: _State, nbrs: list[list[int]], sizes: list[int], rng: np.random.Generator) -> None:
    p = st.p
    rarity = 1.0 / np.maximum(p.strong.sum(axis=0), 1)
    key = (p.strong * rarity).sum(axis=1) + rng.random(len(p.first_time)) * 1e-3
    # Most constrained first: many forbidden partners, then scarce strengths.
    order = sorted(range(len(key)), key=lambda i: (-len(nbrs[i]), -key[i]))
    for i in order:
        best, best_gain = -1, -math.inf
        for g in rng.permutation(st.G):
            if st.size[g] >= sizes[g] or _conflict(st, nbrs, i, g):
                continue
            gain = st._score_changed(g, (), (i,)) - st.score_of(g)
            if gain > best_gain:
                best, best_gain = g, gain
        if best < 0:  # every open group holds a forbidden partner: take any group under max_size
            for g in rng.permutation(st.G):
                if st.size[g] < st.max_size and not _conflict(st, nbrs, i, g):
                    best = g
                    break
        if best < 0:
            raise ValueError("could not place every leader without putting a forbidden pair together")
        st.add(i, int(best))


def _improve(st: _State, nbrs: list[list[int]], rng: np.random.Generator, patience: int, max_proposals: int) -> None:
    n = len(st.of)
    stall = 0
    for _ in range(max_proposals):
        if stall >= patience:
            break
        stall += 1
        i = int(rng.integers(n))
        gi = int(st.of[i])
        if rng.random() < 0.5:  # swap
            j = int(rng.integers(n))
            gj = int(st.of[j])
            if gi == gj or _conflict(st, nbrs, i, gj, ignore=j) or _conflict(st, nbrs, j, gi, ignore=i):
                continue
            new_i, new_j = st._score_changed(gi, (i,), (j,)), st._score_changed(gj, (j,), (i,))
            if new_i + new_j - st.score_of(gi) - st.score_of(gj) > 1e-12:
                st.remove(i)
                st.remove(j)
                st.add(i, gj)
                st.add(j, gi)
                stall = 0
        else:  # move
            gj = int(rng.integers(st.G))
            if gi == gj or st.size[gi] <= st.min_size or st.size[gj] >= st.max_size or _conflict(st, nbrs, i, gj):
                continue
            new_i, new_j = st._score_changed(gi, (i,), ()), st._score_changed(gj, (), (i,))
            if new_i + new_j - st.score_of(gi) - st.score_of(gj) > 1e-12:
                st.remove(i)
                st.add(i, gj)
                stall = 0


def form_groups(
    members: Sequence[Member],
    *,
    min_size: int = 4,
    max_size: int = 6,
    forbidden: Iterable[tuple[str, str]] = (),
    weights: Weights = Weights(),
    thresholds: Thresholds = Thresholds(),
    seed: int = 0,
    restarts: int = 4,
    patience: int | None = None,
    max_proposals: int | None = None,
    n_random: int = 50,
) -> Grouping:
    """Split a cohort into peer groups by seeded local search (see the module docstring).

    Parameters
    ----------
    members
        The cohort.
    min_size, max_size
        Allowed group sizes (inclusive).
    forbidden
        Pairs of leader ids that must not share a group.
    weights, thresholds
        Objective weights; strong / development-area definitions.
    seed
        Seeds the construction order, the proposals and the random baseline.
    restarts
        Independent construction + improvement runs; the best is kept.
    patience, max_proposals
        Stop a run after ``patience`` proposals without improvement (default ``20 * n``) or
        ``max_proposals`` in all (default ``200 * n``).
    n_random
        Random groupings averaged for ``random_coverage``.

    Returns
    -------
    Grouping

    Raises
    ------
    ValueError
        Bad sizes, duplicate ids, unknown leaders in ``forbidden``, or constraints that cannot be met.
    """
    members = list(members)
    n = len(members)
    if restarts < 1:
        raise ValueError(f"restarts must be at least 1, got {restarts}")
    sizes = _sizes(n, min_size, max_size)
    nbrs = _forbidden_index(members, forbidden)
    p = _profile(members, thresholds)
    patience = 20 * n if patience is None else patience
    max_proposals = 200 * n if max_proposals is None else max_proposals
    master = np.random.default_rng(seed)
    best: _State | None = None
    best_obj = -math.inf
    for _ in range(restarts):
        rng = np.random.default_rng(master.integers(2**63))
        st = _State(p, len(sizes), weights, min_size, max_size)
        _construct(st, nbrs, sizes, rng)
        _improve(st, nbrs, rng, patience, max_proposals)
        obj = st.objective()
        if obj > best_obj + 1e-12:
            best, best_obj = st, obj
    assert best is not None
    ids = [m.leader_id for m in members]
    groups = tuple(tuple(ids[i] for i in np.flatnonzero(best.of == g)) for g in range(best.G))
    base = np.repeat(np.arange(len(sizes)), sizes)
    rand = [_coverage_of(p, master.permutation(base), len(sizes)) for _ in range(n_random)]
    breakdown = best.breakdown()
    pairs = []
    for g in range(best.G):
        idx = np.flatnonzero(best.of == g)
        for i in idx:
            for c in np.flatnonzero(p.need[i]):
                strong = [j for j in idx if p.strong[j, c]]
                if strong:
                    coach = max(strong, key=lambda j: p.mean[j, c])
                    pairs.append(CoachingPair(g, ids[coach], ids[i], p.competencies[c]))
    return Grouping(
        groups=groups,
        coverage=breakdown["coverage"],
        random_coverage=float(np.mean(rand)) if rand else float("nan"),
        breakdown=breakdown,
        coaching_pairs=tuple(pairs),
        development_areas=development_areas(members, thresholds),
        seed=seed,
    )


def random_grouping_coverage(
    members: Sequence[Member], sizes: Sequence[int], thresholds: Thresholds = Thresholds(), seed: int = 0,
    n: int = 50,
) -> float:
    """Mean coverage of ``n`` random groupings with the given sizes."""
    if sum(sizes) != len(members):
        raise ValueError(f"sizes sum to {sum(sizes)}, the cohort has {len(members)} leaders")
    p = _profile(list(members), thresholds)
    rng = np.random.default_rng(seed)
    base = np.repeat(np.arange(len(sizes)), sizes)
    return float(np.mean([_coverage_of(p, rng.permutation(base), len(sizes)) for _ in range(n)]))


def synthetic_cohort(n: int, competencies: Sequence[str], seed: int = 0, n_functions: int = 5,
                     first_time_share: float = 0.4) -> list[Member]:
    """A generated cohort for tests and benchmarks: theta ~ N(0, 1), SDs uniform on 0.3..0.6."""
    rng = np.random.default_rng(seed)
    out = []
    fns = [f"function-{k}" for k in range(n_functions)]
    for i in range(n):
        theta = rng.normal(size=len(competencies))
        sd = rng.uniform(0.3, 0.6, size=len(competencies))
        mean = theta + rng.normal(size=len(competencies)) * sd * 0.5
        level = FIRST_TIME if rng.random() < first_time_share else ("experienced" if rng.random() < 0.7 else "senior")
        out.append(Member(f"L{i:04d}", {c: (float(m), float(s)) for c, m, s in zip(competencies, mean, sd, strict=True)},
                          level, fns[int(rng.integers(n_functions))]))
    return out
