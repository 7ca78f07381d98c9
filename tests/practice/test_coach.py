"""The offline GROW coach: a scripted conversation to a confirmed commitment, grounding, safety."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, replace
from datetime import UTC, date, datetime, timedelta

import pytest

from workbench.practice.coach import (
    STAGES,
    CoachContext,
    CoachSession,
    CoachState,
    OfflineCoach,
    Reply,
    ReplyGenerator,
)
from workbench.practice.safety import MAX_CHARS

TODAY = date(2026, 11, 27)  # a Friday

MAYA = CoachContext(leader_id="L0001", name="Maya", development_areas=("delegating", "feedback", "trust"),
                     moment="delegating-a-big-task", role_level="first-time")

SCRIPT = [
    "I want to stop doing all the release work myself and hand the launch checklist to Sam.",
    "Right now I fix everything late at night because the last handover went badly and I don't trust it.",
    "I could ask Sam to own the checklist, or split it between Sam and Ana, or agree a weekly check-in with Sam.",
    "I'll ask Sam to own the launch checklist and agree a weekly check-in.",
    "by next Friday",
    "yes",
]


def ticking():
    now = [datetime(2026, 11, 27, 9, 0, tzinfo=UTC)]

    def clock():
        now[0] += timedelta(seconds=20)
        return now[0]

    return clock


def session(library, index, context=MAYA, **kw):
    return CoachSession(library, context, index=index, clock=ticking(), today=TODAY, conversation_id="conv-1", **kw)


def assert_one_question(reply: Reply):
    assert reply.question and reply.question.count("?") == 1 and reply.question.endswith("?") or \
        reply.question.endswith('"no, change it".')
    assert reply.text.endswith(reply.question)
    rest = reply.text[: -len(reply.question)]
    for c in reply.citations:
        rest = rest.replace(c.sentence, "")
    assert "?" not in rest, reply.text


def test_scripted_conversation_reaches_a_confirmed_commitment(library, index):
    s = session(library, index)
    opening = s.open()
    assert opening.stage == "goal" and "Maya" in opening.text and "delegating" in opening.text
    assert_one_question(opening)
    replies = [s.send(m) for m in SCRIPT]
    print("\n" + s.transcript())

    # GROW in order, one question at a time until the proposal
    assert [r.stage for r in replies] == ["reality", "options", "way_forward", "way_forward", "confirm", "done"]
    for r in replies[:5]:
        assert_one_question(r)
    # the coach names the topic it heard and offers the runner-up; the reality answer implicitly accepts it
    assert replies[0].question.startswith("This sounds like delegating: is that right, or is it more about ")
    # reflections come from the leader's own words
    assert "release work yourself" in replies[0].reflection and "launch checklist to Sam" in replies[0].reflection
    assert "handover went badly" in replies[1].reflection and "don't trust it" in replies[1].reflection
    assert "ask Sam to own the checklist" in replies[2].reflection and "split it between Sam and Ana" in replies[2].reflection
    # the competency comes from the words, the moment's checklist and a module are cited
    assert s.state.competency == "delegating" and s.state.competency_source == "detected"
    assert replies[1].citations[0].source_kind == "checklist"
    assert "From the checklist for 'I need to hand over a big piece of work'" in replies[1].text
    assert any(c.source_kind == "module" for c in replies[2].citations)
    assert "From the module '" in replies[2].text
    cited_modules = [c.source_id for r in replies for c in r.citations if c.source_kind == "module"]
    assert all(library.modules[m].level == "first-time" for m in cited_modules)
    # the proposal, then the confirmed commitment
    assert replies[4].kind == "proposal" and replies[4].proposed is not None and replies[4].commitment is None
    done = replies[5]
    assert done.kind == "closing" and done.commitment == s.commitment
    c = s.commitment
    assert c.text == SCRIPT[3]  # the leader's sentence, verbatim
    assert f'"{SCRIPT[3]}"' in replies[4].text and "draft" in replies[4].text
    assert c.competency == "delegating" and c.due == date(2026, 12, 4)
    assert "launch checklist" in c.goal
    # turns for the store
    turns = s.turns
    assert len(turns) == 1 + 2 * len(SCRIPT)
    assert [t.speaker for t in turns] == ["coach"] + ["leader", "coach"] * len(SCRIPT)
    assert all(t.stage in STAGES and len(t.stage) <= 20 for t in turns)
    assert all(a.at < b.at for a, b in zip(turns, turns[1:], strict=False))
    assert turns[1].text == SCRIPT[0] and turns[1].stage == "goal" and turns[-1].stage == "done"
    assert s.send("thanks!").kind == "done" and s.commitment == c


def test_no_change_it_revises_the_commitment(library, index):
    s = session(library, index)
    for m in SCRIPT[:5]:
        s.send(m)
    r = s.send("no, change it")
    assert r.stage == "way_forward" and s.commitment is None and r.question == "What would you like the commitment to say?"
    r = s.send("Ask Sam to own the checklist and book a check-in with him by 8 December")
    assert r.kind == "proposal" and r.proposed.due == date(2026, 12, 8)
    assert r.proposed.text == "Ask Sam to own the checklist and book a check-in with him by 8 December"
    r = s.send("no, change it to: walk Sam through the checklist on Monday")
    assert r.kind == "proposal" and r.proposed.text == "walk Sam through the checklist on Monday"
    assert r.proposed.due == date(2026, 11, 30)
    assert s.send("maybe").kind == "question" and s.stage == "confirm"  # neither yes nor no: asks again
    assert s.send("yes, but change the wording").kind == "question" and s.commitment is None
    r = s.send("in two weeks")  # only a new date: same step, new due date
    assert r.kind == "proposal" and r.proposed.due == date(2026, 12, 11)
    r = s.send("Yes please")
    assert r.commitment is not None and s.done and s.commitment.due == date(2026, 12, 11)


def test_competency_detected_from_words_without_context(library, index):
    s = session(library, index, context=CoachContext())
    assert "What would you like to work on today?" in s.open().text
    r = s.send("Two people in my team had a shouting match in the meeting this morning and it is still tense.")
    assert s.state.competency == "conflict" and s.state.competency_source == "detected"
    assert r.question.startswith("This sounds like managing conflict: is that right, or is it more about ")
    r = s.send("yes")
    assert s.state.competency_source == "leader" and r.question in library.coaching["conflict"].questions.reality


def test_vague_goal_falls_back_to_the_top_development_area(library, index):
    s = session(library, index, context=CoachContext(development_areas=("feedback", "trust")))
    assert "giving feedback" in s.open().text.lower()
    r = s.send("hmm")
    assert r.stage == "goal" and "a little more" in r.text  # one gentle probe
    r = s.send("I just want to get better at my job in general.")
    assert s.state.competency == "feedback" and s.state.competency_source == "development-area"
    assert r.stage == "reality" and r.question in library.coaching["feedback"].questions.reality


def test_given_competency_is_used_and_unknown_ids_are_refused(library, index):
    s = session(library, index, context=CoachContext(), competency="trust")
    assert s.open().question in library.coaching["trust"].questions.goal
    with pytest.raises(ValueError, match="unknown competency"):
        session(library, index, competency="juggling")
    with pytest.raises(ValueError, match="unknown development areas"):
        session(library, index, context=CoachContext(development_areas=("juggling",)))
    with pytest.raises(ValueError, match="unknown moment"):
        session(library, index, context=CoachContext(moment="moon-landing"))


def test_unsure_options_get_library_ideas(library, index):
    s = session(library, index)
    for m in SCRIPT[:2]:
        s.send(m)
    r = s.send("I'm not sure, I don't know")
    assert r.stage == "options" and len(r.citations) == 2 and r.question.startswith("Which of these")
    assert all(c.competency == "delegating" for c in r.citations)
    assert s.send(SCRIPT[2]).stage == "way_forward"


@pytest.mark.parametrize("message,category", [
    ("I'm completely burnt out and I can't cope anymore.", "distress"),
    ("My manager keeps making sexual comments about my appearance.", "harassment"),
    ("I don't want to live anymore.", "crisis"),
])
def test_support_pauses_coaching_and_checks_in_before_resuming(library, index, message, category):
    # Changed deliberately with the safety policy of issue 13: a support reply used to let the next
    # message carry on coaching; now the next message gets a check-in, and coaching resumes only
    # when the leader says they are safe or want to continue.
    s = session(library, index)
    s.send(SCRIPT[0])
    question = s.state.last_question
    r = s.send(message)
    assert r.kind == "support" and r.safety == category and not r.citations
    assert r.stage == "reality" and s.stage == "reality" and s.checking_in
    assert "HR" in r.text or "emergency" in r.text
    if category in ("crisis", "distress"):
        assert r.question == "Are you safe right now?" and r.text.endswith(r.question)
    else:
        assert r.question is None and "?" not in r.text
    r = s.send(SCRIPT[1])  # an ordinary answer is not coached yet
    assert r.kind == "check_in" and s.stage == "reality" and s.checking_in and not r.citations
    r = s.send("I'm safe, let's continue" if category != "harassment" else "let's continue")
    assert r.kind == "question" and r.question == question and not s.checking_in and s.stage == "reality"
    assert s.send(SCRIPT[1]).stage == "options"


def test_off_topic_is_declined_with_a_redirect(library, index):
    s = session(library, index)
    opening = s.open()
    r = s.send("Can you help me with my tax return?")
    assert r.kind == "decline" and r.safety == "off_topic" and "tax" in r.text and "leadership" in r.text
    assert r.question == "What leadership challenge would you like to work on?" and s.stage == "goal"
    s.send(SCRIPT[0])
    question = s.state.last_question
    r = s.send("Please write a resignation letter for my colleague.")
    assert r.kind == "decline" and r.question == question and s.stage == "reality"
    assert opening.stage == "goal"


def test_empty_and_long_input(library, index):
    s = session(library, index)
    s.open()
    r = s.send("   ")
    assert r.kind == "prompt" and r.question == "What would you like to work on today?" and s.stage == "goal"
    long = SCRIPT[0] + " " + ("The launch has many moving parts and I keep everything in my head. " * 40)
    assert len(long) > MAX_CHARS
    r = s.send(long)
    assert r.note and f"{len(long.strip()):,} characters" in r.note and r.text.startswith(r.note)
    assert r.stage == "reality"
    leader_turn = s.turns[-2]
    assert leader_turn.speaker == "leader" and len(leader_turn.text) <= MAX_CHARS


class EchoGenerator:
    """A stand-in for a hosted model: proves the seam and that safety stays in the session."""

    def __init__(self):
        self.seen: list[str] = []

    def opening(self, state: CoachState) -> Reply:
        return Reply("Hello from another generator. What is on your mind?", "goal", "question",
                     question="What is on your mind?")

    def reply(self, state: CoachState, message: str) -> Reply:
        self.seen.append(message)
        return Reply(f"You said: {message}", state.stage, "question", question=None)


def test_reply_generator_can_be_replaced_and_safety_still_applies(library, index):
    gen = EchoGenerator()
    assert isinstance(gen, ReplyGenerator) and isinstance(OfflineCoach(library), ReplyGenerator)
    s = session(library, index, generator=gen)
    assert s.open().text.startswith("Hello from another generator")
    assert s.send("My team is in conflict").text == "You said: My team is in conflict"
    assert s.send("How do I do my taxes?").kind == "decline"
    assert s.send("I'm being bullied by my manager").kind == "support"
    assert gen.seen == ["My team is in conflict"]


def test_turns_are_plain_records(library, index):
    s = session(library, index)
    s.send(SCRIPT[0])
    t = s.turns[1]
    assert t.speaker == "leader" and isinstance(t.at, datetime) and t.at.tzinfo is not None
    with pytest.raises(FrozenInstanceError):
        t.text = "changed"
    assert replace(t, text="x").text == "x" and s.conversation_id == "conv-1"


def test_no_date_given_assumes_a_week_and_says_so(library, index):
    s = session(library, index)
    for m in SCRIPT[:4]:
        s.send(m)
    r = s.send("I'm not sure yet")
    assert r.kind == "proposal" and r.proposed.due == date(2026, 12, 4) and "a week from today" in r.text
    r = s.send("Hmm")
    assert r.kind == "question" and "Hmm" not in (s.state.proposed.text if s.state.proposed else "")


def test_the_coach_cites_the_organizations_value_once_as_options_are_weighed(library, index):
    import dataclasses

    s = session(library, index)
    s.open()
    replies = [s.send(m) for m in SCRIPT]
    values = [(i, c) for i, r in enumerate(replies) for c in r.citations if c.source_kind == "value"]
    assert [(i, c.source_title) for i, c in values] == [(2, "Grow each other")]  # delegating's value
    assert "From Northwind Cooperative's values: \u201cGrow each other\u201d: Every leader is responsible" in replies[2].text
    assert_one_question(replies[2])
    # another organization without values: no value cited, the conversation is otherwise the same
    bare = dataclasses.replace(library, organization=library.organization.model_copy(update={"values": ()}))
    s2 = session(bare, index)
    s2.open()
    again = [s2.send(m) for m in SCRIPT]
    assert not any(c.source_kind == "value" for r in again for c in r.citations)
    assert [r.stage for r in again] == [r.stage for r in replies]
