"""Tests of workbench.services.experiments: the papermill grid, Dask vs serial, aggregation, errors."""

from __future__ import annotations

import json
import random
import re
import shutil
from pathlib import Path

import nbformat
import numpy as np
import pytest

from workbench.services import experiments as er
from workbench.sim import load_config
from workbench.sim.figures import report_figures

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
    from workbench.sim import demo_item_params

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
    assert a["config"]["seeds"] == [0, 1, 2] and a["config"]["method"] == "conjugate"
    assert set(a["arms"]) == {"random", "priority"}
    dec = a["decision"]
    assert dec["headline"].startswith("Decision: ")
    assert dec["frequentist"]["stated_false_winner_rate"] == 0.05 and dec["bayes"]["threshold_source"] == "calibrated"
    assert [e["arm"] for e in dec["frequentist"]["effects"]] == ["priority"]
    assert set(a["estimands"]) == {"outcome", "unadjusted", "true_skill"}
    assert a["estimands"]["outcome"]["label"] == "measured_need_gain (baseline-adjusted)"
    for rule in ("bayes", "frequentist"):
        shares = [a["arms"][n]["win_share"][rule] for n in a["arms"]] + [a["no_winner_share"][rule]]
        assert sum(x["share"] for x in shares) == pytest.approx(1.0)
        assert all(x["low"] <= x["share"] <= x["high"] for x in shares)
    # pooled mean is the leader-weighted mean of the per-run means
    means = [r["arms"][1]["mean"] for r in recs]
    assert a["arms"]["priority"]["pooled_mean"] == pytest.approx(sum(means) / 3, abs=1e-12)


def test_end_to_end_serial(tiny, tmp_path):
    calls = []
    out = tmp_path / "out"
    s = er.run_config(tiny, out, serial=True, method="conjugate", progress=lambda d, t, n: calls.append((d, t, n)),
                      static=False)
    assert s.n_runs == 2 and s.executor == "serial"
    assert calls == [(1, 2, "tiny-seed0"), (2, 2, "tiny-seed1")]
    for nb in s.notebooks:
        assert nb.is_file() and nb.with_suffix(".json").is_file()
    executed = nbformat.read(s.notebooks[0], as_version=4)
    assert any(c.get("outputs") for c in executed.cells if c.cell_type == "code")
    results = json.loads(s.results_path.read_text())
    assert {"config", "n_runs", "leader_weeks", "arms", "decision", "estimands", "runs"} <= set(results)
    assert results["leader_weeks"] == 2 * 40 * 2
    assert {"winner", "statement", "effects", "stated_false_winner_rate"} <= set(results["decision"]["frequentist"])
    html = s.report_path.read_text()
    assert html.count("Plotly.newPlot") == 3
    assert "<script src=\"https://cdn" not in html and len(html) > 1_000_000  # plotly.js embedded
    text = re.sub(r"<script.*?</script>", "", html, flags=re.S)
    assert "None" not in text and "nan" not in text
    assert text.index(results["decision"]["headline"].replace("'", "&#x27;")) < text.index("Pooled effects")
    assert not (tmp_path / ".out.partial").exists()


def test_report_scales_to_600_seeds(tmp_path, tiny, library, item_params):
    config = load_config(tiny)
    rec = er.analyse_seed(config, 0, library=library, item_params=item_params, method="conjugate")
    rng = np.random.default_rng(0)
    recs = []
    for seed in range(600):
        r = json.loads(json.dumps(rec))
        r["seed"], r["run_name"] = seed, f"tiny-seed{seed}"
        r["contrasts"]["diff"] = [d + float(rng.normal(0, 0.02)) for d in r["contrasts"]["diff"]]
        recs.append(r)
    results = er.aggregate(recs)
    html = er.write_report(results, tmp_path / "r.html", static=False).read_text()
    text = re.sub(r"<script.*?</script>", "", html, flags=re.S)
    assert "600 seeds from 0 to 599" in text and f"{er.REPORT_MAX_RUNS} of 600 runs" in text
    assert 0 < len(re.findall(r"<tr>\s*<td>", text)) <= 2 + 2 + er.REPORT_MAX_RUNS + 4  # table body rows
    assert all(f.layout.height <= 600 for f in report_figures(results))


def test_report_has_static_image_fallbacks(tmp_path, tiny, library, item_params):
    config = load_config(tiny)
    recs = [er.analyse_seed(config, s, library=library, item_params=item_params, method="conjugate") for s in (0, 1)]
    html = er.write_report(er.aggregate(recs), tmp_path / "r.html").read_text()
    assert html.count("<noscript><img alt='figure") == 3 and "data:image/png;base64," in html


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


def _failing_notebook(path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('config_path = ""\nseed = 0\nrun_name = ""\nout_dir = ""\nmethod = "pymc"\n'
                                       "draws = 1\ntune = 1")
    params.metadata["tags"] = ["parameters"]
    write = nbformat.v4.new_code_cell(
        "import json, pathlib\n"
        "pathlib.Path(out_dir).mkdir(parents=True, exist_ok=True)\n"
        "(pathlib.Path(out_dir) / 'half-written.txt').write_text('x')\n"
        "if seed == 1:\n    raise MemoryError('simulated kernel death')\n"
        "(pathlib.Path(out_dir) / f'{run_name}.json').write_text('{}')")
    nb.cells = [params, write]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.write(nb, path)
    return path


def test_population_too_big_for_the_machine_is_refused_before_any_run(tmp_path):
    p = tmp_path / "huge.yaml"
    p.write_text(TINY.replace("population: 40", "population: 100000000"))
    out = tmp_path / "out"
    with pytest.raises(ValueError) as err:
        er.run_config(p, out, serial=True, method="conjugate")
    msg = str(err.value)
    assert msg.startswith("experiment 'tiny' needs about 1526.3 GB (100,000,000 leaders x 1 run(s) at once) "
                          "but the limit here is "), msg
    assert "\n" not in msg and not out.exists() and list(tmp_path.iterdir()) == [p]


def test_memory_estimate_counts_concurrent_runs(tiny, monkeypatch):
    config = load_config(tiny).model_copy(update={"population": 50_000, "seeds": 4})
    serial = er.estimate_memory(config, 1)
    assert serial == er.MEMORY_PER_RUN + 50_000 * er.MEMORY_PER_LEADER
    assert er.estimate_memory(config, 2, workers=2) == 2 * serial + 2 * er.MEMORY_PER_WORKER
    monkeypatch.setattr(er, "available_memory", lambda: int(2.2 * serial / 0.7))
    assert er.check_memory(config, serial=True, workers=2).concurrent_runs == 1
    with pytest.raises(ValueError, match=r"x 2 run\(s\) at once\) but the limit here is .* or run with --serial"):
        er.check_memory(config, serial=False, workers=2)
    # a remote scheduler: one run is checked against this machine
    assert er.check_memory(config, serial=False, workers=2, local=False).concurrent_runs == 1


def test_a_failed_run_leaves_no_output_folder_and_resume_continues(tiny, tmp_path):
    nb = _failing_notebook(tmp_path / "fails.ipynb")
    out = tmp_path / "reports" / "tiny"
    with pytest.raises(RuntimeError, match="run tiny-seed1: notebook failed: MemoryError: simulated kernel death"):
        er.run_config(tiny, out, serial=True, method="conjugate", notebook=nb, progress=lambda *a: None)
    assert not out.exists()
    stage = tmp_path / "reports" / ".tiny.partial"  # hidden, kept for --resume
    assert (stage / "runs" / "tiny-seed0.json").is_file()
    # a real first run, then an interruption: resume keeps seed 0 and runs only seed 1
    er.run_config(tiny, out, serial=True, method="conjugate", progress=lambda *a: None, static=False)
    shutil.copytree(out / "runs", stage / "runs", dirs_exist_ok=True)
    (stage / "runs" / "tiny-seed1.json").unlink()
    calls = []
    s = er.run_config(tiny, out, serial=True, method="conjugate", resume=True, static=False,
                      progress=lambda d, t, n: calls.append((d, t, n)))
    assert calls == [(1, 2, "1 kept from an earlier attempt"), (2, 2, "tiny-seed1")]
    assert json.loads(s.results_path.read_text())["resumed_runs"] == 1 and not stage.exists()
    # a record of another analysis (other config, seed or sampler settings) is not reused
    spec = er.expand_grid(load_config(tiny), tiny, out)[0]
    digest = json.loads((out / "runs" / "tiny-seed0.json").read_text())["digest"]
    assert er._done(spec, out, digest) and not er._done(spec, out, digest[::-1])


def test_method_comes_from_the_config_and_conflicts_are_refused(tiny, tmp_path):
    config = load_config(tiny)
    assert er.resolve_method(config, None) == "pymc"
    pinned = config.model_copy(update={"method": "conjugate"})
    assert er.resolve_method(pinned, None) == "conjugate" and er.resolve_method(pinned, "conjugate") == "conjugate"
    with pytest.raises(ValueError, match="--method pymc conflicts with the config's method: conjugate"):
        er.resolve_method(pinned, "pymc")


def test_a_failed_rerun_keeps_the_earlier_result(tiny, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.json").write_text('{"earlier": true}')
    nb = _failing_notebook(tmp_path / "fails.ipynb")
    with pytest.raises(RuntimeError):
        er.run_config(tiny, out, serial=True, method="conjugate", notebook=nb, progress=lambda *a: None)
    assert sorted(p.name for p in out.iterdir()) == ["results.json"]
    assert json.loads((out / "results.json").read_text()) == {"earlier": True}
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == [".out.partial"]
