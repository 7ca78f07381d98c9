"""Checks that need more than one file: links between content, scenario graphs, cycles, and the
test-wise cues of the knowledge checks and scenario decision points across the library."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from .problems import Problem
from .schema import MAX_MODULE_MINUTES, STRONG_QUALITY, Module, Node, Scenario

MIN_DECISIONS_PER_PATH = 3


def check_ids(
    ids: Iterable[str], known: set[str] | Mapping[str, object], file: str, field: str, kind: str
) -> list[Problem]:
    return [
        Problem(file, f"{field}.{i}", f"unknown {kind} id {ref!r}")
        for i, ref in enumerate(ids)
        if ref not in known
    ]


def check_module_minutes(minutes: int, file: str) -> list[Problem]:
    if minutes > MAX_MODULE_MINUTES:
        return [
            Problem(
                file,
                "minutes",
                f"module takes {minutes} minutes; modules must take at most {MAX_MODULE_MINUTES}",
            )
        ]
    return []


def check_scenario_graph(sc: Scenario, file: str, competencies: set[str]) -> list[Problem]:
    """Broken links, unreachable nodes, dead ends and too-short paths in one scenario."""
    problems: list[Problem] = []
    nodes = sc.nodes
    if sc.start not in nodes:
        return [Problem(file, "start", f"start node {sc.start!r} is not defined in nodes")]
    for nid, node in nodes.items():
        for ci, ch in enumerate(node.choices):
            base = f"nodes.{nid}.choices.{ci}"
            if ch.next not in nodes:
                problems.append(Problem(file, f"{base}.next", f"links to undefined node {ch.next!r}"))
            for comp in ch.quality:
                if comp not in competencies:
                    problems.append(Problem(file, f"{base}.quality.{comp}", f"unknown competency id {comp!r}"))
    # reachability from start
    seen, stack = {sc.start}, [sc.start]
    while stack:
        for ch in nodes[stack.pop()].choices:
            if ch.next in nodes and ch.next not in seen:
                seen.add(ch.next)
                stack.append(ch.next)
    for nid in nodes:
        if nid not in seen:
            problems.append(Problem(file, f"nodes.{nid}", "node is unreachable from start"))
    if not any(nodes[n].ending for n in seen):
        problems.append(Problem(file, "nodes", "scenario has no reachable ending"))
        return problems
    # nodes from which no ending can be reached (cycles that trap the player)
    can_end = {n for n in nodes if nodes[n].ending}
    changed = True
    while changed:
        changed = False
        for nid, node in nodes.items():
            if nid not in can_end and any(ch.next in can_end for ch in node.choices):
                can_end.add(nid)
                changed = True
    for nid in sorted(seen - can_end):
        problems.append(Problem(file, f"nodes.{nid}", "no ending can be reached from this node"))
    if problems:
        return problems
    shortest = _fewest_decisions(sc)
    if shortest < MIN_DECISIONS_PER_PATH:
        problems.append(
            Problem(
                file,
                "nodes",
                f"a path from start reaches an ending after {shortest} decision(s); "
                f"every path needs at least {MIN_DECISIONS_PER_PATH}",
            )
        )
    return problems


def check_scenario_debrief(sc: Scenario, file: str, modules: set[str] | Mapping[str, object]) -> list[Problem]:
    """What the path-dependent debrief needs: every weaker choice says what would have worked
    (``instead``) and names at least one existing module that teaches it; module ids on any
    choice exist; every epilogue refers to a choice of this scenario."""
    problems: list[Problem] = []
    for nid, node in sc.nodes.items():
        for ci, ch in enumerate(node.choices):
            base = f"nodes.{nid}.choices.{ci}"
            if ch.mean_quality < STRONG_QUALITY:
                if not ch.instead:
                    problems.append(Problem(file, f"{base}.instead", "a weaker choice (mean quality below "
                                            f"{STRONG_QUALITY:g}) must say what would have worked here"))
                if not ch.modules:
                    problems.append(Problem(file, f"{base}.modules", "a weaker choice must name the module(s) "
                                            "that teach what would have worked"))
            problems += check_ids(ch.modules, modules, file, f"{base}.modules", "module")
        for ei, ep in enumerate(node.epilogues):
            for ri, ref in enumerate(ep.if_chosen):
                at, _, cid = ref.partition(":")
                field = f"nodes.{nid}.epilogues.{ei}.if_chosen.{ri}"
                if at not in sc.nodes:
                    problems.append(Problem(file, field, f"unknown node {at!r} in {ref!r}"))
                elif cid not in {c.id for c in sc.nodes[at].choices}:
                    problems.append(Problem(file, field, f"node {at!r} has no choice {cid!r} ({ref!r})"))
    return problems


def _fewest_decisions(sc: Scenario) -> int:
    """Fewest decision points on any path from start to an ending (BFS on the graph)."""
    from collections import deque

    dist = {sc.start: 0}
    queue = deque([sc.start])
    while queue:
        nid = queue.popleft()
        node = sc.nodes[nid]
        if node.ending:
            return dist[nid]
        for ch in node.choices:
            if ch.next not in dist:
                dist[ch.next] = dist[nid] + 1
                queue.append(ch.next)
    return 0


def find_cycle(graph: Mapping[str, Iterable[str]]) -> list[str] | None:
    """A cycle in a directed graph (as a list of nodes), or None."""
    WHITE, GREY, BLACK = 0, 1, 2
    color = {n: WHITE for n in graph}
    path: list[str] = []

    def visit(n: str) -> list[str] | None:
        color[n] = GREY
        path.append(n)
        for m in graph.get(n, ()):
            if m not in color:
                continue
            if color[m] == GREY:
                return path[path.index(m) :] + [m]
            if color[m] == WHITE and (cyc := visit(m)):
                return cyc
        path.pop()
        color[n] = BLACK
        return None

    for n in graph:
        if color[n] == WHITE and (cyc := visit(n)):
            return cyc
    return None


def check_organization_notes(org, competencies: set[str] | Mapping[str, object],
                             modules: Mapping[str, object], file: str) -> list[Problem]:
    """Notes in ``organization.yaml`` must be about competencies and modules the library has."""
    problems = [Problem(file, f"notes.competencies.{cid}", f"unknown competency id {cid!r}")
                for cid in org.notes.competencies if cid not in competencies]
    problems += [Problem(file, f"notes.modules.{mid}", f"unknown module id {mid!r}")
                 for mid in org.notes.modules if mid not in modules]
    return problems
# ------------------------------------------------------------------------------ test-wise cues
#: Tell-tale wording of an option nobody would pick: blame, threats, shouting, pretending a problem away,
#: humiliation, deleting the evidence, dismissing feelings. A distractor written this way is rejected on
#: sight, so the item stops measuring the skill. Each entry is a regular expression (case-insensitive,
#: matched on word boundaries) and the plain name printed when it is found.
ABSURD_MARKERS: tuple[tuple[str, str], ...] = (
    (r"blam(e|es|ed|ing)", "blame"),
    (r"threaten(s|ed|ing)? (to|them|him|her|you)", "threat"),
    (r"ultimatum", "ultimatum"),
    (r"shout(s|ed|ing)?|yell(s|ed|ing)?|scream(s|ed|ing)?", "shouting"),
    (r"ignor(e|es|ed|ing) (it|them|him|her|the (problem|issue|email|message|complaint)s?)", "ignore it"),
    (r"delet(e|es|ed|ing)", "delete"),
    (r"humiliat\w*|embarrass(es|ed|ing)? (them|him|her)", "humiliation"),
    (r"in front of (everyone|the (whole )?team)", "public shaming"),
    (r"sarcas\w*|mock(s|ed|ing)?", "sarcasm"),
    (r"get over it|toughen up|man up|stop complaining", "dismissing feelings"),
    (r"fire (them|him|her)|sack (them|him|her)", "fire them"),
    (r"punish\w*", "punishment"),
    (r"pretend\w*", "pretending"),
    (r"not my (problem|job)|none of my business", "not my problem"),
    (r"whatever (they|you) (want|like)", "whatever they want"),
)
_MARKERS = tuple((re.compile(rf"\b(?:{pat})\b", re.IGNORECASE), name) for pat, name in ABSURD_MARKERS)

#: Significance level of the one-sided tests (correct option longest more or less often than chance,
#: shortest more often; answer position).
CUE_ALPHA = 0.05
#: The mean ratio of the correct option's length to the mean distractor length may not exceed this.
MAX_LENGTH_RATIO = 1.15
#: Share of items with a distractor carrying an absurd-option marker that is tolerated.
MAX_MARKED_SHARE = 0.05
#: Groups with fewer items than this are reported but not judged: a handful of items says little.
MIN_CUE_ITEMS = 10


def _marker(text: str) -> str | None:
    for rx, name in _MARKERS:
        if rx.search(text):
            return name
    return None


@dataclass(frozen=True)
class CueItem:
    """One multiple-choice item as a test-wise reader sees it: option texts and which are best.

    ``best`` holds the indexes of the keyed option(s): the answer of a knowledge-check question,
    or the choice(s) of highest total quality at a scenario decision point.
    """

    file: str
    field: str
    options: tuple[str, ...]
    best: frozenset[int]

    @property
    def lengths(self) -> tuple[int, ...]:
        return tuple(len(" ".join(o.split())) for o in self.options)

    @property
    def k(self) -> int:
        return len(self.options)

    def best_is_longest(self) -> bool:
        """True when a best option is the (strictly) longest one."""
        ls = self.lengths
        top = max(ls)
        longest = [i for i, n in enumerate(ls) if n == top]
        return len(longest) == 1 and longest[0] in self.best

    def best_is_shortest(self) -> bool:
        """True when a best option is the (strictly) shortest one."""
        ls = self.lengths
        low = min(ls)
        shortest = [i for i, n in enumerate(ls) if n == low]
        return len(shortest) == 1 and shortest[0] in self.best

    def length_ratio(self) -> float | None:
        """Mean length of the best option(s) over the mean length of the distractors."""
        ls = self.lengths
        good = [ls[i] for i in self.best]
        bad = [n for i, n in enumerate(ls) if i not in self.best]
        if not bad or not good or min(bad) == 0:
            return None
        return (sum(good) / len(good)) / (sum(bad) / len(bad))

    def marked_distractors(self) -> list[tuple[int, str]]:
        return [(i, name) for i, o in enumerate(self.options) if i not in self.best and (name := _marker(o))]


@dataclass(frozen=True)
class CueFigures:
    """The test-wise cue figures of one group of items (knowledge checks, or scenario decision points)."""

    group: str
    n: int
    longest: int                 # items whose best option is the longest
    longest_expected: float      # the same under chance (sum of |best| / k)
    longest_p: float             # one-sided P(at least `longest` | chance)
    longest_p_low: float         # the other side, P(at most `longest` | chance): "avoid the longest" pays
    mean_ratio: float            # mean length ratio best / distractors
    over_1_5: int                # items with a ratio above 1.5
    marked: int                  # items with a distractor carrying an absurd-option marker
    position_counts: tuple[int, ...]     # best option's authored position (0-based), items with one best
    position_expected: tuple[float, ...]
    position_p: float            # chi-square goodness of fit against uniform positions
    shortest: int = 0            # items whose best option is the shortest (chance: `longest_expected`)
    shortest_p: float = 1.0      # one-sided P(at least `shortest` | chance)

    def as_dict(self) -> dict[str, object]:
        return {f: getattr(self, f) for f in self.__dataclass_fields__}

    def summary(self) -> str:
        if not self.n:
            return f"{self.group}: no items"
        pos = " ".join(f"{c}/{e:.1f}" for c, e in zip(self.position_counts, self.position_expected, strict=True))
        return (f"{self.group}: {self.n} items; best option longest in {self.longest} "
                f"({self.longest / self.n:.0%}; chance {self.longest_expected / self.n:.0%}, p={self.longest_p:.3g}, "
                f"p below chance {self.longest_p_low:.3g}); best option shortest in {self.shortest} "
                f"({self.shortest / self.n:.0%}, p={self.shortest_p:.3g}); "
                f"mean length ratio best/distractors {self.mean_ratio:.2f} (cap {MAX_LENGTH_RATIO}), "
                f"{self.over_1_5} above 1.5; absurd-option markers in {self.marked}; "
                f"answer position seen/expected {pos} (p={self.position_p:.3g})")


def poisson_binomial_sf(k: int, ps: Iterable[float]) -> float:
    """P(X >= k) for X the number of successes of independent trials with probabilities ``ps``.

    With equal probabilities this is the one-sided binomial test; items with different numbers
    of options (different chance levels) need the general form. Exact, by convolution.
    """
    dist = np.array([1.0])
    for p in ps:
        dist = np.convolve(dist, [1.0 - p, p])
    return float(min(1.0, dist[k:].sum())) if k > 0 else 1.0


def cue_figures(group: str, items: list[CueItem]) -> CueFigures:
    from scipy import stats

    n = len(items)
    if not n:
        return CueFigures(group, 0, 0, 0.0, 1.0, 1.0, 0.0, 0, 0, (), (), 1.0)
    longest = sum(it.best_is_longest() for it in items)
    shortest = sum(it.best_is_shortest() for it in items)
    chance = [len(it.best) / it.k for it in items]
    ratios = [r for it in items if (r := it.length_ratio()) is not None]
    kmax = max(it.k for it in items)
    counts = np.zeros(kmax)
    expected = np.zeros(kmax)
    for it in items:
        if len(it.best) == 1:
            counts[next(iter(it.best))] += 1
            expected[: it.k] += 1.0 / it.k
    keep = expected > 0
    if keep.sum() > 1 and counts.sum() > 0:
        pos_p = float(stats.chisquare(counts[keep], expected[keep] * counts.sum() / expected.sum()).pvalue)
    else:
        pos_p = 1.0
    return CueFigures(
        group, n, longest, float(sum(chance)), poisson_binomial_sf(longest, chance),
        1.0 - poisson_binomial_sf(longest + 1, chance),
        float(np.mean(ratios)) if ratios else 1.0, sum(r > 1.5 for r in ratios),
        sum(bool(it.marked_distractors()) for it in items),
        tuple(int(c) for c in counts), tuple(float(e) for e in expected), pos_p,
        shortest, poisson_binomial_sf(shortest, chance),
    )


def cue_problems(fig: CueFigures, items: list[CueItem], file: str) -> list[Problem]:
    """Problems when a cue is above chance in a group of at least :data:`MIN_CUE_ITEMS` items."""
    if fig.n < MIN_CUE_ITEMS:
        return []
    out = []
    if fig.longest_p < CUE_ALPHA:
        out.append(Problem(file, "longest", (
            f"the best option is the longest in {fig.longest} of {fig.n} {fig.group} "
            f"(chance {fig.longest_expected:.1f}; one-sided p={fig.longest_p:.2g} < {CUE_ALPHA}): "
            "a test-wise reader picks the longest option")))
    if fig.longest_p_low < CUE_ALPHA:
        out.append(Problem(file, "longest-below-chance", (
            f"the best option is the longest in only {fig.longest} of {fig.n} {fig.group} "
            f"(chance {fig.longest_expected:.1f}; one-sided p={fig.longest_p_low:.2g} < {CUE_ALPHA}): "
            "a test-wise reader rules out the longest option")))
    if fig.shortest_p < CUE_ALPHA:
        out.append(Problem(file, "shortest", (
            f"the best option is the shortest in {fig.shortest} of {fig.n} {fig.group} "
            f"(chance {fig.longest_expected:.1f}; one-sided p={fig.shortest_p:.2g} < {CUE_ALPHA}): "
            "a test-wise reader picks the shortest option")))
    if fig.mean_ratio > MAX_LENGTH_RATIO:
        out.append(Problem(file, "length-ratio", (
            f"the best option is on average {fig.mean_ratio:.2f} times as long as the distractors "
            f"in {fig.group} (at most {MAX_LENGTH_RATIO})")))
    if fig.marked > MAX_MARKED_SHARE * fig.n:
        out.append(Problem(file, "absurd-options", (
            f"{fig.marked} of {fig.n} {fig.group} have a distractor worded to be rejected on sight "
            f"(at most {MAX_MARKED_SHARE:.0%}); see the markers listed for each")))
        for it in items:
            for i, name in it.marked_distractors():
                out.append(Problem(it.file, f"{it.field}.{i}", f"distractor reads as absurd ({name}): "
                                                                f"{' '.join(it.options[i].split())[:80]!r}"))
    if fig.position_p < CUE_ALPHA:
        out.append(Problem(file, "answer-position", (
            f"the best option's authored position in {fig.group} is far from even "
            f"(seen {list(fig.position_counts)}, expected {[round(e, 1) for e in fig.position_expected]}; "
            f"p={fig.position_p:.2g} < {CUE_ALPHA})")))
    return out


def knowledge_check_items(modules: Mapping[str, Module], files: Mapping[str, str] | None = None) -> list[CueItem]:
    out = []
    for mid, mod in modules.items():
        file = (files or {}).get(mid, f"modules/{mid}.md")
        for qi, q in enumerate(mod.knowledge_check):
            out.append(CueItem(file, f"knowledge_check.{qi}.options", tuple(q.options), frozenset({q.answer})))
    return out


def scenario_items(scenarios: Mapping[str, Scenario], files: Mapping[str, str] | None = None) -> list[CueItem]:
    """Every decision point, with its best choice(s): the highest total quality over competencies."""
    out = []
    for sid, sc in scenarios.items():
        file = (files or {}).get(sid, f"scenarios/{sid}.yaml")
        for nid, node in sc.nodes.items():
            if not node.choices:
                continue
            totals = [sum(ch.quality.values()) for ch in node.choices]
            top = max(totals)
            out.append(CueItem(file, f"nodes.{nid}.choices", tuple(ch.text for ch in node.choices),
                               frozenset(i for i, t in enumerate(totals) if t == top)))
    return out


#: Share of the library's decision points that must offer two defensible options (judged on
#: libraries of at least :data:`MIN_CUE_ITEMS` decision points).
MIN_DEFENSIBLE_SHARE = 0.5


def defensible_choices(node: Node) -> list[int]:
    """Indexes of the defensible options at a decision point: those at or above
    :data:`~workbench.content.schema.STRONG_QUALITY` (mean quality over the competencies they touch).

    A defensible option is one a capable leader could pick in good faith and explain: it needs no
    ``instead`` in the debrief, and its feedback names what it buys and what it risks.
    """
    return [i for i, ch in enumerate(node.choices) if ch.mean_quality >= STRONG_QUALITY]


def has_two_defensible(node: Node) -> bool:
    """True when a decision point offers at least two defensible options (:func:`defensible_choices`).

    The best option (highest total quality) is always among them when there are two, because a strong
    option's total is at least ``STRONG_QUALITY`` per competency; the second is the reasonable choice
    with a real cost (typically quality 2 against the best's 3). Where it holds, "rule out what
    sounds wrong" no longer finds the answer: the reader has to weigh two sensible moves.
    """
    return len(defensible_choices(node)) >= 2


@dataclass(frozen=True)
class DefensibleFigures:
    """How many decision points offer two defensible options, in the library and per scenario."""

    n: int
    count: int
    per_scenario: tuple[tuple[str, int, int], ...]  # (scenario id, with two defensible, decision points)

    def summary(self) -> str:
        if not self.n:
            return "two defensible options: no decision points"
        thin = [f"{sid} {k}/{m}" for sid, k, m in self.per_scenario if 2 * k < m]
        return (f"two defensible options (two or more at mean quality >= {STRONG_QUALITY:g}) at {self.count} "
                f"of {self.n} scenario decision points ({self.count / self.n:.0%}; at least "
                f"{MIN_DEFENSIBLE_SHARE:.0%}); scenarios below half: {', '.join(thin) or 'none'}")


def defensible_figures(scenarios: Mapping[str, Scenario]) -> DefensibleFigures:
    rows = []
    for sid, sc in scenarios.items():
        points = [node for node in sc.nodes.values() if node.choices]
        rows.append((sid, sum(has_two_defensible(node) for node in points), len(points)))
    return DefensibleFigures(sum(m for *_, m in rows), sum(k for _, k, _ in rows), tuple(rows))


def defensible_problems(fig: DefensibleFigures, file: str) -> list[Problem]:
    """A problem when fewer than :data:`MIN_DEFENSIBLE_SHARE` of the decision points offer two
    defensible options (libraries of at least :data:`MIN_CUE_ITEMS` decision points)."""
    if fig.n < MIN_CUE_ITEMS or fig.count >= MIN_DEFENSIBLE_SHARE * fig.n:
        return []
    return [Problem(file, "two-defensible", (
        f"only {fig.count} of {fig.n} scenario decision points offer two defensible options "
        f"(at least {MIN_DEFENSIBLE_SHARE:.0%}): where only the best option is sensible, "
        "a reader finds it by ruling out the others"))]


@dataclass(frozen=True)
class CueReport:
    """Test-wise cue figures for the whole library and the problems they raise."""

    knowledge_checks: CueFigures
    scenarios: CueFigures
    problems: tuple[Problem, ...]
    defensible: DefensibleFigures | None = None

    def lines(self) -> list[str]:
        out = [self.knowledge_checks.summary(), self.scenarios.summary()]
        if self.defensible is not None:
            out.append(self.defensible.summary())
        return out


def measure_cues(modules: Mapping[str, Module], scenarios: Mapping[str, Scenario]) -> CueReport:
    """Measure the test-wise cues of knowledge checks and scenario decision points.

    A cue fails the check (groups of at least :data:`MIN_CUE_ITEMS` items) when

    * the best option is the longest significantly more often than chance (one-sided exact
      test at :data:`CUE_ALPHA`, chance per item = number of best options / number of options),
    * the best option is the longest significantly less often than chance (the other one-sided
      test: "never pick the longest" pays), or the shortest significantly more often,
    * the mean length ratio best / mean distractor is above :data:`MAX_LENGTH_RATIO`,
    * more than :data:`MAX_MARKED_SHARE` of items have a distractor with an absurd-option marker
      (:data:`ABSURD_MARKERS`), each one then listed, or
    * the best option's authored position departs from even (chi-square at :data:`CUE_ALPHA`), or
    * fewer than :data:`MIN_DEFENSIBLE_SHARE` of the scenario decision points offer two defensible
      options (:func:`has_two_defensible`): elsewhere the answer is found by ruling out the rest.
    """
    kc = knowledge_check_items(modules)
    sc = scenario_items(scenarios)
    kf, sf = cue_figures("knowledge-check questions", kc), cue_figures("scenario decision points", sc)
    df = defensible_figures(scenarios)
    problems = cue_problems(kf, kc, "modules/") + cue_problems(sf, sc, "scenarios/")
    problems += defensible_problems(df, "scenarios/")
    return CueReport(kf, sf, tuple(problems), df)
