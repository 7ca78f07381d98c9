"""Properties of the assessment form's question order (``workbench.skills.forms``), with hypothesis."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.skills.forms import FixedDriver, Question, interleaved_order, session_seed

OPTIONS = ((1, "Rarely"), (2, "Sometimes"), (3, "Often"))

# a bank: between 1 and 6 competencies, each with 1 to 8 items
banks = st.lists(st.integers(min_value=1, max_value=8), min_size=1, max_size=6).map(
    lambda sizes: tuple(Question(f"c{c}-{i}", f"c{c}", "?", OPTIONS) for c, n in enumerate(sizes) for i in range(n)))
seeds = st.integers(min_value=0, max_value=2**63 - 1)


@settings(max_examples=200, deadline=None)
@given(banks, seeds)
def test_interleaved_order_is_a_permutation_that_separates_competencies(bank, seed):
    order = interleaved_order(bank, seed)
    assert sorted(order) == sorted(q.item_id for q in bank)
    assert order == interleaved_order(bank, seed)  # a resumed form asks in the same order
    comp = {q.item_id: q.competency for q in bank}
    for i in range(len(order) - 1):
        if comp[order[i]] == comp[order[i + 1]]:
            # neighbours share a competency only once every other competency has run out
            assert {comp[x] for x in order[i:]} == {comp[order[i]]}


@settings(max_examples=200, deadline=None)
@given(banks, seeds, st.data())
def test_the_fixed_driver_asks_the_first_unanswered_and_counts_what_is_left(bank, seed, data):
    order = interleaved_order(bank, seed)
    driver = FixedDriver(order)
    answered = data.draw(st.lists(st.sampled_from(order), unique=True))
    answers = {i: 2 for i in answered}
    left = [i for i in order if i not in answers]
    assert driver.next_item(answers) == (left[0] if left else None)
    assert driver.remaining(answers) == len(left)
    assert (driver.submit_blocker(answers) is None) == (not left)


@given(st.text(min_size=1, max_size=40))
def test_session_seed_is_stable_and_fits_63_bits(session_id):
    assert session_seed(session_id) == session_seed(session_id)
    assert 0 <= session_seed(session_id) < 2**63
