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
    (bad(seeds=list(range(1001))), "1 to 1000 seeds, got 1001"),
    (bad(seeds=[-1, 2]), "seeds must be integers from 0 to 2\\*\\*32 - 1, got -1"),
    (bad(seeds=-3), "seeds as a count must be from 1 to 1000, got -3"),
    (bad(seeds=True), "seeds must be a count or a list of seeds, got True"),
    (bad(population="60"), "population: Input should be a valid integer \\(got '60'\\)"),
    (bad(weeks=True), "weeks: Input should be a valid integer \\(got True\\)"),
    (bad(alpha="0.05"), "alpha: Input should be a valid number"),
    (bad(name="../escaped"), "name: '../escaped' is not a safe name"),
    (bad(name="a/b"), "is not a safe name"),
    (bad(name=".hidden"), "is not a safe name"),
    (bad(arms=[{"name": "../a", "strategy": "gap"}, {"name": "b", "strategy": "gap"}]), "arms.0.name: '../a' is not"),
    (bad(arms=[{"name": "a", "strategy": "gap", "settings": {"k": 0}}, {"name": "b", "strategy": "gap"}]),
     "arms.0: k must be an integer >= 1, got 0"),
    (bad(arms=[{"name": "a", "strategy": "gap", "settings": {"k": 2.5}}, {"name": "b", "strategy": "gap"}]),
     "k must be an integer >= 1, got 2.5"),
    (bad(arms=[{"name": "a", "strategy": "gap", "settings": {"epsilon": 2}}, {"name": "b", "strategy": "gap"}]),
     "epsilon must be a number from 0 to 1, got 2"),
    (bad(method="mcmc"), "method"),
    (bad(threshold=1.0), "threshold"),
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
    with pytest.raises(ValueError, match=r"exp.yaml:2:\d+: arms") as err:
        load_config(f)
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match="missing.yaml: cannot read"):
        load_config(tmp_path / "missing.yaml")


def test_yaml_errors_name_line_and_column(tmp_path):
    f = tmp_path / "exp.yaml"
    f.write_text("name: x\narms:\n  - {name: a, strategy: random\n  - {name: b, strategy: gap}\npopulation: 20\n")
    with pytest.raises(ValueError, match=r"exp\.yaml:4:5: not valid YAML: expected ',' or '}'"):
        load_config(f)
    f.write_text("name: x\narms:\n  - {name: a, strategy: random}\n  - {name: b, strategy: gap, settings: {k: 0}}\n"
                 "population: 20\nweeks: 2\n")
    with pytest.raises(ValueError, match=r"exp\.yaml:4:5: arms\.1: k must be an integer >= 1"):
        load_config(f)
    f.write_text("name: x\narms:\n  - {name: a, strategy: random}\n  - {name: b, strategy: gap}\n"
                 "population: \"60\"\nweeks: 2\n")
    with pytest.raises(ValueError, match=r"exp\.yaml:5:13: population: Input should be a valid integer"):
        load_config(f)


def test_config_file_size_is_limited(tmp_path, monkeypatch):
    f = tmp_path / "big.yaml"
    f.write_text("name: x\n" + "# padding\n" * 200)
    monkeypatch.setenv("WORKBENCH_MAX_CONFIG_MB", "0.001")
    with pytest.raises(ValueError, match=r"big.yaml: experiment config is 2.0 KB; the limit is 0.001 MB") as err:
        load_config(f)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("name", ["priority_vs_random", "aa_check", "aa_three_arms"])
def test_shipped_configs_load(name):
    from pathlib import Path

    cfg = load_config(Path(__file__).resolve().parents[2] / "experiments" / "configs" / f"{name}.yaml")
    assert len(cfg.arms) >= 2
