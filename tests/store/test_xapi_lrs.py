"""The demo against an independent xAPI implementation: ralph-malph's models and its LRS.

ralph runs from its own virtual environment (``scripts/lrs.sh`` makes ``.venv-lrs``; ``make
test`` calls it). Its pydantic models validate every exported statement in a subprocess, and
a real ralph LRS on 127.0.0.1 receives the demo with ``workbench xapi push`` and gives it back
to a fresh store with ``pull``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from workbench.store import connect, transaction
from workbench.store import models as m
from workbench.store.lrs import LrsClient, LrsConfig, LrsError, pull, push, reset_cursor
from workbench.store.xapi import export_statements
from workbench.store.xapi_export import export_rows

from ..conftest import REPO, free_port

pytestmark = pytest.mark.lrs

VALIDATE = r"""
import json, sys
from pydantic import ValidationError
from ralph.models.xapi.base.statements import BaseXapiStatement
bad = []
statements = json.load(open(sys.argv[1]))
for i, st in enumerate(statements):
    try:
        BaseXapiStatement.model_validate(st)
    except ValidationError as exc:
        e = exc.errors()[0]
        bad.append(f"{i}: {'.'.join(map(str, e['loc']))}: {e['msg']}")
print(json.dumps({"checked": len(statements), "invalid": bad[:20], "n_invalid": len(bad)}))
"""


@pytest.fixture(scope="session")
def ralph_bin() -> Path:
    """The ralph virtual environment's bin folder, installed by scripts/lrs.sh if missing."""
    bindir = REPO / ".venv-lrs" / "bin"
    res = subprocess.run([str(REPO / "scripts" / "lrs.sh")], capture_output=True, text=True)
    if res.returncode != 0 or not (bindir / "ralph").exists():
        msg = f"ralph-malph could not be installed by scripts/lrs.sh: {res.stderr.strip()[-300:]}"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return bindir


@pytest.fixture(scope="module")
def lrs(ralph_bin):
    """A ralph LRS (file-system backend) on 127.0.0.1 for this module; yields an LrsConfig."""
    root = Path(tempfile.mkdtemp(prefix="wb-lrs-"))
    env = {**os.environ, "RALPH_APP_DIR": str(root / "app"), "RALPH_RUNSERVER_BACKEND": "fs",
           "RALPH_RUNSERVER_MAX_SEARCH_HITS_COUNT": "10000"}
    subprocess.run([str(ralph_bin / "ralph"), "auth", "-u", "workbench", "-p", "s3cret", "-s", "all",
                    "-M", "mailto:lrs-admin@example.org", "-w"], env=env, cwd=root, check=True, capture_output=True)
    # a second user whose statements live apart (ralph's per-user target), for the CLI test
    subprocess.run([str(ralph_bin / "ralph"), "auth", "-u", "cli", "-p", "s3cret", "-s", "all", "-t", "cli",
                    "-M", "mailto:cli@example.org", "-w"], env=env, cwd=root, check=True, capture_output=True)
    (root / "data" / "cli").mkdir(parents=True)
    port = free_port()
    log = open(root / "server.log", "w")
    proc = subprocess.Popen([str(ralph_bin / "python"), str(REPO / "scripts" / "lrs_server.py"), "127.0.0.1",
                             str(port), str(root / "data")],
                            env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                if httpx.get(base + "/__heartbeat__", timeout=1).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                pytest.fail(f"ralph LRS exited: {(root / 'server.log').read_text()[-500:]}")
            time.sleep(0.25)
        else:
            pytest.fail("ralph LRS did not start within 60 s")
        yield LrsConfig(base + "/xAPI/", "workbench", "s3cret")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def _drop(statements, *keys):
    return [{k: v for k, v in st.items() if k not in keys} for st in statements]


def test_the_demo_export_is_valid_for_ralphs_models(demo_engine, library, ralph_bin, tmp_path):
    statements = export_statements(demo_engine, library=library)
    kinds = {st["object"]["definition"]["type"] for st in statements if "definition" in st["object"]}
    assert {"http://adlnet.gov/expapi/activities/module", "http://adlnet.gov/expapi/activities/assessment",
            "http://adlnet.gov/expapi/activities/simulation",
            "http://id.tincanapi.com/activitytype/discussion"} <= kinds
    path = tmp_path / "demo.json"
    path.write_text(json.dumps(statements))
    res = subprocess.run([str(ralph_bin / "python"), "-c", VALIDATE, str(path)], capture_output=True, text=True,
                         check=True)
    report = json.loads(res.stdout)
    assert report["checked"] == len(statements) > 5000
    assert report["n_invalid"] == 0, report["invalid"]


def test_ralph_refuses_what_the_issue_reported(ralph_bin, tmp_path):
    """The validator is strict enough to catch the old bugs (so the test above can fail)."""
    st = {"actor": {"account": {"homePage": "http://localhost:8866/", "name": "L1"}},
          "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
          "object": {"id": "urn:workbench:module:x"}, "context": {"extensions": {}}}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps([st]))
    res = subprocess.run([str(ralph_bin / "python"), "-c", VALIDATE, str(path)], capture_output=True, text=True,
                         check=True)
    assert json.loads(res.stdout)["n_invalid"] == 1


def test_the_demo_round_trips_through_a_real_lrs(demo_copy, library, lrs, tmp_path):
    src = connect(demo_copy)
    total = len(export_rows(src, library=library, include_voided=True))
    seen = []
    with LrsClient(lrs) as client:
        first = push(src, client, library=library, batch=1000, progress=lambda d, t: seen.append((d, t)))
        assert first.statements == total and seen[-1] == (total, total)
        assert push(src, client, library=library).statements == 0  # nothing new since the cursor
        fresh = connect(f"sqlite:///{tmp_path / 'fresh.db'}")
        got = pull(fresh, client, organization_id="northwind", library=library, create_leaders=True, batch=1000)
        assert got.statements == total and got.batches == -(-total // 1000)  # pages followed through `more`
        assert pull(fresh, client, organization_id="northwind", library=library).statements == 0
    ours = _drop(export_statements(src, library=library), "stored", "authority")
    theirs = _drop(export_statements(fresh, library=library), "stored", "authority")
    assert len(theirs) == len(ours) and theirs == ours
    with transaction(fresh) as s:
        names = dict(s.query(m.Leader.id, m.Leader.name).all())
    with transaction(src) as s:
        original = dict(s.query(m.Leader.id, m.Leader.name).all())
    travelled = {st["actor"]["account"]["name"].split("/")[0] for st in ours}
    assert set(names) == travelled and all(names[lid] == original[lid] for lid in travelled)


def test_an_interrupted_push_goes_on_where_it_stopped(demo_copy, library, lrs):
    src = connect(demo_copy)
    total = len(export_rows(src, library=library, include_voided=True))

    class Flaky(LrsClient):
        calls = 0

        def post_statements(self, statements):
            Flaky.calls += 1
            if Flaky.calls == 3:
                raise LrsError("connection lost")
            super().post_statements(statements)

    reset_cursor(src, lrs.endpoint)
    with Flaky(lrs) as client, pytest.raises(LrsError, match="connection lost"):
        push(src, client, library=library, batch=1000)
    with LrsClient(lrs) as client:
        rest = push(src, client, library=library, batch=1000)
    assert rest.statements == total - 2000


def test_wrong_credentials_are_one_clear_error(lrs):
    from dataclasses import replace

    with LrsClient(replace(lrs, password="wrong")) as client, pytest.raises(LrsError, match="refused the credentials"):
        next(client.statement_pages())


def test_cli_push_and_pull(lrs, tmp_path):
    from datetime import UTC, datetime

    from workbench.store.xapi import make_statement, record

    src, dst = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    eng = connect(src)
    with transaction(eng) as s:
        s.add(m.Organization(id="o", name="O"))
        s.flush()
        s.add(m.Leader(id="L1", organization_id="o", name="Ann Lee", role_level="experienced"))
    for k in range(5):
        record(eng, make_statement("L1", "launched", "module", "feedback-sbi", datetime(2026, 10, 5, 9 + k, tzinfo=UTC)))
    env = {**os.environ, "WORKBENCH_LRS_ENDPOINT": lrs.endpoint, "WORKBENCH_LRS_USER": "cli",
           "WORKBENCH_LRS_PASSWORD": lrs.password}
    run = lambda *a: subprocess.run([sys.executable, "-m", "workbench.cli", "xapi", *a], capture_output=True,  # noqa: E731
                                    text=True, env=env, cwd=REPO)
    res = run("push", "--db", src, "--batch", "2")
    assert res.returncode == 0 and res.stdout.strip() == f"pushed 5 statements in 3 requests to {lrs.endpoint}", res
    res = run("pull", "--db", dst, "--org", "o", "--create-leaders", "--batch", "2")
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == f"pulled 5 new statements (0 already stored) in 3 pages from {lrs.endpoint}"
    assert len(export_statements(connect(dst))) == 5
    bad = run("pull", "--db", dst, "--endpoint", "http://127.0.0.1:9/xAPI/")
    assert bad.returncode == 1 and bad.stderr.startswith("error: http://127.0.0.1:9/xAPI/: ConnectError")
    assert len(bad.stderr.strip().splitlines()) == 1
