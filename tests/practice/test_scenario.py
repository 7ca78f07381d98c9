"""The scenario engine: every path of every shipped scenario plays to an ending."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from workbench.practice.scenario import STRONG_THRESHOLD, ScenarioRun, Step, enumerate_paths


def ticking(start=datetime(2026, 11, 27, 9, 0, tzinfo=UTC)):
    now = [start]

    def clock():
        now[0] += timedelta(seconds=45)
        return now[0]

    return clock


def test_every_path_of_every_scenario_reaches_an_ending(library):
    total = 0
    for sc in library.scenarios.values():
        paths = enumerate_paths(sc)
        assert len(paths) >= 2, sc.id
        for path in paths:
            run = ScenarioRun(sc, clock=ticking())
            progress = [run.progress]
            for node_id, choice_id in path:
                assert not run.done and run.node_id == node_id
                fb = run.choose(choice_id)
                assert fb.feedback and fb.behavior and fb.quality
                progress.append(run.progress)
            assert run.done and sc.nodes[run.node_id].ending
            assert len(path) >= 3 and run.steps_taken == len(path)
            assert progress == sorted(progress) and progress[-1] == 1.0 and progress[0] == 0.0
            assert [(s.node_id, s.choice_id) for s in run.path] == list(path)
            assert all(a.at < b.at for a, b in zip(run.path, run.path[1:], strict=False))
            d = run.debrief()
            assert d.ending_id == run.node_id and d.ending_text == sc.nodes[run.node_id].text
            assert len(d.strong) + len(d.weak) == len(path)
            assert d.lessons == sc.debrief
            total += 1
    print(f"\nplayed {total} paths through {len(library.scenarios)} scenarios")
    assert total >= 50


def test_choose_by_number_or_id_and_invalid_choices(library):
    sc = library.scenarios["missed-deadline"]
    run = ScenarioRun(sc)
    first = run.choices[1]
    fb = run.choose(2)
    assert fb.choice_id == first.id and fb.node_id == sc.start
    second = run.choices[0]
    assert run.choose(second.id).choice_id == second.id
    ids = [c.id for c in run.choices]
    for bad in (0, len(ids) + 1, "zz", -1, 2.5, True):
        with pytest.raises(ValueError) as err:
            run.choose(bad)
        msg = str(err.value)
        assert f"1..{len(ids)}" in msg and all(repr(i) in msg for i in ids)
    assert run.choose("1").choice_id == ids[0]  # a digit string is a number


def test_finished_run_refuses_choices_and_unfinished_refuses_debrief(library):
    sc = library.scenarios["team-clash"]
    run = ScenarioRun(sc)
    with pytest.raises(ValueError, match="not finished"):
        run.debrief()
    while not run.done:
        run.choose(1)
    with pytest.raises(ValueError, match="finished"):
        run.choose(1)
    assert run.choices == () and run.remaining == (0, 0)


def test_debrief_names_strong_and_weak_behaviors(library):
    sc = library.scenarios["announcing-the-reorg"]
    best, worst = ScenarioRun(sc), ScenarioRun(sc)
    while not best.done:
        best.choose(max(best.choices, key=lambda c: sum(c.quality.values()) / len(c.quality)).id)
    while not worst.done:
        worst.choose(min(worst.choices, key=lambda c: sum(c.quality.values()) / len(c.quality)).id)
    b, w = best.debrief(), worst.debrief()
    assert b.strong and not b.weak and b.ending_id == "good-end"
    assert w.weak and not w.strong and w.ending_id == "poor-end"
    assert all(x.mean_quality >= STRONG_THRESHOLD for x in b.strong)
    assert "Shares what is known and names when more will come" in [x.behavior for x in b.strong]
    text = w.as_text()
    assert "What to work on" in text and sc.debrief[0] in text
    assert b.quality["change"] > w.quality["change"]


def test_replay_rebuilds_a_run_and_rejects_foreign_steps(library):
    sc = library.scenarios["handing-over-the-launch"]
    run = ScenarioRun(sc, clock=ticking())
    while not run.done:
        run.choose(len(run.choices))
    again = ScenarioRun.replay(sc, [(s.node_id, s.choice_id, s.at) for s in run.path])
    assert again.path == run.path and again.node_id == run.node_id and again.done
    assert again.finished_at == run.path[-1].at and again.started_at <= run.path[0].at
    with pytest.raises(ValueError, match="expected a choice at node"):
        ScenarioRun.replay(sc, [Step("not-a-node", "a", datetime.now(UTC))])


def test_enumerate_paths_rejects_cycles(library):
    sc = library.scenarios["team-clash"]
    nodes = dict(sc.nodes)
    start = nodes[sc.start]
    looping = start.model_copy(update={"choices": (start.choices[0].model_copy(update={"next": sc.start}),
                                                   *start.choices[1:])})
    nodes[sc.start] = looping
    with pytest.raises(ValueError, match="cycle"):
        enumerate_paths(sc.model_copy(update={"nodes": nodes}))
