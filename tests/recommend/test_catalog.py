"""The catalog (module features as arrays) and context batches."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from workbench.recommend import ContextBatch, LeaderContext, catalog_for


def test_catalog_is_built_once_per_library(library, with_priorities):
    cat = catalog_for(library)
    assert catalog_for(library) is cat
    other = with_priorities({"conflict": 1.0})
    assert catalog_for(other) is not cat
    assert catalog_for(other).priority[cat.competency_index["conflict"]] == 1.0


def test_catalog_arrays_describe_the_modules(library):
    cat = catalog_for(library)
    j = cat.module_index["levels-of-delegation"]
    assert cat.competency_ids[cat.primary[j]] == "delegating"
    assert cat.relevance[j, cat.competency_index["decisions"]] == 0.5
    assert cat.prerequisites[j, cat.module_index["delegation-basics"]] == 1.0
    assert cat.minutes[j] == library.modules["levels-of-delegation"].minutes
    k = cat.moment_index["conflict-today"]
    assert {cat.module_ids[i] for i in np.flatnonzero(cat.moment_modules[k])} == set(
        library.moments["conflict-today"].modules)
    assert cat.expectations[2, cat.competency_index["change"]] == library.organization.expectations["senior"]["change"]
    with pytest.raises(ValueError, match="unknown moment 'x'"):
        cat.require_moment("x")


def test_context_batch(library):
    ctxs = [LeaderContext("A", "senior", {"trust": -1.0}, {"trust": 0.2}, completed={"delegation-basics", "retired"},
                          active={"feedback-sbi", "old-module"}, weekly_minutes=50, minutes_used_this_week=20),
            LeaderContext("B", "first-time")]
    b = ContextBatch.from_contexts(ctxs, library)
    cat = b.catalog
    t = cat.competency_index["trust"]
    assert b.mean[0, t] == -1.0 and b.sd[0, t] == 0.2 and b.sd[1, t] == 1.0  # unassessed: the N(0, 1) prior
    assert b.active_count.tolist() == [2, 0]  # a retired active module still counts as open
    assert b.completed[0].sum() == 1 and b.remaining.tolist() == [30.0, 60.0]
    assert b.prerequisites_met[0, cat.module_index["levels-of-delegation"]]
    assert not b.prerequisites_met[1, cat.module_index["levels-of-delegation"]]
    assert b.need_rank[0, t] == 0
    sub = b.take(np.array([1]))
    assert sub.leader_ids == ("B",) and sub.mean.shape == (1, cat.n_competencies)
    assert dataclasses.is_dataclass(sub)
