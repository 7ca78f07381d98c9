"""The test-wise cue check: best option longest, length ratio, absurd options, answer position."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from workbench.content import Library, cue_report
from workbench.content.checks import (
    CUE_ALPHA,
    MAX_LENGTH_RATIO,
    MIN_CUE_ITEMS,
    CueItem,
    cue_figures,
    cue_problems,
    knowledge_check_items,
    poisson_binomial_sf,
    scenario_items,
)

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"

SAME = ("Ask what got in the way first", "Set a new date with the team", "Write down the agreed next step",
        "Check in again on Friday morning")


def item(i: int, answer: int, options=SAME) -> CueItem:
    return CueItem("modules/x.md", f"knowledge_check.{i}.options", tuple(options), frozenset({answer}))


def test_poisson_binomial_equals_the_binomial_test_when_chances_are_equal():
    for k, n, p in [(0, 10, 0.25), (5, 20, 0.25), (12, 30, 1 / 3), (30, 30, 0.5)]:
        assert poisson_binomial_sf(k, [p] * n) == pytest.approx(stats.binom.sf(k - 1, n, p), rel=1e-9, abs=1e-15)
    # mixed chance levels: the mean of the distribution is the sum of the chances
    ps = [1 / 3] * 7 + [1 / 4] * 9
    dist = [poisson_binomial_sf(k, ps) - poisson_binomial_sf(k + 1, ps) for k in range(len(ps) + 1)]
    assert sum(dist) == pytest.approx(1.0) and np.dot(range(len(ps) + 1), dist) == pytest.approx(sum(ps))


def test_the_longest_option_as_the_key_fails_and_rotating_keys_of_equal_length_pass():
    longest = [item(i, 3, SAME[:3] + (SAME[3] + " and agree who tells the customer",)) for i in range(20)]
    fig = cue_figures("knowledge-check questions", longest)
    assert fig.longest == 20 and fig.longest_p < 1e-6 and fig.mean_ratio > MAX_LENGTH_RATIO
    fields = {p.field for p in cue_problems(fig, longest, "modules/")}
    assert {"longest", "length-ratio", "answer-position"} <= fields

    never = [item(i, i % 3, SAME[:3] + (SAME[3] + " and agree who tells the customer",)) for i in range(21)]
    fig = cue_figures("knowledge-check questions", never)
    assert fig.longest == 0 and fig.longest_p == 1.0 and fig.longest_p_low == pytest.approx(0.75 ** 21)
    fields = {p.field for p in cue_problems(fig, never, "modules/")}
    assert "longest" not in fields and "longest-below-chance" in fields  # "never pick the longest" pays

    fair = [item(i, i % 4) for i in range(20)]
    fig = cue_figures("knowledge-check questions", fair)
    assert fig.position_counts == (5, 5, 5, 5) and fig.position_p > CUE_ALPHA
    assert 0.8 < fig.mean_ratio < 1.2
    assert cue_problems(fig, fair, "modules/") == []


def test_longest_at_chance_level_is_not_a_problem_but_well_above_it_is():
    # option 3 is the longest; keys rotate, so the key is the longest in a quarter of the items
    opts = SAME[:3] + ("Check in again on Friday morning at nine",)
    at_chance = [item(i, i % 4, opts) for i in range(24)]
    fig = cue_figures("knowledge-check questions", at_chance)
    assert fig.longest == 6 and fig.longest_expected == pytest.approx(6.0) and fig.longest_p > 0.4
    assert "longest" not in {p.field for p in cue_problems(fig, at_chance, "modules/")}
    # 12 of 24 keyed on the longest: binomial(24, 1/4) gives P(X >= 12) < 0.01
    above = [item(i, 3 if i % 2 else i % 3, opts) for i in range(24)]
    fig = cue_figures("knowledge-check questions", above)
    assert fig.longest == 12 and fig.longest_p < 0.01
    assert "longest" in {p.field for p in cue_problems(fig, above, "modules/")}


def test_absurd_distractors_are_named_with_their_marker():
    opts = ("Tell the team who is to blame for the delay", "Ask the team what got in the way",
            "Threaten to escalate it to your director", "Ignore it and hope it settles")
    marked = [item(i, 1, opts) for i in range(12)]
    assert marked[0].marked_distractors() == [(0, "blame"), (2, "threat"), (3, "ignore it")]
    problems = cue_problems(cue_figures("knowledge-check questions", marked), marked, "modules/")
    named = [p for p in problems if p.field == "knowledge_check.0.options.0"]
    assert named and "(blame)" in named[0].reason
    # a marker in the keyed option is not a give-away, and plain words are not markers
    key = CueItem("f", "q", ("Ask who owns the blameless review", "Tell them to pretend it is fine"), frozenset({1}))
    assert key.marked_distractors() == []
    assert CueItem("f", "q", ("Agree the next step", "Delay the launch"), frozenset({0})).marked_distractors() == []


def test_small_groups_are_reported_but_not_judged():
    few = [item(i, 3, SAME[:3] + (SAME[3] * 3,)) for i in range(MIN_CUE_ITEMS - 1)]
    fig = cue_figures("knowledge-check questions", few)
    assert fig.longest == MIN_CUE_ITEMS - 1 and cue_problems(fig, few, "modules/") == []
    assert "9 items" in fig.summary()


def test_ties_for_best_at_a_decision_point_count_as_best():
    lib = Library.load(FIXTURES / "mini")
    items = scenario_items(lib.scenarios)
    assert items and all(it.best and max(it.best) < it.k for it in items)
    sc = next(iter(lib.scenarios.values()))
    node_id, node = next((n, nd) for n, nd in sc.nodes.items() if nd.choices)
    totals = [sum(c.quality.values()) for c in node.choices]
    first = next(it for it in items if it.field == f"nodes.{node_id}.choices")
    assert first.best == frozenset(i for i, t in enumerate(totals) if t == max(totals))


def test_the_shipped_knowledge_checks_pass_the_cue_check():
    lib = Library.load(REPO / "content")
    report = cue_report(lib)
    kc = report.knowledge_checks
    assert kc.n == len(knowledge_check_items(lib.modules)) >= 100
    assert not [p for p in report.problems if p.file.startswith("modules/")], [str(p) for p in report.problems]
    assert kc.longest_p >= CUE_ALPHA and kc.mean_ratio <= MAX_LENGTH_RATIO and kc.marked == 0


def test_cli_prints_the_cue_figures(tmp_path):
    out = subprocess.run([sys.executable, "-m", "workbench.cli", "content", "check", str(FIXTURES / "mini")],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("test-wise cues:")]
    assert len(lines) == 3 and "knowledge-check questions: 4 items" in lines[0]
    assert "scenario decision points" in lines[1] and "mean length ratio" in lines[1]
    assert "two defensible options" in lines[2] and "scenario decision points" in lines[2]


def test_two_defensible_options_are_counted_and_too_few_fail():
    from workbench.content.checks import (
        MIN_DEFENSIBLE_SHARE,
        DefensibleFigures,
        defensible_figures,
        defensible_problems,
        has_two_defensible,
    )
    from workbench.content.schema import Node

    def node(*qualities):
        return Node(text="t", choices=[{"id": f"c{i}", "text": "x", "next": "end", "feedback": "f", "behavior": "b",
                                        "quality": q, "instead": "i", "modules": ["m"]}
                                       for i, q in enumerate(qualities)])

    assert has_two_defensible(node({"a": 3, "b": 3}, {"a": 2, "b": 2}, {"a": 0, "b": 1}))
    assert has_two_defensible(node({"a": 3}, {"a": 2}))
    # a 3/1 split averages 2: still defensible; a 2/1 split (1.5) is not, nor is one strong option alone
    assert has_two_defensible(node({"a": 3, "b": 3}, {"a": 3, "b": 1}))
    assert not has_two_defensible(node({"a": 3, "b": 3}, {"a": 2, "b": 1}, {"a": 1, "b": 1}))
    lib = Library.load(FIXTURES / "mini")
    fig = defensible_figures(lib.scenarios)
    assert fig.n == sum(m for *_, m in fig.per_scenario) == len(scenario_items(lib.scenarios))
    # the rule bites at half of a library of at least MIN_CUE_ITEMS decision points, not below that size
    half = int(MIN_DEFENSIBLE_SHARE * 20)
    assert defensible_problems(DefensibleFigures(20, half, (("s", half, 20),)), "scenarios/") == []
    low = defensible_problems(DefensibleFigures(20, half - 1, (("s", half - 1, 20),)), "scenarios/")
    assert [p.field for p in low] == ["two-defensible"] and f"only {half - 1} of 20" in low[0].reason
    assert defensible_problems(DefensibleFigures(MIN_CUE_ITEMS - 1, 0, ()), "scenarios/") == []
    assert "below half: s 9/20" in DefensibleFigures(20, 9, (("s", 9, 20),)).summary()


# three options of clearly different lengths: 0 short, 1 middle, 2 long
SHORT_MID_LONG = ("Ask what got in the way", "Ask what got in the way this week",
                  "Ask what got in the way this week and what would help")


def three(i: int, answer: int) -> CueItem:
    return CueItem("scenarios/x.yaml", f"nodes.n{i}.choices", SHORT_MID_LONG, frozenset({answer}))


def test_best_option_rarely_the_longest_fails_as_a_reverse_cue():
    # 30 items, chance 1/3 each; the key is never the longest: P(X <= 0) = (2/3)^30, far below alpha
    never = [three(i, i % 2) for i in range(30)]
    fig = cue_figures("scenario decision points", never)
    assert fig.longest == 0 and fig.longest_p_low == pytest.approx((2 / 3) ** 30)
    reasons = {p.field: p.reason for p in cue_problems(fig, never, "scenarios/")}
    assert "longest-below-chance" in reasons and "rules out the longest" in reasons["longest-below-chance"]
    # just inside the acceptance region: 6 of 30 longest, binomial(30, 1/3) gives P(X <= 6) > alpha
    few = [three(i, 2 if i < 6 else i % 2) for i in range(30)]
    fig = cue_figures("scenario decision points", few)
    assert fig.longest == 6 and fig.longest_p_low == pytest.approx(stats.binom.cdf(6, 30, 1 / 3))
    assert fig.longest_p_low > CUE_ALPHA
    assert "longest-below-chance" not in {p.field for p in cue_problems(fig, few, "scenarios/")}


def test_best_option_the_shortest_more_often_than_chance_fails():
    # 16 of 30 keyed on the shortest, the rest split over middle and long: binomial(30, 1/3) P(X >= 16) < 0.05
    short = [three(i, 0 if i < 16 else 1 + i % 2) for i in range(30)]
    fig = cue_figures("scenario decision points", short)
    assert fig.shortest == 16 and fig.shortest_p == pytest.approx(stats.binom.sf(15, 30, 1 / 3))
    assert fig.shortest_p < CUE_ALPHA and fig.longest_p_low > CUE_ALPHA
    fields = {p.field for p in cue_problems(fig, short, "scenarios/")}
    assert "shortest" in fields and "longest" not in fields
    assert "best option shortest in 16 (53%" in fig.summary()
    # a tie for shortest is not "the shortest"
    tied = CueItem("f", "q", ("Ask them", "Tell Ann", "Ask what got in the way"), frozenset({0}))
    assert tied.best_is_shortest() is False and three(0, 0).best_is_shortest() and not three(0, 1).best_is_shortest()


def test_keys_spread_evenly_over_short_middle_and_long_pass_both_sides():
    balanced = [three(i, i % 3) for i in range(30)]
    fig = cue_figures("scenario decision points", balanced)
    assert fig.longest == fig.shortest == 10 and fig.longest_expected == pytest.approx(10.0)
    assert fig.longest_p_low > 0.5 and fig.shortest_p > 0.5 and fig.longest_p > 0.5
    assert cue_problems(fig, balanced, "scenarios/") == []


def test_the_shipped_scenarios_carry_no_length_cue_in_either_direction():
    report = cue_report(Library.load(REPO / "content"))
    sc = report.scenarios
    assert sc.n >= 80
    assert min(sc.longest_p, sc.longest_p_low, sc.shortest_p) >= CUE_ALPHA, sc.summary()
    assert 0.9 <= sc.mean_ratio <= 1.1
    assert not [p for p in report.problems if p.field in {"longest", "longest-below-chance", "shortest"}]
