"""Recording practice in the store: scenario runs that feed the skill model, and coaching
conversations with the commitments they end in. The edge between ``workbench.practice``
(pure) and ``workbench.store``.

Only a leader's first finished run of a scenario moves their skill estimates; a replay is
stored and debriefed but counts with :data:`~workbench.practice.evidence.REPLAY_WEIGHT` (0),
so replaying a scenario cannot farm the estimate (the rule and its reasons are in
:mod:`workbench.practice.evidence`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import numpy as np
from sqlalchemy import Engine

from ..content import Library
from ..practice import (
    CoachContext,
    CoachSession,
    Commitment,
    Debrief,
    EstimateChange,
    ScenarioRun,
    Turn,
    apply_run,
    posterior_from_estimates,
)
from ..practice.evidence import evidence_weight
from ..skills import need as need_model
from ..store import models as m
from ..store import practice_repo, repo
from ..store.db import transaction
from ..store.xapi import make_statement, to_event


@dataclass(frozen=True)
class ScenarioResult:
    run_id: str
    path: tuple[tuple[str, str], ...]  # (node id, choice id)
    debrief: Debrief
    estimates: dict[str, EstimateChange]
    #: how much the run counted as evidence: 1 for the leader's first run of the scenario, else 0
    weight: float = 1.0

    @property
    def counted(self) -> bool:
        return self.weight > 0


def development_areas(engine: Engine, library: Library, leader_id: str) -> tuple[str, ...]:
    """The leader's development areas (:mod:`workbench.skills.need`), largest need first."""
    leader = repo.get_leader(engine, leader_id)
    est = repo.latest_estimates(engine, leader_id)
    if est.empty:
        return ()
    exp = (library.organization.expectations.get(leader.role_level, {}) if library.organization else {})
    skills = {r.competency: (float(r.mean), float(r.sd)) for r in est.itertuples()}
    return need_model.development_areas(skills, exp)


def play_scenario(engine: Engine, library: Library, leader_id: str, scenario_id: str,
                  choices: list[str | int], now: datetime | None = None) -> ScenarioResult:
    """Play a scenario with the given choices (1-based numbers or ids), store the run, its
    activity event and the updated skill estimates; return path, debrief and estimate changes."""
    if scenario_id not in library.scenarios:
        raise ValueError(f"unknown scenario {scenario_id!r}; expected one of {', '.join(library.scenarios)}")
    repo.get_leader(engine, leader_id)
    scenario = library.scenarios[scenario_id]
    start = now or datetime.now(UTC)
    run = ScenarioRun(scenario, clock=lambda: start)
    for i, c in enumerate(choices, 1):
        if run.done:
            raise ValueError(f"the scenario ended after {i - 1} choice(s); {len(choices)} were given")
        try:
            run.choose(c)
        except ValueError as exc:
            raise ValueError(f"choice {i} ({c!r}): {exc}") from None
    if not run.done:
        raise ValueError(f"the scenario needs more choices: it stopped at node {run.node_id!r} after {len(choices)}")
    return save_run(engine, library, leader_id, run, started=start)


def current_posterior(engine: Engine, library: Library, leader_id: str):
    """The leader's skill posterior rebuilt from their latest estimates (a prior of N(0, 1) where none)."""
    est = repo.latest_estimates(engine, leader_id)
    return posterior_from_estimates(library.competency_ids,
                                    {r.competency: (float(r.mean), float(r.sd)) for r in est.itertuples()})


def save_run(engine: Engine, library: Library, leader_id: str, run: ScenarioRun,
             started: datetime | None = None) -> ScenarioResult:
    """Store a finished run: its choices, one activity event and the updated skill estimates."""
    if not run.done:
        raise ValueError(f"the scenario run is not finished: it stopped at node {run.node_id!r}")
    scenario = run.scenario
    start = started or run.started_at
    finished = run.path[-1].at if run.path else start
    weight = evidence_weight(earlier_runs(engine, leader_id, scenario.id))
    posterior = current_posterior(engine, library, leader_id)
    changes = apply_run(posterior, run, weight=weight)
    debrief = run.debrief()
    run_id = uuid.uuid4().hex
    with transaction(engine) as s:
        s.add(m.ScenarioRun(id=run_id, leader_id=leader_id, scenario_id=scenario.id, started_at=start,
                            finished_at=finished, ending=debrief.ending_id,
                            choices=[m.ScenarioChoice(step=i, node_id=st.node_id, choice_id=st.choice_id, chosen_at=st.at)
                                     for i, st in enumerate(run.path)]))
        quality = float(np.mean(list(debrief.quality.values()))) / 3 if debrief.quality else None
        s.add(to_event(make_statement(leader_id, "completed", "scenario", scenario.id, finished, title=scenario.title,
                                      competency=scenario.competencies[0], score=quality, completion=True,
                                      duration=max((finished - start).total_seconds(), 0.0) or None,
                                      extensions={"urn:workbench:evidence-weight": weight})))
        if weight > 0:  # a replay leaves the estimates exactly as they were: no new rows
            for comp, ch in changes.items():
                s.add(m.SkillEstimate(leader_id=leader_id, competency=comp, mean=ch.after_mean, sd=ch.after_sd,
                                      source="all", estimated_at=finished))
    return ScenarioResult(run_id, tuple((st.node_id, st.choice_id) for st in run.path), debrief, changes, weight)


def earlier_runs(engine: Engine, leader_id: str, scenario_id: str) -> int:
    """How many finished runs of ``scenario_id`` the leader has stored (0 before their first play)."""
    return practice_repo.finished_runs(engine, leader_id, scenario_id)


def coach_session(engine: Engine, library: Library, leader_id: str, moment: str | None = None, **kw) -> CoachSession:
    """A coaching conversation that knows the leader's development areas and moment."""
    leader = repo.get_leader(engine, leader_id)
    ctx = CoachContext(leader_id=leader_id, name=leader.name.split()[0], moment=moment, role_level=leader.role_level,
                       development_areas=development_areas(engine, library, leader_id))
    return CoachSession(library, ctx, **kw)


def save_turns(engine: Engine, leader_id: str, conversation_id: str, turns: list[Turn] | tuple[Turn, ...]) -> None:
    with transaction(engine) as s:
        for t in turns:
            s.add(m.ChatTurn(leader_id=leader_id, conversation_id=conversation_id, speaker=t.speaker, text=t.text,
                             stage=t.stage, created_at=t.at))


def save_commitment(engine: Engine, leader_id: str, conversation_id: str, c: Commitment) -> str:
    cid = uuid.uuid4().hex
    due = datetime.combine(c.due, time(17, 0), tzinfo=UTC) if isinstance(c.due, date) else None
    with transaction(engine) as s:
        s.add(m.Commitment(id=cid, leader_id=leader_id, conversation_id=conversation_id, text=c.text,
                           competency=c.competency, goal=c.goal, due=due))
    return cid


def conversation(engine: Engine, leader_id: str, conversation_id: str) -> list[tuple[str, str]]:
    """A stored conversation's turns (speaker, text), only if it belongs to this leader."""
    return practice_repo.conversation_turns(engine, leader_id, conversation_id)
