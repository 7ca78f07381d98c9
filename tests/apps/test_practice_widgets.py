"""The scenario player and the chat panel, driven programmatically like a leader would."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from workbench.apps.practice_widgets import ChatPanel, ScenarioPlayer
from workbench.content.search import LibraryIndex
from workbench.practice import CoachContext, CoachSession, posterior_from_estimates


def classes(widget) -> set[str]:
    found = set(widget._dom_classes)
    for c in getattr(widget, "children", ()):
        found |= classes(c)
    return found


def ticking():
    now = [datetime(2026, 11, 27, 9, 0, tzinfo=UTC)]

    def clock():
        now[0] += timedelta(seconds=15)
        return now[0]

    return clock


@pytest.fixture(scope="module")
def index(library):
    return LibraryIndex(library)


def best_id(player):
    return max(player.run.choices, key=lambda c: sum(c.quality.values()) / len(c.quality)).id


def test_scenario_player_plays_to_a_debrief_with_estimates(library):
    sc = library.scenarios["team-clash"]
    steps, finished = [], []
    dims = library.competency_ids
    posterior = posterior_from_estimates(dims, {c: (0.0, 0.5) for c in dims})
    player = ScenarioPlayer(sc, on_choice=lambda run, fb: steps.append((fb.node_id, fb.choice_id)),
                            on_finish=lambda run, d, ch: finished.append((d, ch)), posterior=posterior,
                            competency_names={c: x.name for c, x in library.competencies.items()}, clock=ticking())
    assert {"wb-scenario", "wb-scenario-situation", "wb-scenario-choice", "wb-scenario-progress",
            "wb-scenario-feedback", "wb-scenario-debrief", "wb-scenario-estimates",
            "wb-scenario-restart"} <= classes(player.widget)
    assert sc.title in player.title.value and player.progress.value == 0.0
    n = 0
    while not player.run.done:
        buttons = player.choice_buttons
        assert len(buttons) == len(player.run.choices) and all("wb-scenario-choice" in b._dom_classes for b in buttons)
        target = best_id(player)
        assert sorted(player.shown) == sorted(c.id for c in player.run.choices)
        assert all(f"wb-scenario-choice-{cid}" in b._dom_classes for cid, b in zip(player.shown, buttons, strict=True))
        idx = player.shown.index(target)
        before = player.progress.value
        buttons[idx].click()
        n += 1
        assert player.feedback.value and "Strong move" in player.feedback.value
        assert player.progress.value >= before
    assert player.progress.value == 1.0 and player.choice_buttons == []
    assert len(steps) == n and steps == [(s.node_id, s.choice_id) for s in player.run.path]
    assert len(finished) == 1
    debrief, changes = finished[0]
    assert debrief.ending_id == player.run.node_id and debrief.strong and not debrief.weak
    assert "Debrief" in player.debrief_view.value and "What you did well" in player.debrief_view.value
    assert set(changes) == {"conflict", "communicating"}
    for ch in changes.values():
        assert ch.after_mean > ch.before_mean and ch.after_sd < ch.before_sd
    assert "Managing conflict" in player.estimates.value and "Before" in player.estimates.value
    assert player.restart_button.layout.display is None
    player.restart_button.click()
    assert player.run.steps_taken == 0 and player.debrief_view.value == "" and player.choice_buttons


def test_scenario_player_choose_by_number_and_no_estimates_without_posterior(library):
    sc = library.scenarios["missed-deadline"]
    player = ScenarioPlayer(sc)
    with pytest.raises(ValueError, match="valid choices"):
        player.choose(9)
    while not player.run.done:
        player.choose(len(player.run.choices))
    assert player.debrief is not None and player.changes == {} and player.estimates.value == ""


def test_scenario_player_shuffles_per_attempt_and_scores_by_identity(library):
    sc = library.scenarios["the-hard-call"]
    titles = {m.id: m.title for m in library.modules.values()}
    player = ScenarioPlayer(sc, module_titles=titles, seed=3)
    orders = {player.shown}
    for _ in range(12):
        player.restart()
        orders.add(player.shown)
    assert len(orders) > 1  # a new attempt draws a new order
    player = ScenarioPlayer(sc, module_titles=titles, seed=3)
    again = ScenarioPlayer(sc, seed=3)
    assert player.shown == again.shown  # the same seed gives the same order
    # number 1 is whatever the first button shows, and it is scored as that choice
    first = player.shown[0]
    fb = player.choose(1)
    assert fb.choice_id == first and fb.node_id == "open"
    # play a weaker choice by id to the end: the debrief says what would have worked and links the module
    while not player.run.done:
        worst = min(player.run.choices, key=lambda c: c.mean_quality)
        player.choose(worst.id)
    d = player.debrief
    assert d.missteps and "What would have worked better" in player.debrief_view.value
    mid = d.missteps[-1].modules[0]
    assert f"data-module='{mid}'" in player.debrief_view.value and titles[mid] in player.debrief_view.value


def test_scenario_player_survives_a_failing_callback(library):
    def broken(run, fb):
        raise RuntimeError("database is locked")

    player = ScenarioPlayer(library.scenarios["team-clash"], on_choice=broken)
    player.choice_buttons[0].click()
    assert player.run.steps_taken == 1
    assert player.errors and "database is locked" in player._cb.error.value


SCRIPT = [
    "I want to stop doing all the release work myself and hand the launch checklist to Sam.",
    "Right now I fix everything late at night because the last handover went badly and I don't trust it.",
    "I could ask Sam to own the checklist, or split it between Sam and Ana.",
    "I'll ask Sam to own the launch checklist by Friday.",
]


def test_chat_panel_runs_a_conversation_to_a_saved_commitment(library, index):
    session = CoachSession(library, CoachContext(name="Maya", development_areas=("delegating",)), index=index,
                           clock=ticking(), today=date(2026, 11, 27))
    turns, saved = [], []
    panel = ChatPanel(session, on_turn=turns.append, on_commitment=saved.append)
    assert {"wb-chat", "wb-chat-messages", "wb-chat-input", "wb-chat-send", "wb-chat-confirm", "wb-chat-yes",
            "wb-chat-no", "wb-chat-commitment"} <= classes(panel.widget)
    assert len(turns) == 1 and turns[0].speaker == "coach"  # the opening
    assert len(panel.messages.children) == 1 and "wb-chat-coach" in panel.messages.children[0]._dom_classes
    for msg in SCRIPT:
        panel.input.value = msg
        panel.send_button.click()
        assert panel.input.value == ""
    assert session.stage == "confirm" and panel.confirm_box.layout.display is None
    assert panel.last_reply.proposed.text == SCRIPT[3]  # the leader's sentence, verbatim
    assert "wb-chat-draft" in classes(panel.widget) and "wb-chat-draft-due" in classes(panel.widget)
    assert panel.draft.value == SCRIPT[3] and panel.draft_due.value == date(2026, 12, 4)  # the editable draft
    panel.yes_button.click()
    assert session.done and len(saved) == 1 and saved[0] == session.commitment
    assert saved[0].due == date(2026, 12, 4) and saved[0].competency == "delegating"
    assert "Saved to your plan" in panel.commitment_view.value
    assert panel.input.disabled and panel.send_button.disabled and panel.confirm_box.layout.display == "none"
    assert turns == list(session.turns) and len(panel.messages.children) == len(session.turns)
    assert [t.speaker for t in turns[1:3]] == ["leader", "coach"]
    assert panel.send("more?") is None and len(turns) == len(session.turns)


def test_chat_panel_no_button_and_safety(library, index):
    session = CoachSession(library, CoachContext(), competency="delegating", index=index, today=date(2026, 11, 27))
    panel = ChatPanel(session)
    r = panel.send("Can you write me a Python script?")
    assert r.kind == "decline" and "wb-chat-leader" in panel.messages.children[-2]._dom_classes
    for msg in SCRIPT:
        panel.send(msg)
    panel.no_button.click()
    assert session.stage == "way_forward" and panel.confirm_box.layout.display == "none"
    panel.send("Walk Sam through the checklist on Monday")
    panel.yes_button.click()
    assert session.commitment.text == "Walk Sam through the checklist on Monday"
    assert session.commitment.due == date(2026, 11, 30)


def test_chat_panel_saves_an_edited_draft_as_shown(library, index):
    session = CoachSession(library, CoachContext(), competency="delegating", index=index, today=date(2026, 11, 27))
    saved = []
    panel = ChatPanel(session, on_commitment=saved.append)
    for msg in SCRIPT:
        panel.send(msg)
    assert panel.confirm_box.layout.display is None and panel.draft.value == SCRIPT[3]
    panel.draft.value = "  No more firefighting: Sam owns the launch checklist from Monday  "
    panel.draft_due.value = date(2026, 12, 8)
    panel.yes_button.click()
    assert session.done and len(saved) == 1
    assert saved[0].text == "No more firefighting: Sam owns the launch checklist from Monday"
    assert saved[0].due == date(2026, 12, 8) and saved[0].competency == "delegating"
    leader_lines = [t.text for t in session.turns if t.speaker == "leader"]
    assert leader_lines[-3:] == ['Change it to: "No more firefighting: Sam owns the launch checklist from Monday"',
                                 "2026-12-08", "yes"]
    # an unedited draft is saved with one "yes"
    session = CoachSession(library, CoachContext(), competency="delegating", index=index, today=date(2026, 11, 27))
    panel = ChatPanel(session)
    for msg in SCRIPT:
        panel.send(msg)
    n = len(session.turns)
    panel.yes_button.click()
    assert session.commitment.text == SCRIPT[3] and len(session.turns) == n + 2


def test_chat_panel_hides_the_confirm_buttons_during_a_safety_check_in(library, index):
    session = CoachSession(library, CoachContext(), competency="delegating", index=index, today=date(2026, 11, 27))
    panel = ChatPanel(session)
    for msg in SCRIPT:
        panel.send(msg)
    assert session.stage == "confirm" and panel.confirm_box.layout.display is None
    r = panel.send("Honestly I don't see the point of being here any more.")
    assert r.kind == "support" and r.safety == "crisis" and session.checking_in
    assert panel.confirm_box.layout.display == "none" and not panel.input.disabled
    assert panel.send("I'm safe, let's continue").kind == "question" and panel.confirm_box.layout.display is None
