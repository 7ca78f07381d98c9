"""The assessment form, driven the way a leader or a rater would drive it."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from workbench.apps.assessment_widgets import AssessmentForm
from workbench.demo import demo_item_params
from workbench.skills.forms import AdaptiveDriver, FixedDriver, Question, interleaved_order
from workbench.skills.grm import simulate_responses

RHO = 0.45


def classes(widget) -> set[str]:
    found = set(widget._dom_classes)
    for c in getattr(widget, "children", ()):
        found |= classes(c)
    return found


def questions_for(library, role="self"):
    return tuple(Question(i.id, i.competency, i.wording.for_role(role), tuple(i.labels.items()))
                 for i in library.items.values() if i.asks(role))


@pytest.fixture(scope="module")
def questions(library):
    return questions_for(library)


@pytest.fixture(scope="module")
def params(library):
    return demo_item_params(library, seed=11)


def correlation(params):
    D = len(params.dimensions)
    return np.full((D, D), RHO) + (1 - RHO) * np.eye(D)


def fixed_driver(questions, seed=5):
    return FixedDriver(interleaved_order(questions, seed))


def adaptive_driver(params, seed=5):
    return AdaptiveDriver(params, correlation(params), seed)


def respondent(params, theta, seed):
    """A consistent simulated respondent: item id -> the label they tick (reverse keying undone)."""
    y = simulate_responses(np.full((1, len(params.dimensions)), theta), params, np.random.default_rng(seed))[0]
    out = {}
    for j, iid in enumerate(params.item_ids):
        K = int(params.n_categories[j])
        idx = K - 1 - y[j] if params.reverse[j] else y[j]
        out[iid] = int(params.first_category[j] + idx)
    return out


def test_form_has_its_stable_classes_and_one_button_per_option(questions):
    form = AssessmentForm(questions, fixed_driver(questions), title="Your self-assessment")
    assert {"wb-assessment", "wb-assessment-question", "wb-assessment-option", "wb-assessment-progress",
            "wb-assessment-back", "wb-assessment-submit", "wb-assessment-error"} <= classes(form.widget)
    q = form.questions[form.current_item]
    buttons = form.option_buttons
    assert [b.description for b in buttons] == [label for _, label in q.options]
    assert all("wb-assessment-option" in b._dom_classes for b in buttons)
    assert q.text.split()[0] in form.question.value
    assert f"0 of {len(questions)}" in form.progress.value
    assert form.back_button.disabled and form.submit_button.disabled


def test_clicking_an_option_saves_before_the_next_question_appears(questions):
    saved = []
    form = AssessmentForm(questions, fixed_driver(questions))

    def on_answer(item_id, value):
        assert form.current_item == item_id  # still on screen while it is being saved
        saved.append((item_id, value))

    form.on_answer = on_answer
    first = form.current_item
    agree = next(b for b in form.option_buttons if b.description in ("Agree", "Often"))
    agree.click()
    assert saved == [(first, 4)]
    assert form.answered == {first: 4}
    assert form.current_item not in (None, first)
    assert f"1 of {len(questions)}" in form.progress.value and not form.back_button.disabled


def test_a_value_outside_the_scale_is_refused_before_any_callback(questions):
    calls = []
    form = AssessmentForm(questions, fixed_driver(questions), on_answer=lambda i, v: calls.append((i, v)))
    item = form.current_item
    for bad in (0, 6, "4", 4.0, True, None):
        with pytest.raises(ValueError):
            form.answer(bad)
    assert calls == [] and form.answered == {} and form.current_item == item
    first_label = form.questions[item].options[0][1]
    assert "is not one of the answers" in form._cb.error.value and first_label in form._cb.error.value
    with pytest.raises(ValueError, match="not the one on screen"):
        form.answer("not-" + item, 3)
    assert form.answer(item, np.int64(3)) and calls == [(item, 3)] and type(calls[0][1]) is int
    assert form._cb.error.value == ""


def test_a_failing_save_keeps_the_question_and_shows_the_error(questions):
    fail = [True]

    def on_answer(item_id, value):
        if fail[0]:
            raise RuntimeError("the database is busy")

    form = AssessmentForm(questions, fixed_driver(questions), on_answer=on_answer)
    item = form.current_item
    form.option_buttons[1].click()
    assert form.current_item == item and form.answered == {}
    assert "the database is busy" in form._cb.error.value and "not saved" in form._cb.error.value
    assert f"0 of {len(questions)}" in form.progress.value
    fail[0] = False
    form.option_buttons[1].click()
    assert form.answered == {item: 2} and form.current_item != item and form._cb.error.value == ""


def test_back_on_a_fixed_form_changes_an_earlier_answer(questions):
    saved = []
    form = AssessmentForm(questions, fixed_driver(questions), on_answer=lambda i, v: saved.append((i, v)))
    items = []
    for v in (2, 3, 4):
        items.append(form.current_item)
        form.answer(v)
    fourth = form.current_item
    assert form.back() and form.back()
    assert form.current_item == items[1]
    chosen = [b for b in form.option_buttons if "wb-assessment-chosen" in b._dom_classes]
    assert [b.description for b in chosen] == [dict(form.questions[items[1]].options)[3]]
    form.answer(5)  # changed: saved, then one question forward
    assert saved[-1] == (items[1], 5) and form.current_item == items[2]
    n_saved = len(saved)
    form.answer(4)  # unchanged: nothing to save
    assert len(saved) == n_saved and form.current_item == fourth
    assert form.answered == {items[0]: 2, items[1]: 5, items[2]: 4}
    assert list(form.answered) == items  # the order answers were first given is kept
    while form.back():
        pass
    assert form.current_item == items[0] and form.back_button.disabled


def test_back_on_an_adaptive_form_reaches_only_the_latest_answer(params, questions):
    saved = []
    form = AssessmentForm(questions, adaptive_driver(params), on_answer=lambda i, v: saved.append((i, v)))
    a = form.current_item
    form.answer(4)
    b = form.current_item
    form.answer(2)
    c = form.current_item
    assert form.back() and form.current_item == b
    assert not form.can_go_back and not form.back() and form.current_item == b
    form.answer(2)  # kept: the same next question comes back
    assert form.current_item == c and len(saved) == 2
    form.back()
    form.answer(5)  # changed: saved, and the next question is chosen from the new answer
    assert saved[-1] == (b, 5) and form.answered == {a: 4, b: 5}
    fresh = AssessmentForm(questions, adaptive_driver(params), answers={a: 4, b: 5})
    assert form.current_item == fresh.current_item


@pytest.mark.parametrize("kind", ["fixed", "adaptive"])
def test_a_resumed_form_continues_with_the_same_next_question(kind, params, questions):
    make = (lambda: fixed_driver(questions, seed=9)) if kind == "fixed" else (lambda: adaptive_driver(params, seed=9))
    answers = respondent(params, 0.4, seed=2)
    live = AssessmentForm(questions, make())
    seen = []
    for _ in range(11):
        seen.append(live.current_item)
        live.answer(answers[live.current_item])
    resumed = AssessmentForm(questions, make(), answers=live.answered)
    assert resumed.current_item == live.current_item is not None
    assert resumed.answered == live.answered and list(resumed.answered) == seen
    assert resumed.progress.value == live.progress.value
    # and both carry on identically
    for _ in range(5):
        v = answers[live.current_item]
        live.answer(v)
        resumed.answer(v)
        assert resumed.current_item == live.current_item


def test_an_adaptive_form_stops_before_the_whole_bank(params, questions):
    answers = respondent(params, -0.3, seed=4)
    submitted = []
    form = AssessmentForm(questions, adaptive_driver(params, seed=1), on_answer=lambda i, v: None,
                          on_submit=lambda: submitted.append(True))
    assert "0 answered · about" in form.progress.value
    early = []
    while form.current_item is not None:
        early.append(form.submit_button.disabled)
        form.answer(answers[form.current_item])
        assert len(form.answered) <= params.n_items
    n = len(form.answered)
    assert 16 <= n < params.n_items - 5
    per_competency = np.bincount([params.dimension[params.item_ids.index(i)] for i in form.answered],
                                 minlength=len(params.dimensions))
    assert per_competency.min() >= 2
    assert all(early[:16]) and not any(early[16:])  # submitting opens after two questions per competency
    assert form.finished and "that is enough" in form.progress.value and not form.submit_button.disabled
    assert form.submit() and submitted == [True]


def test_submit_is_refused_before_the_minimum(params, questions):
    submitted = []
    form = AssessmentForm(questions, adaptive_driver(params), on_submit=lambda: submitted.append(1))
    assert not form.submit() and "Answer at least one question" in form._cb.error.value
    form.answer(3)
    assert not form.submit() and "15 more questions" in form._cb.error.value
    assert submitted == [] and not form.done


def test_submitting_closes_the_form_for_good(questions):
    submitted = []
    answers = {q.item_id: 3 for q in questions}
    form = AssessmentForm(questions, fixed_driver(questions), answers=answers,
                          on_submit=lambda: submitted.append(1), done_message="Thanks, Ada.")
    assert form.finished and f"{len(questions)} of {len(questions)}" in form.progress.value
    form.submit_button.click()
    assert submitted == [1] and form.done and form.current_item is None
    assert "wb-assessment-done" in classes(form.widget) and "Thanks, Ada." in form.done_panel.value
    assert not {"wb-assessment-question", "wb-assessment-option", "wb-assessment-submit"} & classes(form.widget)
    with pytest.raises(ValueError, match="already submitted"):
        form.answer(3)
    assert not form.back() and form.submit() and submitted == [1]


def test_a_failing_submit_keeps_the_form_open(questions):
    def on_submit():
        raise RuntimeError("connection lost")

    form = AssessmentForm(questions, fixed_driver(questions), answers={q.item_id: 2 for q in questions},
                          on_submit=on_submit)
    assert not form.submit() and not form.done
    assert "connection lost" in form._cb.error.value and "wb-assessment-submit" in classes(form.widget)


def test_a_submitted_session_shows_only_the_thank_you_panel(questions):
    calls = []
    form = AssessmentForm(questions, fixed_driver(questions), answers={questions[0].item_id: 4}, submitted=True,
                          on_answer=lambda *a: calls.append(a))
    assert form.done and form.current_item is None
    assert "wb-assessment-done" in classes(form.widget)
    assert not {"wb-assessment-question", "wb-assessment-option", "wb-assessment-back"} & classes(form.widget)
    with pytest.raises(ValueError):
        form.answer(4)
    assert calls == []


def test_fixed_order_interleaves_competencies(library, questions):
    order = interleaved_order(questions, seed=3)
    assert sorted(order) == sorted(q.item_id for q in questions)
    comp = {q.item_id: q.competency for q in questions}
    assert all(comp[a] != comp[b] for a, b in zip(order, order[1:], strict=False))
    assert order == interleaved_order(questions, seed=3) and order != interleaved_order(questions, seed=4)
    rater = questions_for(library, "peer")
    assert rater[0].text != questions[0].text and "colleague" in rater[0].text


def rater_questions(library, role="peer"):
    from workbench.services.assessment import _questions

    return _questions(library, role)


def test_a_rater_can_answer_not_observed_and_it_is_saved_as_missing(library):
    qs = rater_questions(library)
    assert all(q.not_observed for q in qs) and not any(q.not_observed for q in questions_for(library))
    saved = []
    form = AssessmentForm(qs, fixed_driver(qs), on_answer=lambda i, v: saved.append((i, v)))
    buttons = form.option_buttons
    assert len(buttons) == 6 and "wb-assessment-not-observed" in buttons[-1]._dom_classes
    assert buttons[-1].description == "Not observed / can't say"
    first = form.current_item
    buttons[-1].click()
    assert saved == [(first, None)] and form.answered == {first: None} and form.current_item != first
    form.back()
    assert "wb-assessment-chosen" in form.option_buttons[-1]._dom_classes  # the earlier "not observed" shows
    own = AssessmentForm(questions_for(library), fixed_driver(questions_for(library)))
    assert len(own.option_buttons) == 5  # the leader's own form: no "not observed"
    with pytest.raises(ValueError, match="not one of the answers"):
        own.answer(None)


def test_a_rater_may_submit_once_each_competency_has_three_answers(library):
    from workbench.skills.forms import MIN_RATER_ANSWERS_PER_COMPETENCY as k

    qs = rater_questions(library, "peer")
    comp = {q.item_id: q.competency for q in qs}
    n_comp = len(set(comp.values()))
    assert len(qs) < len(library.items)  # peers get a subset
    driver = FixedDriver(interleaved_order(qs, 2), comp, k)
    form = AssessmentForm(qs, driver)
    answered = 0
    while form.submit_button.disabled:
        form.answer(None if answered % 2 else 3)  # half "not observed": they count towards the rule
        answered += 1
    counts = Counter(comp[i] for i in form.answered)
    assert all(counts[c] >= min(k, sum(v == c for v in comp.values())) for c in set(comp.values()))
    assert answered <= k * n_comp + n_comp  # the interleaved order reaches the rule without detours
    assert answered < len(qs)
    only_none = {q.item_id: None for q in qs}
    assert "on the scale" in driver.submit_blocker(only_none)
    assert driver.submit_blocker({i: 4 for i in only_none}) is None
