import numpy as np

from workbench.sim.measure import measure
from workbench.sim.population import generate_population


def test_measure_tracks_true_skill(library, item_params):
    p = generate_population(library, 1500, 2)
    m = measure(p.skill, p.competencies, item_params, np.random.default_rng(0))
    assert m.mean.shape == p.skill.shape
    for c in range(p.skill.shape[1]):
        assert np.corrcoef(m.mean[:, c], p.skill[:, c])[0, 1] > 0.65  # 7 items, true SD 0.6: reliability about 0.55-0.6
    assert 0.2 < m.sd.mean() < 0.6
