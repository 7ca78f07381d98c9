"""Scripted conversations end to end, and the topic check-in: naming, confirming, correcting."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from workbench.practice.coach import CoachContext, CoachSession
from workbench.practice.scripts import load_scripts, run_script

SCRIPTS = Path(__file__).parent / "coach_conversations.yaml"
TODAY = date(2026, 11, 27)
COMPETENCY_FLOOR = 0.9
FLOOR = 0.95


@pytest.fixture(scope="module")
def outcomes(library, index):
    today, scripts = load_scripts(SCRIPTS)
    return [run_script(library, s, today, index=index) for s in scripts]


def test_scripts_are_well_formed(library, outcomes):
    assert len(outcomes) >= 20
    for o in outcomes:
        s = o.script
        assert s.competency in library.competencies and (s.moment is None or s.moment in library.moments), s.name
        # the expected commitment is one of the leader's own lines (or part of one), as typed
        assert any(s.commitment in t for t in s.turns), s.name


def test_commitments_are_saved_verbatim_with_the_right_competency_and_date(outcomes):
    n = len(outcomes)
    verbatim = sum(o.verbatim for o in outcomes)
    competency = sum(o.right_competency for o in outcomes)
    due = sum(o.right_due for o in outcomes)
    print(f"\nverbatim {verbatim}/{n}, competency {competency}/{n}, due date {due}/{n}")
    for o in outcomes:
        if not (o.verbatim and o.right_competency and o.right_due):
            print(f"--- {o.script.name}: saved {o.saved_text!r} {o.saved_competency} {o.saved_due}\n{o.transcript}")
    # a script may end unsaved only where the safety screen took a turn to the support path (a
    # false alarm on these ordinary conversations, counted against the 95% targets below)
    unsaved = [o for o in outcomes if o.saved_text is None]
    assert all("check in" in o.transcript or "check-in" in o.transcript for o in unsaved), [o.script.name for o in unsaved]
    assert verbatim / n >= FLOOR and due / n >= FLOOR
    # the competency also loses the conversations a safety false alarm interrupted, and the one
    # where the scripted leader accepts a wrong reading: 20/22 at the merge of the safety screen
    assert competency / n >= COMPETENCY_FLOOR


def session(library, index, **ctx):
    return CoachSession(library, CoachContext(**ctx), index=index, today=TODAY)


def test_the_coach_names_the_topic_and_takes_a_correction(library, index):
    s = session(library, index, development_areas=("decisions",))
    r = s.send("My update emails are way too long and nobody reads past the first paragraph")
    assert s.state.competency == "communicating" and s.state.competency_source == "detected"
    runner = s.state.topic.runner_up
    assert r.question == (f"This sounds like communicating: is that right, or is it more about "
                          f"{library.competencies[runner].name.lower()}?")
    r = s.send("no, it's more about giving feedback")
    assert s.state.competency == "feedback" and s.state.competency_source == "leader" and s.stage == "reality"
    assert "giving feedback it is" in r.text and r.question in library.coaching["feedback"].questions.reality


def test_the_runner_up_can_be_picked_and_a_bare_no_gets_the_list(library, index):
    s = session(library, index)
    s.send("I keep fixing my team's problems for them instead of letting them work it out")
    runner = s.state.topic.runner_up
    s.send("the second one")
    assert s.state.competency == runner and s.state.competency_source == "leader"

    s = session(library, index)
    s.send("two of the porters had a row in the lift this morning")
    assert s.state.competency == "conflict"
    r = s.send("no")
    assert r.question.startswith("Which is it closer to: ") and "giving feedback" in r.question
    assert "managing conflict" not in r.question and s.stage == "reality"
    s.send("trust")
    assert s.state.competency == "trust" and s.state.competency_source == "leader"


def test_an_answer_that_skips_the_check_is_read_as_reality_and_the_topic_read_again(library, index):
    s = session(library, index, development_areas=("feedback",))
    s.send("I want to be a better manager")  # no topic in the words: the profile
    assert (s.state.competency, s.state.competency_source) == ("feedback", "development-area")
    r = s.send("Two of my drivers keep arguing in the yard and it's turning into a feud between the shifts")
    assert s.state.competency == "conflict" and s.stage == "options"
    assert "sounds more like managing conflict than giving feedback" in r.text


def test_correction_later_in_the_conversation_and_at_the_draft(library, index):
    s = session(library, index)
    for m in ("I want to hand the stock count to one of my supervisors", "yes",
              "I've done it for years and I'm the only one who knows the spreadsheet"):
        s.send(m)
    assert s.stage == "options" and s.state.competency == "delegating"
    r = s.send("actually it's more about coaching, I want her to learn it properly")
    assert s.state.competency == "coaching" and s.stage == "options" and r.question in \
        library.coaching["coaching"].questions.options
    s.send("Do the next count together, or let her try and debrief")
    r = s.send("I'll do the December count with Leah on Monday.")
    assert r.kind == "proposal" and r.proposed.competency == "coaching"
    r = s.send("no, it's more about delegating really")
    assert r.kind == "proposal" and r.proposed.competency == "delegating"
    assert r.proposed.text == "I'll do the December count with Leah on Monday."
    assert s.send("yes").commitment.competency == "delegating"


def test_dont_know_inside_an_answer_does_not_stall(library, index):
    s = session(library, index, development_areas=("conflict",))
    for m in ("Two of my cashiers fell out over a shift swap", "yes", "They won't work the same tills now"):
        s.send(m)
    r = s.send("I don't know")  # bare: help with ideas
    assert r.stage == "options" and r.question.startswith("Which of these")
    r = s.send("I don't know if it'll work but I could swap their breaks and talk to both")
    assert r.stage == "way_forward"
    r = s.send("I'm not sure")  # bare at the way forward: the options they listed
    assert r.stage == "way_forward" and "You mentioned" in r.text
    r = s.send("I don't know if it'll work but I'll talk to both of them on Friday")
    assert r.kind == "proposal" and r.proposed.text == "I don't know if it'll work but I'll talk to both of them on Friday"
    assert r.proposed.due == date(2026, 12, 4)


def test_a_draft_quoted_back_verbatim_can_be_replaced_or_redated(library, index):
    s = session(library, index)
    for m in ("I need to tell a new starter her till errors are a problem", "yes", "She's short every other day",
              "Tell her what I've seen"):
        s.send(m)
    r = s.send("Tell Mo at tomorrow's huddle that the rota is changing.")
    assert r.proposed.text == "Tell Mo at tomorrow's huddle that the rota is changing." and \
        r.proposed.due == date(2026, 11, 28)
    assert '"Tell Mo at tomorrow\'s huddle that the rota is changing."' in r.text
    r = s.send("make it the 15th")
    assert r.kind == "proposal" and r.proposed.due == date(2026, 12, 15) and r.proposed.text.startswith("Tell Mo")
    r = s.send('Change it to: "No more surprises: talk to Mo before her Monday shift"')
    assert r.proposed.text == "No more surprises: talk to Mo before her Monday shift"
    assert r.proposed.due == date(2026, 11, 30)
    assert s.send("Hmm").kind == "question" and s.commitment is None
    assert s.send("yes").commitment.text == "No more surprises: talk to Mo before her Monday shift"


def test_topic_check_answers_a_question_and_a_partial_yes(library, index):
    s = session(library, index)
    s.send("people on the line keep ignoring the new safety procedure")
    first = s.state.competency
    r = s.send("what do you mean?")
    assert r.text.startswith("I mean: which leadership skill") and r.question.startswith("This sounds like ")
    assert s.stage == "reality" and s.state.topic_pending and s.state.competency == first
    r = s.send("Sort of, but mostly it's that nobody listens to me when I explain things")
    assert s.state.competency not in (None, first) and s.state.competency_source == "leader"
    assert "Then let's take it as" in r.text and s.stage == "options"


def test_a_vague_first_line_takes_the_moment(library, index):
    s = session(library, index, moment="conflict-today", development_areas=("delegating",))
    r = s.send("something happened at work")
    assert (s.state.competency, s.state.competency_source) == ("conflict", "moment") and not s.state.topic_pending
    assert "moment you're in" in r.text


def test_bad_script_files_name_the_file_and_the_conversation(tmp_path):
    from workbench.practice.scripts import load_scripts

    bad = tmp_path / "scripts.yaml"
    bad.write_text("conversations: []\n")
    with pytest.raises(ValueError, match=r"scripts\.yaml: expected 'today: YYYY-MM-DD'"):
        load_scripts(bad)
    bad.write_text("today: 2026-11-27\nconversations:\n  - name: one\n    turns: [hi]\n    expect: {competency: trust}\n")
    with pytest.raises(ValueError, match=r"scripts\.yaml: conversations\[0\] \(one\): missing expect\.commitment, expect\.due"):
        load_scripts(bad)


def test_a_step_that_mentions_a_topic_is_no_correction(library, index):
    s = session(library, index)
    for m in ("I promised the crew new lockers and never delivered", "yes", "They laugh about my promises in the canteen",
              "Own up, give a date"):
        s.send(m)
    assert s.stage == "way_forward" and s.state.competency == "trust"
    r = s.send("I'll tell the crew on Monday it's really about communication and give them a date")
    assert r.kind == "proposal" and s.state.competency == "trust"
    assert r.proposed.text == "I'll tell the crew on Monday it's really about communication and give them a date"
