"""Playing a branching practice scenario: state, choices, feedback, debrief.

A :class:`ScenarioRun` walks one leader through one :class:`~workbench.content.schema.Scenario`
of the library. It knows the current node, the path taken so far (node, choice, time), the
feedback given after every choice and whether an ending has been reached; when it has, its
:meth:`ScenarioRun.debrief` names the behaviors the leader showed, strong and weak, and for
each weaker choice actually made what would have worked there and the modules that teach it.
The ending itself depends on the path: an ending node adds the epilogues whose choices were
taken on the way.

:meth:`ScenarioRun.shuffled` gives the options at the current node in an order fixed per
attempt (seeded), so a player cannot learn "the answer is always the third"; choosing is by
choice id, so the shuffle never changes how a choice is scored.

The run is plain state over the content model: it neither reads nor writes a store. A caller
persists ``run.path`` (one row per step) and can rebuild the run later with
:meth:`ScenarioRun.replay`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType

from ..content.schema import STRONG_QUALITY, Choice, Node, Scenario

STRONG_THRESHOLD = STRONG_QUALITY
"""A behavior counts as strong when its mean quality over the competencies it touches is at
least 2 ("good" on the 0 poor, 1 weak, 2 good, 3 strong scale), and as weak below that."""

QUALITY_LABELS: Mapping[int, str] = MappingProxyType({0: "poor", 1: "weak", 2: "good", 3: "strong"})


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Step:
    """One decision taken: at ``node_id`` the leader picked ``choice_id`` at time ``at``."""

    node_id: str
    choice_id: str
    at: datetime


@dataclass(frozen=True)
class Feedback:
    """What the leader sees right after a choice.

    ``quality`` maps each competency the choice touches to its level 0..3; ``next_node`` is
    where the story goes and ``ended`` says whether that node is an ending.
    """

    step: int  # zero-based index of the decision in the run
    node_id: str
    choice_id: str
    choice_text: str
    feedback: str
    behavior: str
    quality: Mapping[str, int]
    next_node: str
    ended: bool

    @property
    def mean_quality(self) -> float:
        return sum(self.quality.values()) / len(self.quality)

    @property
    def strong(self) -> bool:
        return self.mean_quality >= STRONG_THRESHOLD


@dataclass(frozen=True)
class BehaviorShown:
    """A behavior the leader showed, with the quality levels of the choice that showed it."""

    behavior: str
    node_id: str
    choice_id: str
    quality: Mapping[str, int]

    @property
    def mean_quality(self) -> float:
        return sum(self.quality.values()) / len(self.quality)


@dataclass(frozen=True)
class Misstep:
    """A weaker choice the leader made, with what would have worked there and where to learn it."""

    node_id: str
    choice_id: str
    choice_text: str
    behavior: str
    instead: str
    modules: tuple[str, ...]


@dataclass(frozen=True)
class Debrief:
    """The end-of-scenario summary, built from the path actually taken.

    ``strong`` and ``weak`` list the behaviors shown (in the order shown); ``missteps`` has one
    entry per weaker choice made, saying what would have worked and which modules teach it;
    ``lessons`` are those "what would have worked" sentences (empty for a flawless run);
    ``ending_text`` is the ending node's text followed by the ``epilogues`` the path earned;
    ``quality`` is the mean level 0..3 per competency touched over the whole run.
    """

    scenario_id: str
    title: str
    ending_id: str
    ending_text: str
    strong: tuple[BehaviorShown, ...]
    weak: tuple[BehaviorShown, ...]
    lessons: tuple[str, ...]
    quality: Mapping[str, float]
    missteps: tuple[Misstep, ...] = ()
    epilogues: tuple[str, ...] = ()

    @property
    def modules(self) -> tuple[str, ...]:
        """Module ids the missteps point to, each once, in the order first named."""
        return tuple(dict.fromkeys(m for s in self.missteps for m in s.modules))

    def as_text(self, module_titles: Mapping[str, str] | None = None) -> str:
        """A plain-text rendering for a console or a chat transcript."""
        titles = module_titles or {}
        lines = [f"Debrief: {self.title}", "", self.ending_text, ""]
        if self.strong:
            lines.append("What you did well:")
            lines += [f"  + {b.behavior}" for b in self.strong]
        if self.missteps:
            lines.append("What would have worked better:")
            for m in self.missteps:
                lines.append(f"  - You chose: {' '.join(m.choice_text.split())}")
                lines.append(f"    Instead: {' '.join(m.instead.split())}")
                lines.append("    Learn it in: " + ", ".join(
                    f"{titles[x]} ({x})" if x in titles else x for x in m.modules))
        return "\n".join(lines)


class ScenarioRun:
    """One play-through of a scenario.

    Parameters
    ----------
    scenario:
        The scenario to play (``library.scenarios[id]``).
    clock:
        Returns the current time for each step; defaults to ``datetime.now(UTC)``. Inject a
        fixed clock in tests and simulations.

    Raises
    ------
    ValueError
        When the scenario's start node is not one of its nodes.
    """

    def __init__(self, scenario: Scenario, clock: Callable[[], datetime] | None = None):
        if scenario.start not in scenario.nodes:
            raise ValueError(f"scenario {scenario.id!r}: start node {scenario.start!r} is not one of its nodes")
        self.scenario = scenario
        self._clock = clock or _now
        self.started_at = self._clock()
        self.node_id = scenario.start
        self._path: list[Step] = []
        self._feedback: list[Feedback] = []
        self._spans = _remaining(scenario)

    # ------------------------------------------------------------------ state
    @property
    def node(self) -> Node:
        return self.scenario.nodes[self.node_id]

    @property
    def text(self) -> str:
        """The situation at the current node (the ending text once done)."""
        return self.node.text

    @property
    def choices(self) -> tuple[Choice, ...]:
        """The options at the current node; empty once the run is done."""
        return self.node.choices

    @property
    def done(self) -> bool:
        return self.node.ending

    @property
    def path(self) -> tuple[Step, ...]:
        return tuple(self._path)

    @property
    def feedback(self) -> tuple[Feedback, ...]:
        return tuple(self._feedback)

    @property
    def finished_at(self) -> datetime | None:
        return self._path[-1].at if self.done and self._path else None

    @property
    def steps_taken(self) -> int:
        return len(self._path)

    @property
    def remaining(self) -> tuple[int, int]:
        """Fewest and most decisions still ahead on any path from the current node."""
        return self._spans[self.node_id]

    @property
    def progress(self) -> float:
        """Share of the run completed, counting the shortest way to an ending: 0.0 .. 1.0."""
        if self.done:
            return 1.0
        fewest = self.remaining[0]
        return self.steps_taken / (self.steps_taken + fewest)

    # --------------------------------------------------------------- actions
    def choice_for(self, selection: int | str) -> Choice:
        """The choice named by a 1-based number or by its id at the current node.

        Raises
        ------
        ValueError
            When the run is done or ``selection`` names no choice here; the message lists the
            valid numbers and ids.
        """
        if self.done:
            raise ValueError(f"scenario {self.scenario.id!r} is finished (ending {self.node_id!r}); no more choices")
        opts = self.choices
        valid = f"valid choices are 1..{len(opts)} or ids {', '.join(repr(c.id) for c in opts)}"
        if isinstance(selection, bool):
            raise ValueError(f"choice {selection!r} is not a number or an id; {valid}")
        if isinstance(selection, int):
            if 1 <= selection <= len(opts):
                return opts[selection - 1]
            raise ValueError(f"no choice number {selection} at node {self.node_id!r}; {valid}")
        if isinstance(selection, str):
            key = selection.strip()
            for c in opts:
                if c.id == key:
                    return c
            if key.isdigit():
                return self.choice_for(int(key))
            raise ValueError(f"no choice {selection!r} at node {self.node_id!r}; {valid}")
        raise ValueError(f"choice {selection!r} is not a number or an id; {valid}")

    def choose(self, selection: int | str, at: datetime | None = None) -> Feedback:
        """Take a choice (1-based number or id) and move on; returns the feedback to show."""
        choice = self.choice_for(selection)
        when = at or self._clock()
        step = Step(self.node_id, choice.id, when)
        fb = Feedback(
            step=len(self._path), node_id=self.node_id, choice_id=choice.id, choice_text=choice.text,
            feedback=choice.feedback, behavior=choice.behavior,
            quality=MappingProxyType(dict(choice.quality)), next_node=choice.next,
            ended=self.scenario.nodes[choice.next].ending,
        )
        self._path.append(step)
        self._feedback.append(fb)
        self.node_id = choice.next
        return fb

    def chosen(self) -> list[Choice]:
        """The :class:`Choice` objects taken so far, in order."""
        return [next(c for c in self.scenario.nodes[s.node_id].choices if c.id == s.choice_id) for s in self._path]

    # --------------------------------------------------------------- results
    def debrief(self) -> Debrief:
        """Behaviors shown (strong and weak), what would have worked at each weaker choice, the ending.

        Raises
        ------
        ValueError
            When the run has not reached an ending yet.
        """
        if not self.done:
            raise ValueError(
                f"scenario {self.scenario.id!r} is not finished: still at node {self.node_id!r} "
                f"after {self.steps_taken} choices"
            )
        shown = [BehaviorShown(f.behavior, f.node_id, f.choice_id, f.quality) for f in self._feedback]
        levels: dict[str, list[int]] = {}
        for f in self._feedback:
            for comp, q in f.quality.items():
                levels.setdefault(comp, []).append(q)
        missteps = tuple(
            Misstep(s.node_id, c.id, c.text, c.behavior, c.instead or "", c.modules)
            for s, c in zip(self._path, self.chosen(), strict=True) if not c.strong
        )
        taken = {(s.node_id, s.choice_id) for s in self._path}
        epilogues = tuple(e.text for e in self.node.epilogues if e.applies(taken))
        return Debrief(
            scenario_id=self.scenario.id, title=self.scenario.title, ending_id=self.node_id,
            ending_text="\n\n".join((self.node.text, *epilogues)),
            strong=tuple(b for b in shown if b.mean_quality >= STRONG_THRESHOLD),
            weak=tuple(b for b in shown if b.mean_quality < STRONG_THRESHOLD),
            lessons=tuple(m.instead for m in missteps if m.instead),
            quality=MappingProxyType({c: sum(v) / len(v) for c, v in levels.items()}),
            missteps=missteps, epilogues=epilogues,
        )

    def shuffled(self, seed: int | str | None = None) -> tuple[Choice, ...]:
        """The options at the current node in an order that depends on ``seed`` and the node.

        The same seed gives the same order at the same node (a page re-render does not move
        the buttons); a new attempt takes a new seed. Take the choice by its id, never by
        its position in this order.
        """
        opts = list(self.choices)
        random.Random(f"{seed}|{self.scenario.id}|{self.node_id}").shuffle(opts)
        return tuple(opts)

    @classmethod
    def replay(
        cls,
        scenario: Scenario,
        steps: Iterable[Step | tuple[str, str, datetime]],
        clock: Callable[[], datetime] | None = None,
    ) -> ScenarioRun:
        """Rebuild a run from stored steps ``(node_id, choice_id, at)``.

        Raises
        ------
        ValueError
            When a step's node is not where the run stands (the steps do not form a path of
            this scenario) or its choice does not exist there.
        """
        run = cls(scenario, clock=clock)
        for i, raw in enumerate(steps):
            s = raw if isinstance(raw, Step) else Step(*raw)
            if s.node_id != run.node_id:
                raise ValueError(
                    f"step {i}: expected a choice at node {run.node_id!r} of scenario {scenario.id!r}, got {s.node_id!r}"
                )
            run.choose(s.choice_id, at=s.at)
        if run._path:
            run.started_at = min(run.started_at, run._path[0].at)
        return run


# ---------------------------------------------------------------------- graph helpers
def enumerate_paths(scenario: Scenario, limit: int = 100_000) -> list[tuple[tuple[str, str], ...]]:
    """Every path from the start to an ending as ``((node_id, choice_id), ...)``.

    Raises
    ------
    ValueError
        When a path revisits a node (a cycle), reaches a node without choices that is not an
        ending, links to an unknown node, or there are more than ``limit`` paths.
    """
    nodes = scenario.nodes
    out: list[tuple[tuple[str, str], ...]] = []

    def walk(nid: str, trail: tuple[tuple[str, str], ...], seen: frozenset[str]) -> None:
        if nid not in nodes:
            raise ValueError(f"scenario {scenario.id!r}: link to unknown node {nid!r} after {trail}")
        node = nodes[nid]
        if node.ending:
            out.append(trail)
            if len(out) > limit:
                raise ValueError(f"scenario {scenario.id!r} has more than {limit} paths")
            return
        if not node.choices:
            raise ValueError(f"scenario {scenario.id!r}: node {nid!r} is neither an ending nor has choices")
        for c in node.choices:
            if c.next in seen:
                raise ValueError(f"scenario {scenario.id!r}: cycle back to {c.next!r} via {nid!r}/{c.id!r}")
            walk(c.next, (*trail, (nid, c.id)), seen | {c.next})

    walk(scenario.start, (), frozenset({scenario.start}))
    return out


def _remaining(scenario: Scenario) -> dict[str, tuple[int, int]]:
    """For each node, the fewest and most decisions to an ending (acyclic graphs)."""
    memo: dict[str, tuple[int, int]] = {}

    def visit(nid: str, stack: frozenset[str]) -> tuple[int, int]:
        if nid in memo:
            return memo[nid]
        node = scenario.nodes[nid]
        if node.ending:
            memo[nid] = (0, 0)
            return memo[nid]
        spans = [visit(c.next, stack | {nid}) for c in node.choices if c.next not in stack | {nid}]
        if not spans:  # only cycles ahead: the content check rejects this, be defensive
            memo[nid] = (1, 1)
            return memo[nid]
        memo[nid] = (1 + min(s[0] for s in spans), 1 + max(s[1] for s in spans))
        return memo[nid]

    for nid in scenario.nodes:
        visit(nid, frozenset())
    return memo
