"""Practice recorded in the store: scenario runs feed the skill estimates; conversations and
commitments are saved per leader; the terminal commands keep their contracts."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from workbench.practice import enumerate_paths
from workbench.services.practice import (
    coach_session,
    conversation,
    play_scenario,
    save_commitment,
    save_turns,
)
from workbench.store import connect, repo, transaction
from workbench.store import models as m


@pytest.fixture
def practice_db(demo_copy):
    return demo_copy


def _best_and_worst_paths(scenario):
    def quality(path):  # mean quality level of the choices made, over the competencies they touch
        levels = [v for n, ch in path for v in next(c for c in scenario.nodes[n].choices if c.id == ch).quality.values()]
        return sum(levels) / len(levels)

    paths = enumerate_paths(scenario)
    return max(paths, key=quality), min(paths, key=quality)


def test_a_good_run_raises_the_estimate_and_is_stored(practice_db, library):
    eng = connect(practice_db)
    sc = library.scenarios["team-clash"]
    best, worst = _best_and_worst_paths(sc)
    # a leader whose conflict estimate sits below average, so strong choices are news
    leader = next(lid for lid in repo.leaders_frame(eng).leader_id
                  if repo.latest_estimates(eng, lid).set_index("competency").loc["conflict", "mean"] < -0.3)
    good = play_scenario(eng, library, leader, "team-clash", [c for _, c in best])
    conflict = good.estimates["conflict"]
    assert conflict.after_mean > conflict.before_mean and conflict.after_sd < conflict.before_sd
    latest = repo.latest_estimates(eng, leader).set_index("competency")
    assert latest.loc["conflict", "mean"] == pytest.approx(conflict.after_mean)
    bad = play_scenario(eng, library, "L0031", "team-clash", [c for _, c in worst])
    assert bad.estimates["conflict"].after_mean < bad.estimates["conflict"].before_mean
    with transaction(eng) as s:
        run = s.get(m.ScenarioRun, good.run_id)
        assert [c.choice_id for c in run.choices] == [c for _, c in best] and run.ending == good.debrief.ending_id
        ev = s.scalars(sa.select(m.ActivityEvent).where(m.ActivityEvent.leader_id == leader,
                                                        m.ActivityEvent.object_id == "team-clash")).all()
        assert any(e.verb == "completed" for e in ev)


@pytest.mark.parametrize("choices,words", [
    (["9"], "choice 1"), (["1"], "needs more choices"), (["1"] * 12, "ended after"),
])
def test_bad_choices_store_nothing(practice_db, library, choices, words):
    eng = connect(practice_db)
    before = len(repo.activity_frame(eng, "L0032"))
    with pytest.raises(ValueError, match=words):
        play_scenario(eng, library, "L0032", "team-clash", [int(c) for c in choices])
    assert len(repo.activity_frame(eng, "L0032")) == before


SCRIPT = [
    "I want to stop doing all the release work myself and hand the launch checklist to Sam.",
    "Right now I fix everything late at night because the last handover went badly and I don't trust it.",
    "I could ask Sam to own the checklist, or split it between Sam and Ana, or agree a weekly check-in with Sam.",
    "I'll ask Sam to own the launch checklist and agree a weekly check-in.",
    "by next Friday",
    "yes",
]


def test_conversation_and_commitment_are_saved_for_that_leader_only(practice_db, library):
    eng = connect(practice_db)
    session = coach_session(eng, library, "L0033", moment="delegating-a-big-task")
    session.open()
    for line in SCRIPT:
        session.send(line)
        if session.done:
            break
    assert session.commitment is not None and "Sam" in session.commitment.text
    save_turns(eng, "L0033", session.conversation_id, session.turns)
    save_commitment(eng, "L0033", session.conversation_id, session.commitment)
    assert len(conversation(eng, "L0033", session.conversation_id)) == len(session.turns)
    assert conversation(eng, "L0034", session.conversation_id) == []
    with transaction(eng) as s:
        c = s.scalars(sa.select(m.Commitment).where(m.Commitment.leader_id == "L0033")).one()
        assert c.competency == "delegating" and c.status == "open" and c.due is not None


def run(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "workbench.cli", *args], capture_output=True, text=True, input=stdin)


def test_scenario_run_json_contract(practice_db, library):
    best, _ = _best_and_worst_paths(library.scenarios["missed-deadline"])
    leader = _fresh_leader(connect(practice_db), "missed-deadline")
    args = ("scenario", "run", "missed-deadline", "--leader", leader, "--choices", ",".join(c for _, c in best),
            "--json", "--db", practice_db)
    out = run(*args)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert set(doc) == {"path", "debrief", "estimates", "evidence_weight"} and len(doc["path"]) == len(best)
    assert doc["evidence_weight"] == 1.0
    for est in doc["estimates"].values():
        assert est["after"]["sd"] < est["before"]["sd"]
    again = json.loads(run(*args).stdout)  # a replay is stored and debriefed but moves nothing
    assert again["evidence_weight"] == 0.0
    for est in again["estimates"].values():
        assert est["after"] == est["before"]


def _fresh_leader(eng, *scenario_ids):
    """A demo leader with skill estimates who has never played any of ``scenario_ids``."""
    with transaction(eng) as s:
        played = set(s.scalars(sa.select(m.ScenarioRun.leader_id).where(m.ScenarioRun.scenario_id.in_(scenario_ids))))
    return next(lid for lid in sorted(repo.leaders_frame(eng).leader_id)
                if lid not in played and not repo.latest_estimates(eng, lid).empty)


def test_chat_reads_stdin_until_end_and_saves(practice_db):
    out = run("chat", "--leader", "L0036", "--moment", "delegating-a-big-task", "--db", practice_db,
              stdin="\n".join(SCRIPT) + "\n")
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("Coach:") == len(SCRIPT) + 1 and "Saved to your plan" in out.stdout
    assert "commitment saved" in out.stderr


@pytest.mark.parametrize("args,words", [
    (["scenario", "run", "nope", "--leader", "L0001", "--choices", "1"], "unknown scenario 'nope'"),
    (["scenario", "run", "team-clash", "--leader", "NOPE", "--choices", "1"], "no leader with id 'NOPE'"),
    (["scenario", "run", "team-clash", "--leader", "L0001", "--choices", "7"], "choice 1"),
    (["chat", "--leader", "NOPE"], "no leader with id 'NOPE'"),
    (["chat", "--leader", "L0001", "--moment", "nope"], "unknown moment 'nope'"),
])
def test_cli_bad_input(practice_db, args, words):
    out = run(*args, "--db", practice_db, stdin="")
    assert out.returncode == 1
    errors = [ln for ln in out.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and words in errors[0], out.stderr


def test_chat_in_the_terminal_checks_in_after_a_crisis(practice_db):
    lines = ["I want to hand the launch checklist to Sam.", "I want to disappear.", "ok", "I'm safe, let's continue"]
    out = run("chat", "--leader", "L0036", "--db", practice_db, stdin="\n".join(lines) + "\n")
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("Coach:") == len(lines) + 1
    assert out.stdout.count("Are you safe right now?") == 2 and "Let's carry on where we were" in out.stdout


# ------------------------------------------------------------------ evidence that cannot be farmed
#: a replay must leave every estimate within this of where the first play put it (the rule says exactly)
REPLAY_TOLERANCE = 1e-6


def _estimates(eng, leader):
    est = repo.latest_estimates(eng, leader).set_index("competency")
    return {c: (float(r["mean"]), float(r["sd"])) for c, r in est.iterrows()}


def test_replaying_a_scenario_ten_times_leaves_the_estimate_where_the_first_play_put_it(practice_db, library):
    """The issue's case: replaying ``missed-deadline`` moved feedback from +0.23 to +1.24. Now only the
    first play counts; ten replays of the same path and ten of the best path change nothing, a rescore
    applies the same rule, and a scenario not played before still moves the estimate."""
    from workbench.services import assessment as al

    eng, sid = connect(practice_db), "missed-deadline"
    sc = library.scenarios[sid]
    other = next(s for s in library.scenarios.values() if s.id != sid and "feedback" in s.competencies)
    leader = _fresh_leader(eng, sid, other.id)
    best, worst = _best_and_worst_paths(sc)
    paths = sorted(enumerate_paths(sc), key=lambda p: (p != worst, p == best))
    middle = paths[len(paths) // 2]  # neither the best nor the worst path
    before = _estimates(eng, leader)
    t0 = datetime.now(UTC)
    first = play_scenario(eng, library, leader, sid, [c for _, c in middle], now=t0)
    assert first.counted and first.weight == 1.0
    after_first = _estimates(eng, leader)
    assert any(abs(after_first[c][0] - before[c][0]) > 0.01 for c in first.estimates)  # the first play counts
    for k, path in enumerate([middle] * 10 + [best] * 10, start=1):
        again = play_scenario(eng, library, leader, sid, [c for _, c in path], now=t0 + timedelta(minutes=k))
        assert not again.counted and again.weight == 0.0
        for ch in again.estimates.values():
            assert ch.after_mean == pytest.approx(ch.before_mean, abs=REPLAY_TOLERANCE)
            assert ch.after_sd == pytest.approx(ch.before_sd, abs=REPLAY_TOLERANCE)
    now = _estimates(eng, leader)
    for comp, (mean, sd) in after_first.items():
        assert now[comp][0] == pytest.approx(mean, abs=REPLAY_TOLERANCE), comp
        assert now[comp][1] == pytest.approx(sd, abs=REPLAY_TOLERANCE), comp
    with transaction(eng) as s:  # every run is kept: nothing submitted is lost
        runs = s.scalar(sa.select(sa.func.count()).select_from(m.ScenarioRun).where(
            m.ScenarioRun.leader_id == leader, m.ScenarioRun.scenario_id == sid))
    assert runs == 21

    # a rescore replays the stored runs by the same rule: the 20 replays add nothing to the first play
    values = {c: before[c] for c in library.competency_ids if c in before}
    rescored = al._with_practice(eng, library, leader, values)
    with transaction(eng) as s:
        s.execute(sa.delete(m.ScenarioRun).where(m.ScenarioRun.leader_id == leader, m.ScenarioRun.scenario_id == sid,
                                                 m.ScenarioRun.started_at > t0 + timedelta(seconds=30)))
    once = al._with_practice(eng, library, leader, values)
    for comp in values:
        assert rescored[comp][0] == pytest.approx(once[comp][0], abs=REPLAY_TOLERANCE)

    # genuinely new evidence still counts: another feedback scenario, never played, moves feedback
    new_best, _ = _best_and_worst_paths(other)
    fresh = play_scenario(eng, library, leader, other.id, [c for _, c in new_best], now=t0 + timedelta(hours=1))
    assert fresh.counted
    assert fresh.estimates["feedback"].after_mean - fresh.estimates["feedback"].before_mean > 0.02

