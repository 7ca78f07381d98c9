import numpy as np
import pytest

from workbench.recommend import catalog_for
from workbench.sim.population import generate_population


def test_deterministic_and_shaped(library):
    a, b = generate_population(library, 500, 3), generate_population(library, 500, 3)
    np.testing.assert_array_equal(a.skill, b.skill)
    assert a.leader_ids == b.leader_ids and len(a) == 500
    assert not np.array_equal(a.skill, generate_population(library, 500, 4).skill)
    assert a.skill.shape == (500, catalog_for(library).n_competencies)
    assert np.all((a.engagement > 0) & (a.engagement < 1)) and np.all(a.weekly_minutes > 0)


def test_level_means_follow_expectations_and_correlation(library):
    p = generate_population(library, 6000, 1, mean_offset=-0.3, correlation=0.45)
    cat = catalog_for(library)
    for lv in range(3):
        rows = p.level == lv
        np.testing.assert_allclose(p.skill[rows].mean(axis=0), cat.expectations[lv] - 0.3, atol=0.08)
    r = np.corrcoef((p.skill - p.expectation).T)
    assert abs(r[np.triu_indices_from(r, 1)].mean() - 0.45) < 0.05


def test_take_and_errors(library):
    p = generate_population(library, 10, 0)
    sub = p.take(np.array([1, 3]))
    assert sub.leader_ids == (p.leader_ids[1], p.leader_ids[3])
    with pytest.raises(ValueError, match="population size"):
        generate_population(library, 0, 0)
