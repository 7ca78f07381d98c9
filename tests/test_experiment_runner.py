"""Tests of workbench.experiment_runner: the papermill grid, Dask vs serial, aggregation, errors."""

from __future__ import annotations

import json
import random
from pathlib import Path

import nbformat
import pytest

from workbench import experiment_runner as er
from workbench.sim import load_config

TINY = """name: tiny
arms:
  - {name: random, strategy: random}
  - {name: priority, strategy: priority}
population: 40
weeks: 2
seeds: 2
"""


@pytest.fixture(scope="module")
def item_params(library):
    from workbench.demo import demo_item_params

    return demo_item_params(library, er.ITEM_SEED)


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    p = tmp_path / "tiny.yaml"
    p.write_text(TINY)
    return p


def _strip(results: dict) -> dict:
    return {k: v for k, v in results.items() if k != "config"} | {
        "config": {k: v for k, v in results["config"].items() if k != "path"}}


def test_notebook_has_parameters_and_no_outputs():
    nb = nbformat.read(er.NOTEBOOK, as_version=4)
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1
    for name in ("config_path", "seed", "run_name", "out_dir", "method"):
        assert f"{name} =" in params[0].source
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")


def test_aggregate_is_order_independent(tiny, library, item_params):
    config = load_config(tiny).model_copy(update={"seeds": 3})
    recs = [er.analyse_seed(config, s, library=library, item_params=item_params, method="conjugate")
            for s in config.seed_list]
    shuffled = recs[:]
    random.Random(3).shuffle(shuffled)
    a, b = er.aggregate(recs), er.aggregate(shuffled)
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    assert a["config"]["seeds"] == [0, 1, 2]
    assert set(a["arms"]) == {"random", "priority"} and "effect" in a["arms"]["priority"]
    assert "effect" not in a["arms"]["random"]
    share = a["decision"]["bayes"]["share"]
    assert sum(share.values()) == pytest.approx(1.0)
    # pooled mean is the leader-weighted mean of the per-run means
    means = [r["arms"][1]["mean"] for r in recs]
    assert a["arms"]["priority"]["pooled_mean"] == pytest.approx(sum(means) / 3, abs=1e-12)


def test_end_to_end_serial(tiny, tmp_path):
    calls = []
    out = tmp_path / "out"
    s = er.run_config(tiny, out, serial=True, method="conjugate", progress=lambda d, t, n: calls.append((d, t, n)))
    assert s.n_runs == 2 and s.executor == "serial"
    assert calls == [(1, 2, "tiny-seed0"), (2, 2, "tiny-seed1")]
    for nb in s.notebooks:
        assert nb.is_file() and nb.with_suffix(".json").is_file()
    executed = nbformat.read(s.notebooks[0], as_version=4)
    assert any(c.get("outputs") for c in executed.cells if c.cell_type == "code")
    results = json.loads(s.results_path.read_text())
    assert {"config", "n_runs", "leader_weeks", "arms", "decision", "runs"} <= set(results)
    assert results["leader_weeks"] == 2 * 40 * 2
    assert {"share", "overall_winner", "any_winner_rate"} <= set(results["decision"]["frequentist"])
    html = s.report_path.read_text()
    assert html.count("Plotly.newPlot") == 3
    assert "<script src=\"https://cdn" not in html and len(html) > 1_000_000  # plotly.js embedded


@pytest.mark.slow
def test_pymc_serial_and_dask_are_identical(tiny, tmp_path):
    kw = {"method": "pymc", "draws": 200, "tune": 200, "progress": lambda *a: None}
    serial = er.run_config(tiny, tmp_path / "serial", serial=True, **kw)
    dask = er.run_config(tiny, tmp_path / "dask", **kw)
    assert dask.executor.startswith("local dask")
    a, b = (json.loads(x.results_path.read_text()) for x in (serial, dask))
    assert a["config"]["method"] == "pymc"
    assert _strip(a) == _strip(b)


def test_missing_config(tmp_path):
    with pytest.raises(ValueError, match=r"nope\.yaml: config file not found"):
        er.run_config(tmp_path / "nope.yaml", tmp_path / "out", serial=True)


def test_invalid_config(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text(TINY.replace("population: 40", "population: 3"))
    with pytest.raises(ValueError, match=r"bad\.yaml: .*population 3 is too small") as err:
        er.run_config(p, tmp_path / "out", serial=True)
    assert "\n" not in str(err.value)


def test_unreachable_scheduler(tiny, tmp_path):
    with pytest.raises(ValueError, match=r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9") as err:
        er.run_config(tiny, tmp_path / "out", scheduler="tcp://127.0.0.1:9")
    assert "\n" not in str(err.value)


def test_serial_with_scheduler_is_refused(tiny, tmp_path):
    with pytest.raises(ValueError, match="either serial"):
        er.run_config(tiny, tmp_path / "out", scheduler="tcp://127.0.0.1:9", serial=True)
