"""The demo organization: big enough, realistic, deterministic and idempotent."""

from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa

from workbench.demo import build_demo
from workbench.sim import demo_item_params
from workbench.store import connect, transaction
from workbench.store import models as m

from .conftest import AS_OF

VOLATILE = {"id"}  # autoincrement keys of high-volume tables


def dump(engine) -> dict[str, list[tuple]]:
    """Every row of every table, sorted, without surrogate integer keys."""
    out = {}
    with transaction(engine) as s:
        for name, table in m.Base.metadata.tables.items():
            cols = [c for c in table.columns if not (c.name in VOLATILE and isinstance(c.type, sa.Integer))]
            rows = s.execute(sa.select(*cols)).all()
            out[name] = sorted(tuple(repr(v) for v in r) for r in rows)
    return out


def test_size_and_mix(demo_engine):
    with transaction(demo_engine) as s:
        leaders = pd.read_sql(sa.select(m.Leader.id, m.Leader.cohort_id, m.Leader.first_time, m.Leader.role_level), s.connection())
        n_events = s.scalar(sa.select(sa.func.count()).select_from(m.ActivityEvent))
        roles = set(s.scalars(sa.select(m.AssessmentSession.rater_role).distinct()))
        statuses = set(s.scalars(sa.select(m.AssessmentSession.status).distinct()))
        weeks = s.execute(sa.select(sa.func.min(m.ActivityEvent.timestamp), sa.func.max(m.ActivityEvent.timestamp))).one()
    assert len(leaders) >= 300 and leaders.cohort_id.nunique() >= 12
    assert 0.2 < leaders.first_time.mean() < 0.8
    assert set(leaders.role_level) == {"first-time", "experienced", "senior"}
    assert roles == {"self", "manager", "peer", "direct_report"}
    assert statuses == {"draft", "submitted"}  # some self-assessments were left part-way
    assert n_events > 10 * len(leaders)
    assert (weeks[1] - weeks[0]).days >= 28


def test_responses_follow_the_item_bank(demo_engine, library):
    from workbench.store.repo import responses_frame

    r = responses_frame(demo_engine)
    assert set(r.item_id) <= set(library.items)
    unseen = r.value.isna()  # "not observed": raters only, a few percent
    assert r.value[~unseen].between(1, 5).all() and 0 < unseen.mean() < 0.05
    assert (r.rater_role[unseen] != "self").all()
    assert all(library.items[i].asks(role) for i, role in zip(r.item_id, r.rater_role, strict=True))
    r = r[~unseen]
    # self-ratings run high: the inflation the skill model has to correct for
    rev = r.item_id.map(lambda i: library.items[i].reverse)
    scored = np.where(rev, 6 - r.value, r.value)
    by_role = pd.Series(scored).groupby(r.rater_role.values).mean()
    assert by_role["self"] > by_role[["peer", "direct_report"]].mean() + 0.1


def test_estimates_track_the_generating_profiles(demo_engine):
    from workbench.store.repo import latest_estimates

    est = latest_estimates(demo_engine, "L0001")
    assert len(est) == 8 and est["sd"].between(0.05, 1.0).all()
    sources = {s: latest_estimates(demo_engine, "L0001", source=s) for s in ("self", "others")}
    assert (sources["others"]["sd"].values < sources["self"]["sd"].values).mean() > 0.5  # more raters, less doubt


def test_same_seed_same_database_and_rerun_is_idempotent(tmp_path, library, demo_db):
    a = connect(f"sqlite:///{tmp_path / 'a.db'}")
    build_demo(a, library, seed=7, as_of=AS_OF)
    first = dump(a)
    build_demo(a, library, seed=7, as_of=AS_OF)  # run twice on the same database
    assert dump(a) == first
    assert dump(connect(demo_db)) == first  # and the same as a separate build


def test_another_seed_gives_another_organization(tmp_path, library, demo_db):
    b = connect(f"sqlite:///{tmp_path / 'b.db'}")
    build_demo(b, library, seed=8, as_of=AS_OF)
    assert dump(b)["responses"] != dump(connect(demo_db))["responses"]


def test_item_params_are_valid(library):
    p = demo_item_params(library, 7)
    assert p.n_items == len(library.items)
    for j in range(p.n_items):
        assert np.all(np.diff(p.thresholds(j)) > 0)
    assert (p.a > 0).all()
