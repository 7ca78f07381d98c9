"""The command line: help everywhere, one-line errors with exit 1 on bad input."""

from __future__ import annotations

import subprocess
import sys

import pytest

COMMANDS = [[], ["demo"], ["serve"], ["link"], ["content"], ["content", "check"], ["xapi"], ["xapi", "export"],
            ["xapi", "import"], ["calibrate"], ["score"], ["cat"], ["cat", "simulate"], ["recommend"],
            ["scenario"], ["scenario", "run"], ["chat"], ["cohort"], ["cohort", "groups"], ["cohort", "sessions"],
            ["experiment"], ["experiment", "run"]]


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
    from workbench.identity import verify_token

    ident = verify_token(url.split("token=")[1], key="s3cret")
    assert (ident.kind, ident.subject) == ("leader", "L0001")
