"""The command line: help everywhere, one-line errors with exit 1 on bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

COMMANDS = [[], ["demo"], ["serve"], ["link"], ["content"], ["content", "check"], ["xapi"], ["xapi", "export"],
            ["xapi", "import"], ["calibrate"], ["score"], ["cat"], ["cat", "simulate"], ["recommend"],
            ["scenario"], ["scenario", "run"], ["chat"], ["cohort"], ["cohort", "groups"], ["cohort", "sessions"],
            ["experiment"], ["experiment", "run"], ["invitations"], ["invitations", "add"], ["invitations", "list"],
            ["invitations", "remind"], ["invitations", "revoke"], ["invitations", "extend"]]


def run(*args, **kw):
    return subprocess.run([sys.executable, "-m", "workbench.cli", *args], capture_output=True, text=True, **kw)


@pytest.mark.parametrize("cmd", COMMANDS, ids=lambda c: " ".join(c) or "workbench")
def test_help(cmd):
    out = run(*cmd, "--help")
    assert out.returncode == 0 and "Usage" in out.stdout


@pytest.mark.parametrize(
    "args,words",
    [
        (["demo", "--bogus"], "No such option"),
        (["demo", "--as-of", "2026-13-01", "--db", "sqlite:///{tmp}/x.db"], "is not a date"),
        (["demo", "--seed", "many"], "Invalid value for '--seed'"),
        (["link"], "exactly one of --leader, --facilitator or --rater"),
        (["link", "--leader", "L9999", "--db", "sqlite:///{tmp}/x.db"], "no leader with id 'L9999'"),
        (["link", "--facilitator", "C99", "--db", "sqlite:///{tmp}/x.db"], "no cohort with id 'C99'"),
        (["xapi", "import", "{tmp}/missing.json"], "no such file"),
        (["xapi", "import", "{tmp}/bad.json"], "not valid JSON"),
        (["content", "check", "{tmp}/nowhere"], "does not exist"),
        (["nonsense"], "No such command"),
        (["invitations", "add", "L0001", "--role", "boss", "--db", "sqlite:///{tmp}/x.db"], "error"),
        (["invitations", "list", "--db", "sqlite:///{tmp}/x.db"], "exactly one of --leader or --cohort"),
        (["link", "--rater", "nope", "--db", "sqlite:///{tmp}/x.db"], "no rater invitation with id 'nope'"),
        # bounded options: each refused by name before any work starts
        (["invitations", "remind", "--cohort", "C01", "--after-days", "1" + "0" * 30], "'--after-days'"),
        (["cohort", "sessions", "--cohort", "C01", "--cadence", "1000000000"], "'--cadence'"),
        (["cohort", "groups", "--cohort", "C01", "--size", "2-1000000000"], "MAX <= 50"),
        (["cohort", "groups", "--cohort", "C01", "--seed", "-1"], "'--seed'"),
        (["recommend", "--leader", "L0001", "--seed", "-5"], "'--seed'"),
        (["demo", "--seed", "-1"], "'--seed'"),
        (["calibrate", "{tmp}/r.csv", "--out", "{tmp}/p.json", "--draws", "1000000000"], "'--draws'"),
        (["calibrate", "{tmp}/r.csv", "--out", "{tmp}/p.json", "--chains", "500"], "'--chains'"),
        (["calibrate", "{tmp}/r.csv", "--out", "{tmp}/p.json", "--points", "100000"], "'--points'"),
        (["cat", "simulate", "--params", "{tmp}/p.json", "--respondents", "1000000000000"], "'--respondents'"),
        (["cat", "simulate", "--params", "{tmp}/p.json", "--target-sd", "nan"], "--target-sd must be positive"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(args, words, tmp_path):
    (tmp_path / "bad.json").write_text("[{")
    out = run(*[a.format(tmp=tmp_path) for a in args])
    assert out.returncode == 1, out
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and words in lines[0], out.stderr


def test_link_signs_a_url_for_a_demo_leader(demo_db, tmp_path):
    env = {"WORKBENCH_SECRET": "s3cret", "WORKBENCH_HOME": str(tmp_path), "PATH": ""}
    import os

    out = run("link", "--leader", "L0001", "--db", demo_db, "--base-url", "http://127.0.0.1:9999/",
              env={**os.environ, **env})
    assert out.returncode == 0
    url = out.stdout.strip()
    assert url.startswith("http://127.0.0.1:9999/voila/render/leader.ipynb?token=")
    from workbench.services.identity import verify_token

    ident = verify_token(url.split("token=")[1], key="s3cret")
    assert (ident.kind, ident.subject) == ("leader", "L0001")


def test_invitations_round_trip_in_process(demo_copy, tmp_path, monkeypatch):
    """add -> link --rater -> list -> remind -> revoke, through typer in this process."""
    from typer.testing import CliRunner

    from workbench.cli import app
    from workbench.services.identity import verify_token

    monkeypatch.setenv("WORKBENCH_SECRET", "s3cret")
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path))
    cli = CliRunner()
    base = ["--db", demo_copy]
    out = cli.invoke(app, ["invitations", "add", "L0007", "--role", "peer", "--name", "Kim Peer", "--email",
                           "kim@example.org", "--base-url", "http://h:1", *base])
    assert out.exit_code == 0, out.output
    inv_id = out.output.split()[1]
    link = out.output.strip().splitlines()[-1]
    assert link.startswith("http://h:1/voila/render/rater.ipynb?token=")
    assert verify_token(link.split("token=")[1], key="s3cret").subject == inv_id
    out = cli.invoke(app, ["link", "--rater", inv_id, "--base-url", "http://h:1", *base])
    assert out.exit_code == 0 and "rater.ipynb" in out.output
    out = cli.invoke(app, ["invitations", "list", "--leader", "L0007", "--json", *base])
    rows = json.loads(out.output)
    assert [r["status"] for r in rows if r["id"] == inv_id] == ["invited"]
    out = cli.invoke(app, ["invitations", "remind", "--leader", "L0007", "--after-days", "0", "--mark", *base])
    assert out.exit_code == 0 and inv_id in out.output
    assert cli.invoke(app, ["invitations", "revoke", inv_id, *base]).exit_code == 0
    out = cli.invoke(app, ["link", "--rater", inv_id, *base])
    assert out.exit_code == 1 and "withdrawn" in str(out.exception)  # main() prints it as one error: line


def test_experiment_too_big_for_the_machine_is_one_line_and_leaves_nothing(tmp_path):
    cfg = tmp_path / "huge.yaml"
    cfg.write_text("name: huge\narms:\n  - {name: a, strategy: random}\n  - {name: b, strategy: priority}\n"
                   "population: 100000000\nweeks: 12\nseeds: 3\n")
    out = run("experiment", "run", str(cfg), "--out", str(tmp_path / "out"), "--method", "conjugate")
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 1 and len(lines) == 1, out.stderr
    assert lines[0].startswith("error: experiment 'huge' needs about ") and "x 2 run(s) at once" in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["huge.yaml"]


ARMS = "arms:\n  - {name: a, strategy: random}\n  - {name: b, strategy: priority}\npopulation: 20\nweeks: 2\n"


@pytest.mark.parametrize("body, extra, message", [
    ("name: ../escaped\n" + ARMS, [], "error: {cfg}:1:7: name: '../escaped' is not a safe name"),
    ("name: x\nmethod: conjugate\n" + ARMS, ["--method", "pymc"],
     "error: --method pymc conflicts with the config's method: conjugate (change one of them)"),
    ("name: x\nseeds: [0, -1]\n" + ARMS, [], "error: {cfg}:2:8: seeds: seeds must be integers from 0 to 2**32 - 1, "
     "got -1"),
    ("name: x\n" + ARMS.replace("population: 20", "population: '60'"), [],
     "error: {cfg}:5:13: population: Input should be a valid integer (got '60')"),
])
def test_experiment_config_refusals_are_one_line_before_any_run(tmp_path, body, extra, message):
    cfg = tmp_path / "exp.yaml"
    cfg.write_text(body)
    out = run("experiment", "run", str(cfg), "--out", str(tmp_path / "out"), "--serial", *extra)
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 1 and lines[0].startswith(message.format(cfg=cfg)) and len(lines) == 1, out.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exp.yaml"]
