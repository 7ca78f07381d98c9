"""Checks that need more than one file: links between content, scenario graphs, cycles."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .problems import Problem
from .schema import MAX_MODULE_MINUTES, STRONG_QUALITY, Scenario

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
