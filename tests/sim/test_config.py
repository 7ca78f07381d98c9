import pytest

from workbench.sim.config import load_config, parse_config

BASE = {"name": "x", "arms": [{"name": "a", "strategy": "random"}, {"name": "b", "strategy": "priority"}],
        "population": 20, "weeks": 2, "seeds": 2}


def bad(**kw):
    return {**BASE, **kw}


@pytest.mark.parametrize("data, message", [
    (bad(arms=[{"name": "a", "strategy": "best"}, {"name": "b", "strategy": "gap"}]), "unknown strategy 'best'"),
    (bad(population=3), "need at least 2 leaders per arm"),
    (bad(weeks=0), "weeks must be from 1 to 520, got 0"),
    (bad(weeks=100_000), "weeks must be from 1 to 520, got 100000"),
    (bad(seeds=10**6), "seeds as a count must be from 1 to 1000"),
    (bad(seeds=list(range(1001))), "at most 1000 seeds, got 1001"),
    (bad(seeds=[-1, 2]), "seeds must be integers from 0 to 2\\*\\*32 - 1"),
    (bad(arms=[{"name": "a", "strategy": "gap"}, {"name": "a", "strategy": "gap"}]), "duplicate arm name 'a'"),
    (bad(outcome="happiness"), "outcome"),
    (bad(arms=[{"name": "a", "strategy": "gap", "settings": {"speed": 2}}, {"name": "b", "strategy": "gap"}]),
     "unknown setting 'speed'"),
])
def test_one_line_errors(data, message):
    with pytest.raises(ValueError, match=message) as err:
        parse_config(data)
    assert "\n" not in str(err.value)


def test_seeds_and_yaml(tmp_path):
    assert parse_config(BASE).seed_list == [0, 1]
    assert parse_config(bad(seeds=[5, 9])).seed_list == [5, 9]
    f = tmp_path / "exp.yaml"
    f.write_text("name: x\narms: [{name: a, strategy: gap}]\npopulation: 10\nweeks: 1\n")
    with pytest.raises(ValueError, match="exp.yaml: arms") as err:
        load_config(f)
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match="missing.yaml: cannot read"):
        load_config(tmp_path / "missing.yaml")


def test_config_file_size_is_limited(tmp_path, monkeypatch):
    f = tmp_path / "big.yaml"
    f.write_text("name: x\n" + "# padding\n" * 200)
    monkeypatch.setenv("WORKBENCH_MAX_CONFIG_MB", "0.001")
    with pytest.raises(ValueError, match=r"big.yaml: experiment config is 2.0 KB; the limit is 0.001 MB") as err:
        load_config(f)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("name", ["priority_vs_random", "aa_check"])
def test_shipped_configs_load(name):
    from pathlib import Path

    cfg = load_config(Path(__file__).resolve().parents[2] / "experiments" / "configs" / f"{name}.yaml")
    assert len(cfg.arms) == 2
