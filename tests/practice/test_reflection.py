"""Paraphrasing the leader's own words: key phrase, point of view, options, actions."""

from __future__ import annotations

import pytest

from workbench.practice.reflection import (
    action_from,
    key_phrase,
    options_from,
    paraphrase,
    second_person,
)


@pytest.mark.parametrize("text,expected", [
    ("I want to get better at delegating to Sam.", "you want to get better at delegating to Sam"),
    ("Well, I think my team keeps missing deadlines.", "your team keeps missing deadlines"),
    ("How do I stop doing everything myself?", "you want to know how to stop doing everything yourself"),
    ("Should I tell Ana about the client's complaint?", "you are weighing whether to tell Ana about the client's complaint"),
    ("We are behind on the migration and our customers are complaining.",
     "you are behind on the migration and your customers are complaining"),
])
def test_paraphrase_turns_the_point_of_view(text, expected):
    assert paraphrase(text) == expected


def test_key_phrase_picks_the_informative_clause_and_keeps_words():
    text = "Yeah. So, honestly, it's hard, because the last handover to Priya went badly and she missed the launch date."
    phrase = key_phrase(text)
    assert "handover to Priya went badly" in phrase and not phrase.lower().startswith(("yeah", "so", "honestly"))
    assert key_phrase("ok") == "" and paraphrase("   ") == ""
    long = "I " + " ".join(f"word{i}" for i in range(40))
    assert key_phrase(long).endswith("…") and len(key_phrase(long).split()) <= 21


def test_second_person_swaps_first_person_only():
    assert second_person("I'm sure my boss told me we could do it ourselves") == \
        "you're sure your boss told you you could do it yourselves"
    assert second_person("My manager and I") == "Your manager and you"
    assert second_person("Sam and Ana") == "Sam and Ana"


def test_options_and_actions():
    opts = options_from("I could ask Sam to own the checklist, or split it between Sam and Ana, or talk to my manager")
    assert opts == ["ask Sam to own the checklist", "split it between Sam and Ana", "talk to your manager"]
    assert action_from("I'll ask Sam to own the launch checklist") == "Ask Sam to own the launch checklist"
    assert action_from("Honestly, I'm going to book a one-on-one with Ben.") == "Book a one-on-one with Ben"
    assert action_from("Book the room for the retro") == "Book the room for the retro"
    assert action_from("hmm") == ""
