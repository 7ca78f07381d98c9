"""Queries on scenario runs and coaching conversations (the aggregates :mod:`workbench.services.practice`
writes; the assessment service replays the runs when it rescores).

Every function takes a :data:`~workbench.store.db.Bind`: an engine (a transaction of its own) or the
session of an open transaction (it joins it).
"""

from __future__ import annotations

from sqlalchemy import func, select

from .db import Bind, joined
from .models import ChatTurn, ScenarioChoice, ScenarioRun


def finished_run_choices(bind: Bind, leader_id: str) -> list[tuple]:
    """Every choice of the leader's finished scenario runs, runs oldest first and choices in order:
    ``(run_id, scenario_id, started_at, choice_id, chosen_at)``."""
    with joined(bind) as s:
        rows = s.execute(select(ScenarioRun.id, ScenarioRun.scenario_id, ScenarioRun.started_at,
                                ScenarioChoice.choice_id, ScenarioChoice.chosen_at)
                         .join(ScenarioChoice, ScenarioChoice.run_id == ScenarioRun.id)
                         .where(ScenarioRun.leader_id == leader_id, ScenarioRun.finished_at.is_not(None))
                         .order_by(ScenarioRun.started_at, ScenarioRun.id, ScenarioChoice.step)).all()
    return [tuple(r) for r in rows]


def finished_runs(bind: Bind, leader_id: str, scenario_id: str) -> int:
    """How many finished runs of a scenario the leader has stored."""
    with joined(bind) as s:
        return int(s.scalar(select(func.count()).select_from(ScenarioRun).where(
            ScenarioRun.leader_id == leader_id, ScenarioRun.scenario_id == scenario_id,
            ScenarioRun.finished_at.is_not(None))) or 0)


def conversation_turns(bind: Bind, leader_id: str, conversation_id: str) -> list[tuple[str, str]]:
    """A stored conversation's turns ``(speaker, text)`` in order, only if it belongs to this leader."""
    with joined(bind) as s:
        rows = s.execute(select(ChatTurn.speaker, ChatTurn.text).where(
            ChatTurn.leader_id == leader_id, ChatTurn.conversation_id == conversation_id).order_by(ChatTurn.id)).all()
    return [tuple(r) for r in rows]
