"""Prototyping learning paths: validate one against the library, preview it, find content gaps.

An L&D designer drafts a *learning path* for a :class:`Persona` (a role level, the
competencies the path focuses on, a weekly time budget): an ordered list of module and
scenario ids. :func:`validate_path` checks it against the library and paces it:

* every id must name a module or a scenario (``module:ID`` or ``scenario:ID`` settle an id
  that names both); unknown ids are named, with the closest known ids as suggestions;
* an id may appear once;
* every prerequisite of a module must come earlier in the path, or be listed as already
  completed (``assumed_completed``);
* warnings: modules written for another level than the persona's, focus competencies no step
  works on, steps that work on none of them, steps longer than the weekly budget;
* pacing: steps go into weeks in order, a new week starting when the next step would exceed
  the weekly budget (a step longer than the budget gets a week of its own).

Modules take their stated minutes. A scenario takes :data:`SCENARIO_BASE_MINUTES` plus
:data:`SCENARIO_MINUTES_PER_DECISION` for each decision on its longest path to an ending.

:func:`preview_recommendations` shows, next to the path, what the recommender would give a
few example leaders (:func:`example_leaders` picks them from real contexts), and
:func:`content_gaps` lists the competency x level (and format) cells of the library with too
few modules, drawn as a heatmap by :func:`workbench.recommend.figures.content_gap_figure`.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from workbench.content import Library
from workbench.content.schema import Scenario

from .catalog import ContextBatch, catalog_for
from .context import FORMATS, ROLE_LEVELS, LeaderContext
from .effectiveness import EffectivenessModel
from .engine import recommend

__all__ = [
    "SCENARIO_BASE_MINUTES", "SCENARIO_MINUTES_PER_DECISION", "PathIssue", "PathReport", "PathStep", "Persona",
    "content_gaps", "example_leaders", "preview_recommendations",
    "scenario_minutes", "side_by_side", "validate_path",
]

#: Estimated minutes of a scenario: reading in and the debrief ...
SCENARIO_BASE_MINUTES = 5
#: ... plus this many per decision on its longest path.
SCENARIO_MINUTES_PER_DECISION = 2

Kind = Literal["module", "scenario"]
Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Persona:
    """Who a learning path is for.

    Parameters
    ----------
    role_level
        ``"first-time"``, ``"experienced"`` or ``"senior"``.
    focus
        The competency ids the path develops (at least one).
    weekly_minutes
        The learning time per week the path is paced for.
    name
        A label for tables and figures.
    """

    role_level: str
    focus: tuple[str, ...]
    weekly_minutes: float = 60.0
    name: str = ""

    def __post_init__(self) -> None:
        if self.role_level not in ROLE_LEVELS:
            raise ValueError(f"role_level must be one of {ROLE_LEVELS}, got {self.role_level!r}")
        if isinstance(self.focus, str):
            object.__setattr__(self, "focus", (self.focus,))
        focus = tuple(dict.fromkeys(self.focus))
        if not focus or not all(isinstance(c, str) and c for c in focus):
            raise ValueError(f"focus must name at least one competency id, got {self.focus!r}")
        object.__setattr__(self, "focus", focus)
        w = self.weekly_minutes
        if isinstance(w, bool) or not isinstance(w, int | float) or not math.isfinite(w) or w <= 0:
            raise ValueError(f"weekly_minutes must be a number > 0, got {w!r}")
        object.__setattr__(self, "weekly_minutes", float(w))
        if not self.name:
            object.__setattr__(self, "name", f"{self.role_level} leader: {', '.join(focus)}")

    def check(self, library: Library) -> None:
        """A ValueError naming any focus competency the library does not know."""
        unknown = [c for c in self.focus if c not in library.competencies]
        if unknown:
            raise ValueError(f"persona focus names unknown competencies {unknown}; "
                             f"known: {', '.join(library.competencies)}")


@dataclass(frozen=True)
class PathStep:
    """One resolved step of a path, with the week the pacing put it in (1-based)."""

    position: int  # 1-based position in the path as written
    kind: Kind
    id: str
    title: str
    minutes: int
    competencies: tuple[str, ...]
    level: str | None  # modules only
    format: str | None  # modules only
    week: int


@dataclass(frozen=True)
class PathIssue:
    """A problem with a path: ``error`` makes it invalid, ``warning`` is advice."""

    severity: Severity
    code: str
    position: int | None  # 1-based step, None for the whole path
    id: str | None
    message: str


@dataclass(frozen=True)
class PathReport:
    """A validated, paced learning path (:func:`validate_path`)."""

    persona: Persona
    steps: tuple[PathStep, ...]
    issues: tuple[PathIssue, ...]
    weekly_minutes: float
    assumed_completed: frozenset[str] = field(default_factory=frozenset)

    @property
    def ok(self) -> bool:
        """True when the path has no errors (warnings allowed)."""
        return not any(i.severity == "error" for i in self.issues)

    @property
    def errors(self) -> tuple[PathIssue, ...]:
        return tuple(i for i in self.issues if i.severity == "error")

    @property
    def warnings(self) -> tuple[PathIssue, ...]:
        return tuple(i for i in self.issues if i.severity == "warning")

    @property
    def unknown_ids(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.issues if i.code == "unknown-id" and i.id is not None)

    @property
    def total_minutes(self) -> int:
        return sum(s.minutes for s in self.steps)

    @property
    def n_weeks(self) -> int:
        return max((s.week for s in self.steps), default=0)

    @property
    def module_ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.steps if s.kind == "module")

    def week_minutes(self) -> pd.Series:
        """Minutes per week (index 1..n_weeks)."""
        weeks = pd.Series([s.minutes for s in self.steps], index=[s.week for s in self.steps], dtype=float)
        out = weeks.groupby(level=0).sum().reindex(range(1, self.n_weeks + 1), fill_value=0.0)
        out.index.name, out.name = "week", "minutes"
        return out

    def table(self) -> pd.DataFrame:
        """The steps as a frame, one row per step."""
        cols = ["position", "week", "kind", "id", "title", "minutes", "competencies", "level", "format", "focus"]
        rows = [{"position": s.position, "week": s.week, "kind": s.kind, "id": s.id, "title": s.title,
                 "minutes": s.minutes, "competencies": ", ".join(s.competencies), "level": s.level,
                 "format": s.format, "focus": bool(set(s.competencies) & set(self.persona.focus))}
                for s in self.steps]
        return pd.DataFrame(rows, columns=cols)

    def issues_table(self) -> pd.DataFrame:
        """The issues as a frame, errors first, then by position."""
        cols = ["severity", "code", "position", "id", "message"]
        rows = sorted(self.issues, key=lambda i: (i.severity != "error", i.position or 0))
        table = pd.DataFrame([{c: getattr(i, c) for c in cols} for i in rows], columns=cols)
        table["position"] = table["position"].astype("Int64")
        return table

    def summary(self) -> dict[str, object]:
        return {"persona": self.persona.name, "steps": len(self.steps), "total_minutes": self.total_minutes,
                "weekly_minutes": self.weekly_minutes, "weeks": self.n_weeks, "errors": len(self.errors),
                "warnings": len(self.warnings), "ok": self.ok}


# ------------------------------------------------------------------------------ scenarios
def scenario_minutes(scenario: Scenario) -> int:
    """Estimated minutes: :data:`SCENARIO_BASE_MINUTES` + :data:`SCENARIO_MINUTES_PER_DECISION`
    per decision on the longest path from the start to an ending (a cycle is not followed)."""
    memo: dict[str, int] = {}

    def longest(node_id: str, seen: frozenset[str]) -> int:
        if node_id in memo:
            return memo[node_id]
        node = scenario.nodes.get(node_id)
        if node is None or node.ending or node_id in seen:
            return 0
        best = 1 + max((longest(c.next, seen | {node_id}) for c in node.choices), default=0)
        memo[node_id] = best
        return best

    return SCENARIO_BASE_MINUTES + SCENARIO_MINUTES_PER_DECISION * longest(scenario.start, frozenset())


# ---------------------------------------------------------------------------- validation
def _resolve(library: Library, raw: object, position: int) -> tuple[Kind | None, str, PathIssue | None]:
    if not isinstance(raw, str) or not raw.strip():
        return None, str(raw), PathIssue("error", "bad-step", position, None,
                                         f"step {position} must be a module or scenario id, got {raw!r}")
    text = raw.strip()
    kind, _, ident = text.partition(":") if ":" in text else ("", "", text)
    if kind and kind not in ("module", "scenario"):
        return None, text, PathIssue("error", "bad-step", position, text,
                                     f"step {position}: {text!r} must be ID, module:ID or scenario:ID")
    in_modules, in_scenarios = ident in library.modules, ident in library.scenarios
    if kind == "module" and in_modules or kind == "" and in_modules and not in_scenarios:
        return "module", ident, None
    if kind == "scenario" and in_scenarios or kind == "" and in_scenarios and not in_modules:
        return "scenario", ident, None
    if kind == "" and in_modules and in_scenarios:
        return None, ident, PathIssue("error", "ambiguous-id", position, ident,
                                      f"step {position}: {ident!r} names both a module and a scenario; "
                                      f"write module:{ident} or scenario:{ident}")
    pool = (list(library.modules) if kind != "scenario" else []) + (list(library.scenarios) if kind != "module" else [])
    close = difflib.get_close_matches(ident, pool, n=3, cutoff=0.6)
    what = {"module": "module", "scenario": "scenario"}.get(kind, "module or scenario")
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return None, ident, PathIssue("error", "unknown-id", position, ident,
                                  f"step {position}: {ident!r} is not a {what} in the library{hint}")


def validate_path(
    library: Library,
    persona: Persona,
    path: Sequence[str],
    *,
    weekly_minutes: float | None = None,
    assumed_completed: Iterable[str] = (),
) -> PathReport:
    """Check a draft path against the library and pace it into weeks (module docstring).

    Parameters
    ----------
    library
        The content library.
    persona
        Who the path is for; its focus competencies must be in the library (ValueError).
    path
        Module and scenario ids in order (``module:ID`` / ``scenario:ID`` when needed).
    weekly_minutes
        Pacing budget (default the persona's).
    assumed_completed
        Module ids the persona has already completed (they satisfy prerequisites).

    Returns
    -------
    PathReport
        The resolved steps with their weeks, and every issue found. Invalid steps are left
        out of the steps but named in the issues.
    """
    if not isinstance(persona, Persona):
        raise ValueError(f"persona must be a Persona, got {type(persona).__name__}")
    persona.check(library)
    if isinstance(path, str):
        raise ValueError("path must be a list of ids, not one string")
    budget = persona.weekly_minutes if weekly_minutes is None else weekly_minutes
    if isinstance(budget, bool) or not isinstance(budget, int | float) or not math.isfinite(budget) or budget <= 0:
        raise ValueError(f"weekly_minutes must be a number > 0, got {budget!r}")
    if isinstance(assumed_completed, str):
        raise ValueError("assumed_completed must be a collection of module ids, not one string")
    assumed = frozenset(assumed_completed)
    unknown_assumed = sorted(assumed - set(library.modules))
    issues: list[PathIssue] = []
    if unknown_assumed:
        issues.append(PathIssue("error", "unknown-id", None, unknown_assumed[0],
                                f"assumed_completed names unknown modules {unknown_assumed}"))
    if not path:
        issues.append(PathIssue("error", "empty-path", None, None, "the path has no steps"))

    resolved: list[tuple[int, Kind, str]] = []
    first_at: dict[tuple[str, str], int] = {}
    for pos, raw in enumerate(path, start=1):
        kind, ident, problem = _resolve(library, raw, pos)
        if problem is not None:
            issues.append(problem)
            continue
        assert kind is not None
        if (kind, ident) in first_at:
            issues.append(PathIssue("error", "duplicate", pos, ident,
                                    f"step {pos}: {kind} {ident!r} is already step {first_at[kind, ident]}"))
            continue
        first_at[kind, ident] = pos
        resolved.append((pos, kind, ident))

    module_pos = {ident: pos for (kind, ident), pos in first_at.items() if kind == "module"}
    focus = set(persona.focus)
    covered: set[str] = set()
    drafts = []
    for pos, kind, ident in resolved:
        if kind == "module":
            mod = library.modules[ident]
            minutes, comps, level, fmt, title = mod.minutes, tuple(mod.competencies), mod.level, mod.format, mod.title
            for pre in mod.prerequisites:
                if pre in assumed:
                    continue
                where = module_pos.get(pre)
                if where is None:
                    issues.append(PathIssue("error", "prerequisite-missing", pos, ident,
                                            f"step {pos}: {ident!r} needs {pre!r}, which is not in the path; "
                                            f"add it before step {pos} or list it in assumed_completed"))
                elif where > pos:
                    issues.append(PathIssue("error", "prerequisite-order", pos, ident,
                                            f"step {pos}: {ident!r} needs {pre!r}, which comes later (step {where}); "
                                            f"move {pre!r} before step {pos}"))
            if level != persona.role_level:
                issues.append(PathIssue("warning", "level-mismatch", pos, ident,
                                        f"step {pos}: {ident!r} is written for {level} leaders, the persona is "
                                        f"{persona.role_level}"))
        else:
            sc = library.scenarios[ident]
            minutes, comps, level, fmt, title = scenario_minutes(sc), tuple(sc.competencies), None, None, sc.title
        if not focus & set(comps):
            issues.append(PathIssue("warning", "off-focus", pos, ident,
                                    f"step {pos}: {ident!r} works on {', '.join(comps)}, none of the focus "
                                    f"competencies ({', '.join(persona.focus)})"))
        if minutes > budget:
            issues.append(PathIssue("warning", "over-budget-step", pos, ident,
                                    f"step {pos}: {ident!r} takes {minutes} min, more than the weekly budget of "
                                    f"{budget:g} min; it gets a week of its own"))
        covered |= set(comps)
        drafts.append((pos, kind, ident, title, int(minutes), comps, level, fmt))

    for c in persona.focus:
        if c not in covered:
            issues.append(PathIssue("warning", "focus-uncovered", None, c,
                                    f"no step works on the focus competency {c!r}"))

    steps, week, used = [], 1, 0.0
    for pos, kind, ident, title, minutes, comps, level, fmt in drafts:
        if used > 0 and used + minutes > budget + 1e-9:
            week, used = week + 1, 0.0
        steps.append(PathStep(pos, kind, ident, title, minutes, comps, level, fmt, week))
        used += minutes
    return PathReport(persona, tuple(steps), tuple(issues), float(budget), assumed)


# -------------------------------------------------------------------------------- preview
def example_leaders(contexts: Sequence[LeaderContext], library: Library, persona: Persona,
                    n: int = 3) -> list[LeaderContext]:
    """``n`` leaders of the persona's role level spread over how much they need its focus.

    Leaders are ranked by their mean development need in the focus competencies; the picks
    are evenly spaced over that ranking from the neediest to the least needy (ties by leader
    id), so the preview shows a strong fit, a typical one and a weak one.
    """
    persona.check(library)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n!r}")
    pool = [c for c in contexts if c.role_level == persona.role_level]
    if len(pool) < n:
        raise ValueError(f"only {len(pool)} of the contexts are {persona.role_level} leaders; {n} were asked for")
    cat = catalog_for(library)
    batch = ContextBatch.from_contexts(pool, cat)
    cols = [cat.competency_index[c] for c in persona.focus]
    need = batch.need[:, cols].mean(axis=1)
    order = sorted(range(len(pool)), key=lambda i: (-need[i], pool[i].leader_id))
    picks = np.unique(np.round(np.linspace(0, len(pool) - 1, n)).astype(int))
    return [pool[order[i]] for i in picks]


def preview_recommendations(
    library: Library,
    report: PathReport,
    contexts: Sequence[LeaderContext],
    strategy: str = "priority",
    *,
    k: int = 3,
    seed: int = 0,
    popularity: Mapping[str, float] | None = None,
    effectiveness: EffectivenessModel | None = None,
) -> pd.DataFrame:
    """What :func:`~workbench.recommend.recommend` would give each leader, next to the path.

    Returns
    -------
    pandas.DataFrame
        One row per recommendation: ``leader_id``, ``role_level``, ``focus_need`` (the leader's
        mean development need in the persona's focus competencies), ``rank``, ``module_id``,
        ``title``, ``competency``, ``minutes``, ``in_path``, ``path_position`` (None when not in
        the path), ``reason``. A leader with no recommendation gets one row with rank 0.
    """
    if not contexts:
        raise ValueError("no example leaders: give at least one LeaderContext")
    cat = catalog_for(library)
    batch = ContextBatch.from_contexts(list(contexts), cat)
    cols = [cat.competency_index[c] for c in report.persona.focus]
    focus_need = batch.need[:, cols].mean(axis=1)
    where = {s.id: s.position for s in report.steps if s.kind == "module"}
    rows = []
    for i, ctx in enumerate(contexts):
        recs = recommend(ctx, library, strategy, k=k, rng=np.random.default_rng([seed, i]), popularity=popularity,
                         effectiveness=effectiveness)
        base = {"leader_id": ctx.leader_id, "role_level": ctx.role_level, "focus_need": float(focus_need[i])}
        if not recs:
            rows.append(base | {"rank": 0, "module_id": None, "title": None, "competency": None, "minutes": 0,
                                "in_path": False, "path_position": None,
                                "reason": "Nothing fits this leader's budget and open recommendations."})
        for r in recs:
            rows.append(base | {"rank": r.rank, "module_id": r.module_id, "title": r.title, "competency": r.competency,
                                "minutes": r.minutes, "in_path": r.module_id in where,
                                "path_position": where.get(r.module_id), "reason": r.reason})
    table = pd.DataFrame(rows)
    table["path_position"] = table["path_position"].astype("Int64")
    table.attrs["strategy"] = strategy
    return table


def side_by_side(report: PathReport, preview: pd.DataFrame) -> pd.DataFrame:
    """The path's steps (in order) and then the recommended modules outside it, as rows; one
    column per leader with the rank the recommender gave the module (``#1``) or blank."""
    leaders = list(dict.fromkeys(preview["leader_id"]))
    recs = preview[preview["rank"] > 0]
    rank = {(r.leader_id, r.module_id): int(r.rank) for r in recs.itertuples()}
    rows = []
    for s in report.steps:
        rows.append({"step": str(s.position), "id": s.id, "title": s.title}
                    | {lid: f"#{rank[lid, s.id]}" if (lid, s.id) in rank else "" for lid in leaders})
    extra = [m for m in dict.fromkeys(recs["module_id"]) if m not in {s.id for s in report.steps}]
    titles = dict(zip(recs["module_id"], recs["title"], strict=True))
    for m in extra:
        rows.append({"step": "not in path", "id": m, "title": titles[m]}
                    | {lid: f"#{rank[lid, m]}" if (lid, m) in rank else "" for lid in leaders})
    return pd.DataFrame(rows, columns=["step", "id", "title", *leaders])


# ----------------------------------------------------------------------------- content gaps
_DIMENSIONS = {"level": ROLE_LEVELS, "format": FORMATS}


def content_gaps(
    library: Library,
    threshold: int = 2,
    by: Sequence[str] = ("level",),
    *,
    count: Literal["primary", "any"] = "primary",
) -> pd.DataFrame:
    """Every competency x ``by`` cell of the library with its module count, and whether it has
    fewer than ``threshold`` modules.

    Parameters
    ----------
    threshold
        A cell with fewer modules than this is a gap (``threshold >= 1``).
    by
        ``("level",)``, ``("format",)`` or ``("level", "format")``.
    count
        ``"primary"``: a module counts for its primary competency only; ``"any"``: for each
        of its competencies.

    Returns
    -------
    pandas.DataFrame
        Columns ``competency``, the ``by`` columns, ``n_modules``, ``modules`` (ids, comma
        separated), ``gap`` (n_modules < threshold) and ``missing`` (modules to add to reach
        the threshold); every combination is a row, empty ones included, in framework order.
    """
    if isinstance(threshold, bool) or not isinstance(threshold, int | np.integer) or threshold < 1:
        raise ValueError(f"threshold must be an integer >= 1, got {threshold!r}")
    by = (by,) if isinstance(by, str) else tuple(by)
    if not by or len(set(by)) != len(by) or any(b not in _DIMENSIONS for b in by):
        raise ValueError(f"by must name one or both of {tuple(_DIMENSIONS)} once each, got {by!r}")
    if count not in ("primary", "any"):
        raise ValueError(f"count must be 'primary' or 'any', got {count!r}")
    cells: dict[tuple[str, ...], list[str]] = {}
    for mod in library.modules.values():
        comps = mod.competencies[:1] if count == "primary" else mod.competencies
        for c in comps:
            key = (c, *(getattr(mod, b) for b in by))
            cells.setdefault(key, []).append(mod.id)
    rows = []
    grids = [tuple(library.competencies)] + [_DIMENSIONS[b] for b in by]
    for key in _product(grids):
        mods = cells.get(key, [])
        rows.append(dict(zip(("competency", *by), key, strict=True))
                    | {"n_modules": len(mods), "modules": ", ".join(mods), "gap": len(mods) < threshold,
                       "missing": max(threshold - len(mods), 0)})
    table = pd.DataFrame(rows)
    table.attrs.update(threshold=int(threshold), by=by, count=count)
    return table


def _product(grids: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = [()]
    for g in grids:
        out = [o + (v,) for o in out for v in g]
    return out
