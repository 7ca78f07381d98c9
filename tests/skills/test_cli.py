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
    out = run("calibrate", tmp / "r.csv", "--items", tmp / "i.csv", "--out", tmp / "p.json", "--global-fit")
    return tmp, out


def test_calibrate_writes_the_contract(files):
    tmp, out = files
    assert out.returncode == 0, out.stderr
    assert "warning: " in out.stderr and "nobody" in out.stderr
    doc = json.loads((tmp / "p.json").read_text())
    assert doc["model"] == "grm" and doc["dimensions"] == ["d1", "d2"] and len(doc["items"]) == 10
    assert doc["diagnostics"]["method"] == "map" and len(doc["correlation"]) == 2
    assert set(doc["reliability"]) == {"d1", "d2"}
    # map is the default; five five-point items per dimension have fewer moments than parameters
    fit = doc["diagnostics"]["global_fit"]
    assert [r["dimension"] for r in fit] == ["d1", "d2"] and all(r["moments"] == 15 for r in fit)
    assert all(r.get("M2") is None and "fewer" in r["note"] for r in fit)


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


def _one_line_error(out):
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 1 and len(lines) == 1 and lines[0].startswith("error: "), out.stderr
    return lines[0]


def test_score_refuses_two_sheets_of_one_respondent(files):
    tmp, _ = files
    rows = (tmp / "r.csv").read_text().splitlines()
    second = rows[2].split(",", 1)[1]
    (tmp / "dup.csv").write_text("\n".join([*rows[:4], rows[1].split(",", 1)[0] + "," + second]) + "\n")
    line = _one_line_error(run("score", tmp / "dup.csv", "--params", tmp / "p.json", "--out", tmp / "s2.csv"))
    assert f"{tmp / 'dup.csv'}: line 5, column respondent_id: respondent" in line and "appears twice" in line
    assert not (tmp / "s2.csv").exists()


def test_calibrate_refuses_an_items_file_with_items_not_answered(files):
    tmp, _ = files
    (tmp / "extra.csv").write_text((tmp / "i.csv").read_text() + "ghost-item,d1,false\n")
    line = _one_line_error(run("calibrate", tmp / "r.csv", "--items", tmp / "extra.csv", "--out", tmp / "p2.json",
                               "--method", "map"))
    assert line == f"error: {tmp / 'extra.csv'}: line 12, column item_id: 1 item(s) not in the responses {tmp / 'r.csv'}: ghost-item"


def test_a_huge_cell_is_named_by_file_line_and_column(files):
    tmp, _ = files
    rows = (tmp / "r.csv").read_text().splitlines()
    cells = rows[3].split(",")
    cells[2] = "1" + "0" * 30
    (tmp / "huge.csv").write_text("\n".join([*rows[:3], ",".join(cells), *rows[4:]]) + "\n")
    line = _one_line_error(run("score", tmp / "huge.csv", "--params", tmp / "p.json", "--out", tmp / "s3.csv"))
    column = rows[0].split(",")[2]
    assert line.startswith(f"error: {tmp / 'huge.csv'}: line 4, column {column}: ") and "too large" in line


def test_params_over_the_size_limit_are_refused(files):
    tmp, _ = files
    import os

    out = subprocess.run([sys.executable, "-m", "workbench.cli", "score", str(tmp / "r.csv"), "--params",
                          str(tmp / "p.json"), "--out", str(tmp / "s4.csv")], capture_output=True, text=True,
                         env={**os.environ, "WORKBENCH_MAX_PARAMS_MB": "0.0001"})
    assert "parameters JSON is" in _one_line_error(out) and "WORKBENCH_MAX_PARAMS_MB" in out.stderr
