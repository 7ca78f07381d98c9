"""The topic model: its corpus, the held-out evaluation, the weight of words vs moment vs profile, corrections."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from workbench.practice.coach import CoachContext, CoachSession
from workbench.practice.topics import (
    TopicModel,
    context_weights,
    correction,
    default_model,
    informative,
    load_corpus,
    load_names,
    named_topic,
    read_topic,
)

EVAL = yaml.safe_load((Path(__file__).parent / "topic_eval.yaml").read_text())["messages"]
ACCURACY_FLOOR = 0.85  # first turn, before any correction by the leader


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z']+", text.lower()))


@pytest.fixture(scope="module")
def model():
    return default_model()


def test_the_corpus_covers_every_competency_with_messy_frontline_messages(library):
    corpus = load_corpus()
    counts = Counter(m.competency for m in corpus)
    assert set(counts) == set(library.competencies)
    assert min(counts.values()) >= 40 and len(corpus) >= 320
    texts = " ".join(m.text.lower() for m in corpus)
    for setting in ("warehouse", "driver", "shift", "store", "call centre", "depot", "rota"):
        assert setting in texts, setting


def test_the_evaluation_set_is_held_out(library):
    assert len(EVAL) >= 100
    counts = Counter(m["competency"] for m in EVAL)
    assert set(counts) == set(library.competencies) and min(counts.values()) >= 10
    assert sum("moment" in m for m in EVAL) >= 10
    misleading = [m for m in EVAL if m.get("development_areas") and m["development_areas"][0] != m["competency"]]
    assert len(misleading) >= 30
    for m in EVAL:
        assert m.get("moment") is None or m["moment"] in library.moments, m
        assert all(a in library.competencies for a in m.get("development_areas", ())), m
    # no evaluation message is in the training corpus, not even nearly (word overlap)
    corpus = [_words(c.text) for c in load_corpus()]
    for m in EVAL:
        w = _words(m["text"])
        closest = max(len(w & c) / len(w | c) for c in corpus)
        assert closest < 0.6, (m["text"], closest)


def test_first_turn_topic_accuracy_on_the_held_out_set(library, index):
    """End to end: a new conversation per message, with its moment and profile; the topic the coach
    names after the first message."""
    right, misses = 0, []
    for m in EVAL:
        ctx = CoachContext(development_areas=tuple(m.get("development_areas", ())), moment=m.get("moment"))
        s = CoachSession(library, ctx, index=index)
        r = s.send(m["text"])
        # a safety false alarm is a miss: the coach did not read the topic
        if r.question and r.question.startswith("This sounds like ") and s.state.competency == m["competency"]:
            right += 1
        else:
            misses.append((m["competency"], s.state.competency, m["text"]))
    rate = right / len(EVAL)
    print(f"\nfirst-turn topic accuracy: {right}/{len(EVAL)} = {rate:.3f}")
    for want, got, text in misses:
        print(f"  {want} -> {got}: {text}")
    assert rate >= ACCURACY_FLOOR


@pytest.mark.parametrize("text,moment,areas,want", [
    # the three misreadings the issue reports: the leader's words (and moment) must beat the profile
    ("Two of my team had a shouting match in the office and it's still tense", "conflict-today", ("delegating",),
     "conflict"),
    ("My emails are way too long and people miss the important bit", None, ("decisions",), "communicating"),
    ("I promised the team I'd sort the overtime and then didn't, and now they don't believe me", None,
     ("delegating",), "trust"),
])
def test_words_and_moment_outweigh_the_development_areas(library, model, text, moment, areas, want):
    mc = library.moments[moment].competencies if moment else ()
    r = read_topic(text, model, list(library.competencies), mc, areas)
    assert r.competency == want and r.source in ("words", "moment"), r


class FixedWords:
    """A stand-in for the classifier with fixed word probabilities, to test how the context combines."""

    def __init__(self, p):
        self.p = p
        self.classes_ = tuple(p)

    def probabilities(self, text):
        return dict(self.p)


def test_the_profile_only_breaks_near_ties_and_the_moment_weighs_more():
    comps = ["a", "b", "c"]
    near = FixedWords({"a": 0.40, "b": 0.37, "c": 0.23})
    clear = FixedWords({"a": 0.45, "b": 0.35, "c": 0.20})
    text = "my rota problem"
    assert read_topic(text, near, comps, development_areas=["b"]).competency == "b"  # within 15%: the profile decides
    r = read_topic(text, clear, comps, development_areas=["b"])
    assert r.competency == "a" and r.source == "words" and r.runner_up == "b"
    assert read_topic(text, clear, comps, moment_competencies=["b"]).source == "moment"  # the moment can tip it ...
    strong = FixedWords({"a": 0.70, "b": 0.20, "c": 0.10})
    assert read_topic(text, strong, comps, moment_competencies=["b"], development_areas=["b"]).competency == "a"  # ... not clear words
    w = context_weights(comps, ["a", "b"], ["c", "b", "a"])
    assert w["a"] > w["b"] > w["c"] > 1.0 and max(w.values()) < 1.6 * 1.15 + 1e-9


def test_uninformative_messages_fall_back_to_moment_then_profile(library, model):
    comps = list(library.competencies)
    assert not informative("I just want to be a better leader at work") and informative("my rota is a mess")
    r = read_topic("I want to be a better leader", model, comps, ("conflict", "communicating"), ("feedback",))
    assert (r.competency, r.source, r.informative) == ("conflict", "moment", False)
    r = read_topic("help", model, comps, (), ("feedback", "trust"))
    assert (r.competency, r.source, r.runner_up) == ("feedback", "development-area", "trust")
    assert read_topic("hello", model, comps).competency is None


@pytest.mark.parametrize("text,want", [
    ("no, it's more about giving feedback", "feedback"),
    ("it's more of a delegation thing really", "delegating"),
    ("Actually it's really about trust, not conflict", "trust"),
    ("more about communication than conflict", "communicating"),
    ("can we focus on the decision instead", "decisions"),
    ("this is about leading change", "change"),
    ("I could give her feedback about it on Monday", None),  # an answer that mentions a topic is no correction
    ("I'll look at the new system with Sam", None),
    ("we had a row about the rota", None),
])
def test_correction(text, want):
    assert correction(text) == want


def test_named_topic_by_name_or_synonym():
    assert named_topic("feedback") == "feedback"
    assert named_topic("the micromanaging side of it") == "delegating"
    assert named_topic("mentoring I suppose") == "coaching"
    assert named_topic("not conflict, more the trust bit") == "trust"
    assert named_topic("nothing like that") is None


def test_model_contract_and_errors(tmp_path):
    m = TopicModel().fit(["a fight at work", "a row in the yard", "send the email", "write an update"],
                         ["conflict", "conflict", "communicating", "communicating"])
    assert m.classes_ == ("communicating", "conflict")
    p = m.probabilities("a fight")
    assert abs(sum(p.values()) - 1) < 1e-9 and p["conflict"] > p["communicating"]
    with pytest.raises(ValueError, match="2 texts but 1 labels"):
        TopicModel().fit(["a", "b"], ["x"])
    with pytest.raises(ValueError, match="at least two competencies"):
        TopicModel().fit(["a", "b"], ["x", "x"])
    with pytest.raises(RuntimeError, match="not fitted"):
        TopicModel().probabilities("x")
    bad = tmp_path / "corpus.yaml"
    bad.write_text("corpus:\n  conflict: [\"ok\", \"\"]\n")
    with pytest.raises(ValueError, match=r"corpus\.yaml: corpus\.conflict\[1\] must be a non-empty string"):
        load_corpus(bad)
    bad.write_text("messages: []\n")
    with pytest.raises(ValueError, match="corpus.yaml: expected a mapping"):
        load_corpus(bad)
    with pytest.raises(ValueError, match="names.yaml: expected"):
        (tmp_path / "names.yaml").write_text("names: []\n")
        load_names(tmp_path / "names.yaml")


def test_default_model_is_trained_once(model):
    assert default_model() is model and set(model.classes_) == set(load_names())
