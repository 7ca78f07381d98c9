"""Figures: what each draws, what it withholds, and that the apps get a FigureWidget."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from workbench.analytics import MIN_GROUP, analyze_cohort, analyze_leader
from workbench.analytics import figures as F
from workbench.analytics.privacy import SUPPRESSED_NOTE

from .conftest import NOW, events


@pytest.fixture(scope="module")
def progress(library):
    comps = list(library.competency_ids)
    mod = next(iter(library.modules.values()))
    ev = events(
        ("2026-02-24 09:00", "launched", "module", mod.id, mod.primary_competency, None, None),
        ("2026-02-24 09:30", "completed", "module", mod.id, mod.primary_competency, 1800, None),
        ("2026-02-24 09:32", "failed", "knowledge-check", mod.id, mod.primary_competency, None, 0.25),
        ("2026-03-02 09:32", "passed", "knowledge-check", mod.id, mod.primary_competency, None, 0.75),
    )
    hist = pd.DataFrame({
        "competency": comps * 2,
        "mean": list(np.linspace(-1.5, 1.5, len(comps))) + list(np.linspace(-1.0, 1.8, len(comps))),
        "sd": 0.2,
        "estimated_at": [pd.Timestamp("2026-01-05", tz="UTC")] * len(comps) + [pd.Timestamp("2026-02-25", tz="UTC")] * len(comps),
    })
    recs = pd.DataFrame({"module_id": [mod.id], "status": ["active"], "served_at": [NOW]})
    return analyze_leader("L1", events=ev, history=hist, recommendations=recs, library=library,
                          role_level="experienced", weekly_minutes=60, now=NOW)


def _cohort(library, n: int, duplicate_names: bool = False):
    comps = list(library.competency_ids)
    ids = [f"L{i}" for i in range(1, n + 1)]
    leaders = pd.DataFrame({"leader_id": ids, "name": ["Sam Lee" if duplicate_names else f"Leader {i}" for i in ids],
                            "role_level": "first-time"})
    rng = np.random.default_rng(1)
    est = pd.DataFrame([(lid, "X", "first-time", c, rng.normal(), 0.3) for lid in ids for c in comps],
                       columns=["leader_id", "cohort_id", "role_level", "competency", "mean", "sd"])
    ev = events(*[("2026-03-02 09:00", "completed", "module", "m", comps[0], 600, None, lid) for lid in ids])
    return analyze_cohort("X", leaders=leaders, events=ev, recommendations=pd.DataFrame(
        columns=["id", "leader_id", "module_id", "status", "served_at"]), estimates=est, totals=None, library=library,
        now=NOW, weeks=4)


def _text(fig: go.Figure) -> str:
    return " ".join([fig.layout.title.text or ""] + [a.text or "" for a in fig.layout.annotations])


def test_personal_figures(progress, library):
    names = [library.competencies[c].name for c in library.competency_ids]
    fig = F.time_figure(progress, widget=False)
    assert isinstance(fig, go.Figure) and not isinstance(fig, go.FigureWidget)
    assert [t.name for t in fig.data] == ["Last 28 days", "In my plan"]
    assert list(fig.data[0].y) == names[::-1] and sum(fig.data[0].x) == pytest.approx(30.0)
    assert "30 min in the last 28 days (budget 240)" in fig.layout.title.text
    assert fig.layout.height <= 380

    fig = F.investment_figure(progress, widget=False)
    shown = progress.under_invested[progress.under_invested["need_share"] > 0]
    assert len(fig.data[0].y) == len(shown) and list(fig.data[0].x) == pytest.approx(shown["need_share"][::-1].tolist())
    assert any("\u25cf" in label for label in fig.data[0].y) == bool(shown["under_invested"].any())

    fig = F.trajectory_figure(progress, widget=False)
    means = [t for t in fig.data if t.mode == "lines+markers"]
    bands = [t for t in fig.data if t.fill == "toself"]
    assert len(means) == len(names) and len(bands) == len(names)  # two estimates each: a shaded interval
    assert [a.text for a in fig.layout.annotations][: len(names)] == names

    fig = F.activity_figure(progress, widget=False)
    assert "streak 1 week (longest 1)" in fig.layout.title.text and "last active 2 days ago" in fig.layout.title.text
    assert len(fig.data[0].x) == 12

    fig = F.checks_figure(progress, widget=False)
    assert list(fig.data[0].x) == [0.75] and list(fig.data[0].marker.color) == [F.COLORS["passed"]]
    # the bar keeps the module's whole title (hover, table); the axis shows it in at most two short lines
    assert list(fig.layout.yaxis.tickvals) == list(fig.data[0].y)
    assert all(len(line) <= 22 for label in fig.layout.yaxis.ticktext for line in label.split("<br>"))


def test_axis_labels_are_two_short_lines_at_most():
    assert F._label("Giving feedback") == "Giving feedback"
    assert F._label("Running a premortem before the launch") == "Running a premortem<br>before the launch"
    long = F._label("Handling a misconduct or harassment report with care and without delay")
    assert long.count("<br>") == 1 and long.endswith("\u2026") and all(len(x) <= 22 for x in long.split("<br>"))


def test_figures_say_when_there_is_nothing_to_show(library):
    empty = analyze_leader("L2", events=events(), history=pd.DataFrame(columns=["competency", "mean", "sd",
                                                                                 "estimated_at"]),
                           recommendations=pd.DataFrame(columns=["module_id", "status"]), library=library,
                           role_level="senior", weekly_minutes=30, now=NOW)
    for f, words in ((F.time_figure, "No learning time"), (F.investment_figure, "no assessment"),
                     (F.trajectory_figure, "No assessment"), (F.checks_figure, "No knowledge checks")):
        fig = f(empty, widget=False)
        assert words in _text(fig) and not [t for t in fig.data if getattr(t, "x", None) is not None and len(t.x)]
    assert "no activity yet" in F.activity_figure(empty, widget=False).layout.title.text


def test_cohort_figures(library):
    o = _cohort(library, 6)
    fig = F.distribution_figure(o, widget=False)
    assert fig.data[0].type == "box" and len(fig.data[0].y) == 6 * len(library.competency_ids)
    fig = F.heatmap_figure(o, widget=False)
    z = np.array(fig.data[0].z, dtype=float)
    assert z.shape == (6, len(library.competency_ids))
    assert np.allclose(z[0], o.heatmap[o.heatmap.leader_id == "L1"]["p_below"].to_numpy())
    assert 300 <= fig.layout.height <= 440
    fig = F.engagement_figure(o, widget=False)
    assert [t.name for t in fig.data] == ["active leaders", "modules completed", "minutes"]
    assert list(fig.data[0].y) == [0, 0, 0, 6] and list(fig.data[1].y) == [0, 0, 0, 6]
    fig = F.comparison_figure(o, widget=False)
    assert {t.name for t in fig.data} == {"rest of the organization", "this cohort"}


def test_heatmap_keeps_leaders_who_share_a_name_apart(library):
    fig = F.heatmap_figure(_cohort(library, 6, duplicate_names=True), widget=False)
    assert len(fig.data[0].y) == 6 and len(set(fig.data[0].y)) == 6
    assert list(fig.layout.yaxis.ticktext) == ["Sam Lee"] * 6


def test_cohort_figures_withhold_small_groups(library):
    o = _cohort(library, MIN_GROUP - 1)
    for f in (F.distribution_figure, F.engagement_figure, F.comparison_figure):
        fig = f(o, widget=False)
        assert SUPPRESSED_NOTE in _text(fig)
        assert not fig.data or all(np.all(pd.isna(np.asarray(t.x, dtype=float))) for t in fig.data if t.type == "scatter")
    # the facilitator still sees each member's own row
    assert len(F.heatmap_figure(o, widget=False).data[0].y) == MIN_GROUP - 1


def test_apps_get_figure_widgets(progress):
    fig = F.activity_figure(progress)
    assert isinstance(fig, go.FigureWidget)
