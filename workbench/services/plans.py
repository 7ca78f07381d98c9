"""A leader's learning plan, at the edge between the store and the recommendation engine.

Builds a :class:`~workbench.recommend.LeaderContext` from what the store knows about a
leader (latest skill estimates, completions, this week's minutes, the active plan), serves
recommendations through :func:`workbench.recommend.recommend`, and logs every one served
(strategy, score, reason, propensity and the context it was chosen in) so that strategies
can later be compared off-policy.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from ..content import Library
from ..recommend import (
    EngineOptions,
    LeaderContext,
    MomentPack,
    Recommendation,
    moment_pack,
    recommend,
)
from ..recommend.engine import ModuleChoice
from ..recommend.strategies import STRATEGIES
from ..store import models as m
from ..store import repo
from ..store.db import Bind, joined, transaction

#: What the store supplies for a strategy's outside data (:attr:`~workbench.recommend.Strategy.needs`),
#: read in the serving transaction. A need not listed here is left to the strategy's default
#: (``thompson`` without a stored effectiveness posterior uses its prior).
STORE_DATA: dict[str, Callable[[Session], object]] = {
    "popularity": lambda s: repo.module_popularity(s),
}


@dataclass(frozen=True)
class PlanItem(ModuleChoice):
    """One open recommendation as a leader sees it: the fields of
    :class:`~workbench.recommend.engine.ModuleChoice`, then its ``status`` (active or started)."""

    status: str


def leader_context(engine: Bind, library: Library, leader_id: str, moment: str | None = None,
                   now: datetime | None = None) -> LeaderContext:
    """What the engine needs to know about one leader, read from the store in one transaction
    (or in the caller's, when ``engine`` is an open session)."""
    now = now or datetime.now(UTC)
    with joined(engine) as s:
        leader = repo.get_leader(s, leader_id)
        est = repo.latest_estimates(s, leader_id)
        active = repo.active_recommendations(s, leader_id)
        completed = repo.completed_modules(s, leader_id)
        used = repo.minutes_since(s, leader_id, now - timedelta(days=7))
        recent = repo.minutes_by_competency(s, leader_id)
    return LeaderContext(
        leader_id=leader.id,
        role_level=leader.role_level,
        first_time=leader.first_time,
        skill_mean=dict(zip(est.competency, est["mean"].astype(float), strict=True)),
        skill_sd=dict(zip(est.competency, est["sd"].astype(float), strict=True)),
        completed=frozenset(completed),
        active=frozenset(active.module_id),
        weekly_minutes=int(leader.weekly_minutes),
        minutes_used_this_week=used,
        moment=moment,
        recent_minutes=recent,
        function=leader.function,
    )


def serve(engine: Engine, library: Library, leader_id: str, strategy: str = "priority", moment: str | None = None,
          seed: int | None = None, log: bool = True, now: datetime | None = None,
          declined: frozenset[str] = frozenset(), options: EngineOptions | None = None) -> list[Recommendation]:
    """Recommend for one leader and log what was served (with the context the engine saw).

    ``declined``: modules the leader recently turned down; they are not served again. ``options``:
    the engine's settings (default :class:`~workbench.recommend.EngineOptions` ()).
    Returns the new recommendations.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; expected one of {', '.join(sorted(STRATEGIES))}")
    if moment is not None and moment not in library.moments:
        raise ValueError(f"unknown moment {moment!r}; see the moments in content/moments.yaml")
    kind = STRATEGIES[strategy]
    if kind.needs_moment and moment is None:
        raise ValueError(f"the {strategy} strategy needs a moment (--moment ID)")
    with transaction(engine) as s:  # one transaction: what the engine saw is what is logged
        ctx = leader_context(s, library, leader_id, moment=moment, now=now)
        if declined:
            ctx = replace(ctx, declined=frozenset(declined))
        data = {need: STORE_DATA[need](s) for need in kind.needs if need in STORE_DATA}
        recs = recommend(ctx, library, kind.build(**data), options, rng=seed)
        if log and recs:
            served_at = now or datetime.now(UTC)
            for r in recs:
                s.add(m.Recommendation(
                    id=uuid.uuid4().hex, leader_id=leader_id, module_id=r.module_id, strategy=r.strategy,
                    score=float(r.score), reason=r.reason, propensity=float(r.propensity), rank=r.rank,
                    status="active", served_at=served_at, context=ctx.to_dict(),
                ))
    return recs


def current_plan(engine: Engine, library: Library, leader_id: str) -> list[PlanItem]:
    """The leader's active and started recommendations, oldest first."""
    rows = repo.active_recommendations(engine, leader_id)
    out = []
    for r in rows.itertuples():
        mod = library.modules.get(r.module_id)
        out.append(PlanItem(r.module_id, mod.title if mod else r.module_id, mod.minutes if mod else 0,
                            mod.primary_competency if mod else "", r.reason, r.strategy, float(r.score),
                            float(r.propensity), r.status))
    return out


def pack_for(engine: Engine, library: Library, leader_id: str, moment: str) -> MomentPack:
    return moment_pack(leader_context(engine, library, leader_id, moment=moment), library, moment)
