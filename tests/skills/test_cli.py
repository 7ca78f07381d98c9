"""``workbench calibrate``, ``score`` and ``cat simulate`` from the shell, contracts included."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from workbench.skills.data import write_items_csv, write_responses_csv
from workbench.skills.simulate import correlated_thetas, make_test, simulate_data


def run(*args):
    return subprocess.run([sys.executable, "-m", "workbench.cli", *map(str, args)], capture_output=True, text=True,
                          env={**__import__("os").environ, "OPENBLAS_NUM_THREADS": "1"})


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    rng = np.random.default_rng(4)
    p = make_test(10, 2, rng, reverse_share=0.3)
    d = simulate_data(p, correlated_thetas(600, 2, 0.5, rng), rng, missing=0.05)
    write_responses_csv(tmp / "r.csv", d.respondent_ids, d.y, d.items)
    write_items_csv(tmp / "i.csv", d.items)
    with open(tmp / "r.csv", "a") as fh:
        fh.write("nobody" + "," * 10 + "\n")
    out = run("calibrate", tmp / "r.csv", "--items", tmp / "i.csv", "--out", tmp / "p.json", "--method", "map")
    return tmp, out


def test_calibrate_writes_the_contract(files):
    tmp, out = files
    assert out.returncode == 0, out.stderr
    assert "warning: " in out.stderr and "nobody" in out.stderr
    doc = json.loads((tmp / "p.json").read_text())
    assert doc["model"] == "grm" and doc["dimensions"] == ["d1", "d2"] and len(doc["items"]) == 10
    assert doc["diagnostics"]["method"] == "map" and len(doc["correlation"]) == 2
    assert set(doc["reliability"]) == {"d1", "d2"}


def test_score_writes_the_contract(files):
    tmp, _ = files
    out = run("score", tmp / "r.csv", "--params", tmp / "p.json", "--out", tmp / "s.csv")
    assert out.returncode == 0, out.stderr
    s = pd.read_csv(tmp / "s.csv")
    assert list(s.columns) == ["respondent_id", "d1_mean", "d1_sd", "d2_mean", "d2_sd"]
    assert len(s) == 600 and s.d1_sd.between(0.1, 1.0).all()


def test_cat_simulate_prints_the_comparison(files):
    tmp, _ = files
    out = run("cat", "simulate", "--params", tmp / "p.json", "--respondents", 60, "--target-sd", 0.5)
    assert out.returncode == 0, out.stderr
    assert "items used" in out.stdout and "r with full form" in out.stdout and "RMSE vs true theta" in out.stdout


@pytest.mark.parametrize(
    "args,words",
    [
        (["calibrate", "{tmp}/bad.csv", "--out", "{tmp}/x.json", "--method", "map"], "line 3, column q1: 'abc' is not an integer"),
        (["calibrate", "{tmp}/r.csv", "--out", "{tmp}/x.json", "--method", "em"], "--method must be nuts, map or advi"),
        (["calibrate", "{tmp}/missing.csv", "--out", "{tmp}/x.json"], "no such file"),
        (["score", "{tmp}/bad.csv", "--params", "{tmp}/p.json", "--out", "{tmp}/s2.csv"], "column q1: unknown item id"),
        (["score", "{tmp}/r.csv", "--params", "{tmp}/r.csv", "--out", "{tmp}/s2.csv"], "not valid JSON"),
        (["cat", "simulate", "--params", "{tmp}/p.json", "--target-sd", "0"], "--target-sd must be positive"),
    ],
)
def test_bad_input_exits_1_with_one_line(files, args, words):
    tmp, _ = files
    (tmp / "bad.csv").write_text("respondent_id,q1,q2\nr1,1,2\nr2,abc,1\n")
    out = run(*[a.format(tmp=tmp) for a in args])
    assert out.returncode == 1, out
    errors = [ln for ln in out.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and words in errors[0], out.stderr
    assert "Traceback" not in out.stderr
