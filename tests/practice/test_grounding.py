"""Retrieval quality on labelled leader questions, competency detection, and citations."""

from __future__ import annotations

from fnmatch import fnmatch
from pathlib import Path

import pytest
import yaml

from workbench.practice.grounding import COACH_KINDS, Grounding

QUESTIONS = yaml.safe_load((Path(__file__).parent / "retrieval_questions.yaml").read_text())["questions"]
HIT_RATE_FLOOR = 0.75
DETECTION_FLOOR = 0.75


def _accepted(doc_id: str, accept: list[str]) -> bool:
    return any(fnmatch(doc_id, a) for a in accept)


@pytest.fixture(scope="module")
def grounding(library, index):
    return Grounding(library, index)


def test_the_labelled_set_is_well_formed(library, index):
    assert len(QUESTIONS) >= 40
    ids = [d.id for d in index.docs]
    for q in QUESTIONS:
        assert q["competency"] in library.competencies, q
        for a in q["accept"]:
            assert any(fnmatch(i, a) for i in ids), f"{a!r} names no document ({q['q']})"


def test_top3_hit_rate(index):
    hits, misses = 0, []
    for q in QUESTIONS:
        top = [h.doc.id for h in index.search(q["q"], k=3, kinds=COACH_KINDS)]
        if any(_accepted(i, q["accept"]) for i in top):
            hits += 1
        else:
            misses.append((q["q"], top))
    rate = hits / len(QUESTIONS)
    print(f"\nretrieval top-3 hit rate: {hits}/{len(QUESTIONS)} = {rate:.3f}")
    for text, top in misses:
        print(f"  miss: {text} -> {top}")
    assert rate >= HIT_RATE_FLOOR


def test_competency_detection_accuracy(grounding):
    right = sum(grounding.detect(q["q"]).competency == q["competency"] for q in QUESTIONS)
    rate = right / len(QUESTIONS)
    print(f"\ncompetency detection accuracy: {right}/{len(QUESTIONS)} = {rate:.3f}")
    assert rate >= DETECTION_FLOOR


def test_detection_needs_content_and_uses_the_prior(grounding):
    for vague in ("hello", "ok", "thanks", "xyzzy plugh", ""):
        assert grounding.detect(vague).competency is None
    d = grounding.detect("My team is in conflict")
    assert d.competency == "conflict" and 0 < d.confidence <= 1
    text = "How do I make our strategy memorable for people?"
    plain = grounding.detect(text)
    tilted = grounding.detect(text, prior={"communicating": 1.0})
    assert tilted.scores["communicating"] > plain.scores.get("communicating", 0.0)


def test_citations_name_their_source(library, grounding):
    tip = grounding.cite("tip", "delegating/tip/0")
    assert tip.source_kind == "module" and tip.source_id == "delegation-basics"
    assert tip.sentence.startswith("From the module 'Delegation basics for first-time leaders': Delegate the outcome")
    fw = grounding.cite("framework", "feedback/framework/0")
    assert "Situation-Behavior-Impact" in fw.sentence and "Steps:" in fw.text
    mod = grounding.cite("module", "feedback-sbi")
    assert mod.sentence.startswith("From the module 'Giving clear feedback with SBI'") and "Try this week" in mod.text
    check = grounding.moment_checklist("conflict-today", "two people shouting at each other in a meeting")
    assert check.sentence.startswith("From the checklist for 'A conflict in my team today': ")
    steps = check.text.rstrip(".").split("; ")
    assert len(steps) == 3 and all(s in library.moments["conflict-today"].checklist for s in steps)
    with pytest.raises(ValueError, match="unknown moment"):
        grounding.moment_checklist("no-such-moment")


def test_suggest_filters_and_skips_what_was_cited(grounding):
    first = grounding.suggest("hand over the launch without micromanaging", "delegating", k=2)
    assert len(first) == 2 and all(c.competency == "delegating" for c in first)
    again = grounding.suggest("hand over the launch without micromanaging", "delegating",
                              exclude=[c.doc_id for c in first], k=2)
    assert not {c.doc_id for c in again} & {c.doc_id for c in first}
    fallback = grounding.suggest("zzqx", "trust")
    assert fallback and fallback[0].competency == "trust"


def test_values_are_cited_in_the_organizations_words(library, grounding):
    import dataclasses

    (cite,) = grounding.value_citations("feedback", "how do I tell him honestly")
    assert cite.source_kind == "value" and cite.source_title == "Candor with care"
    assert cite.sentence == ("From Northwind Cooperative's values: \u201cCandor with care\u201d: We say what we see, "
                             "early and directly, and we do it in a way that respects the person hearing it.")
    # without a competency, the leader's words pick the value
    best = grounding.value_citations(None, "what is best for the members who shop with us", k=2)
    assert best[0].source_title == "Members first" and len(best) == 2
    assert grounding.value_citations("coaching", exclude=["value/2"]) == []  # "Grow each other" already cited
    assert grounding.value_citations("nope") == []
    bare = Grounding(dataclasses.replace(library, organization=None), grounding.index)
    assert bare.value_citations("feedback") == []
    with pytest.raises(ValueError, match="no organization"):
        bare.cite("value", "value/0")
