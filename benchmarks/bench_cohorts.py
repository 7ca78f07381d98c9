"""Peer-group benchmark: the local-search grouping against random grouping, and its run time.

Cohorts are generated with :func:`workbench.cohorts.groups.synthetic_cohort` (8 competencies,
theta ~ N(0, 1), SDs uniform on 0.3..0.6, 40% first-time leaders, 5 functions, fixed seeds),
with one forbidden pair (manager / direct report) for every 7 leaders. Groups of 4 to 6.
"""

from __future__ import annotations

from collections.abc import Callable

from workbench.cohorts.groups import form_groups, synthetic_cohort

from ._common import BenchResult, Column, timed

COMPETENCIES = ("coaching", "delegating", "feedback", "conflict", "change", "trust", "decisions", "communicating")
CASES = ((60, 30_060), (200, 30_200))
SEED = 7

COLUMNS = [
    Column("leaders", "leaders"),
    Column("groups", "groups"),
    Column("restarts", "restarts"),
    Column("coverage", "coverage (ours)", "{:.3f}"),
    Column("random", "coverage (random)", "{:.3f}"),
    Column("gain", "gain", "{:+.3f}"),
    Column("level_mix", "level mix", "{:.3f}"),
    Column("function_mix", "function mix", "{:.3f}"),
    Column("seconds", "seconds", "{:.2f}"),
    Column("violations", "constraint violations"),
]


def run(quick: bool = False, log: Callable[[str], None] = print) -> BenchResult:
    """Group 60 and 200 generated leaders; compare coverage with 50 random groupings of the same sizes."""
    restarts_list = (1, 4) if quick else (1, 4, 8)
    result = BenchResult("cohorts", "Peer groups: local search vs random grouping (groups of 4-6)", COLUMNS,
                         meta={"cases": CASES, "seed": SEED, "restarts": restarts_list, "n_random": 50})
    for n, cohort_seed in CASES:
        members = synthetic_cohort(n, COMPETENCIES, seed=cohort_seed)
        forbidden = [(members[i].leader_id, members[i + 1].leader_id) for i in range(0, n - 1, 7)]
        for restarts in restarts_list:
            log(f"cohorts: {n} leaders, {restarts} restart(s)")
            secs, g = timed(lambda: form_groups(members, forbidden=forbidden, seed=SEED, restarts=restarts))  # noqa: B023
            violations = sum(g.group_of(a) == g.group_of(b) for a, b in forbidden)
            violations += sum(not 4 <= len(x) <= 6 for x in g.groups)
            violations += int(sorted(x for grp in g.groups for x in grp) != sorted(m.leader_id for m in members))
            result.rows.append({
                "leaders": n, "groups": len(g.groups), "restarts": restarts, "coverage": g.coverage,
                "random": g.random_coverage, "gain": g.coverage - g.random_coverage,
                "level_mix": g.breakdown["level_mix"], "function_mix": g.breakdown["function_mix"],
                "seconds": secs, "violations": violations, "forbidden_pairs": len(forbidden),
                "objective": g.objective,
            })
    result.notes += [
        "coverage: share of (leader, top-2 development area) pairs with a group-mate strong in that competency "
        "(strong: mean - 0.5 sd >= 0.5)",
        "random: mean coverage of 50 random permutations cut into the same group sizes",
        "seconds include the random baseline; one forbidden pair per 7 leaders",
    ]
    return result
