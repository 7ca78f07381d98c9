"""Hand-made leader profiles over the shipped library."""

from __future__ import annotations

import dataclasses

import pytest

from workbench.recommend import LeaderContext


@pytest.fixture(scope="session")
def make_context(library):
    """A leader at (or ``margin`` above) their role's expectation in every competency, with
    ``gaps`` (competency -> how far below expectation) and any other LeaderContext field."""

    def make(level: str = "experienced", gaps: dict[str, float] | None = None, sd: float = 0.25,
             margin: float = 0.0, leader_id: str = "L0001", **fields) -> LeaderContext:
        expect = library.organization.expectations[level]
        mean = {c: expect[c] + margin - (gaps or {}).get(c, 0.0) for c in library.competencies}
        fields.setdefault("weekly_minutes", 120)
        return LeaderContext(leader_id, level, mean, {c: sd for c in mean}, **fields)

    return make


@pytest.fixture(scope="session")
def with_priorities(library):
    """A copy of the library whose organization has other priority weights."""

    def make(weights: dict[str, float]):
        org = library.organization
        prios = tuple(p.model_copy(update={"weight": weights.get(p.competency, p.weight)}) for p in org.priorities)
        return dataclasses.replace(library, organization=org.model_copy(update={"priorities": prios}))

    return make
