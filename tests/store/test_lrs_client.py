"""The LRS client against an in-process statements resource that pages with `more` as xAPI says."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from workbench.store import models as m
from workbench.store import transaction
from workbench.store.lrs import LrsClient, LrsConfig, LrsError, pull, push
from workbench.store.xapi import make_statement, record

T0 = datetime(2026, 10, 5, 9, tzinfo=UTC)


class Resource:
    """Statements in stored order; GET pages of ``limit`` with ``since`` (stored) and a ``more`` token."""

    def __init__(self):
        self.statements: list[dict] = []
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.headers.get("X-Experience-API-Version") != "1.0.3":
            return httpx.Response(400, json={"error": "version header"})
        if request.headers.get("Authorization") != httpx.BasicAuth("u", "p")._auth_header:
            return httpx.Response(401)
        if request.method == "POST":
            for st in json.loads(request.content):
                old = next((o for o in self.statements if o["id"] == st["id"]), None)
                if old is None:
                    stored = T0 + timedelta(seconds=len(self.statements))
                    self.statements.append({**st, "stored": stored.isoformat().replace("+00:00", "Z")})
                elif {k: v for k, v in old.items() if k != "stored"} != st:
                    return httpx.Response(409)
            return httpx.Response(200, json=[])
        q = request.url.params
        start = int(q.get("start", 0))
        rows = [st for st in self.statements if "since" not in q or st["stored"] > q["since"]]
        limit = int(q.get("limit", 2))
        page = rows[start:start + limit]
        body = {"statements": page}
        if start + limit < len(rows):
            more = httpx.URL("/xAPI/statements", params={**dict(q), "start": start + limit})
            body["more"] = str(more)
        return httpx.Response(200, json=body)


@pytest.fixture
def seeded(sqlite_url):
    from workbench.store import connect

    eng = connect(sqlite_url)
    with transaction(eng) as s:
        s.add(m.Organization(id="o", name="O"))
        s.flush()
        s.add(m.Leader(id="L1", organization_id="o", name="Ann", role_level="experienced"))
    for k in range(7):
        record(eng, make_statement("L1", "launched", "module", "feedback-sbi", T0 + timedelta(hours=k),
                                   statement_id=uuid.UUID(int=k + 1)))
    return eng


def _client(resource):
    return LrsClient(LrsConfig("https://lrs.example.org/xAPI/", "u", "p"), transport=httpx.MockTransport(resource))


def test_push_then_pull_pages_with_more_and_resumes(seeded, tmp_path):
    from workbench.store import connect

    lrs = Resource()
    with _client(lrs) as client:
        progress = []
        assert push(seeded, client, batch=3, progress=lambda d, t: progress.append((d, t))).statements == 7
        assert progress == [(0, 7), (3, 7), (6, 7), (7, 7)]
        assert push(seeded, client, batch=3).statements == 0
        other = connect(f"sqlite:///{tmp_path / 'other.db'}")
        with transaction(other) as s:
            s.add(m.Organization(id="o", name="O"))
            s.flush()
            s.add(m.Leader(id="L1", organization_id="o", name="Ann", role_level="experienced"))
        first = pull(other, client, batch=3)
        assert (first.statements, first.batches) == (7, 3)
        gets = [r for r in lrs.requests if r.method == "GET"]
        assert gets[0].url.params["ascending"] == "true" and "start=3" in str(gets[1].url)
        record(seeded, make_statement("L1", "completed", "module", "feedback-sbi", T0 + timedelta(days=1),
                                      statement_id=uuid.UUID(int=99)))
        assert push(seeded, client, batch=3).statements == 1
        again = pull(other, client, batch=3)
        assert again.statements == 1  # only what the LRS stored since the saved cursor
        assert gets[0].url.params.get("since") is None
        assert [r for r in lrs.requests if r.method == "GET"][-1].url.params["since"] == lrs.statements[-2]["stored"]


def test_a_different_statement_under_a_known_id_is_a_clear_error(seeded):
    lrs = Resource()
    with _client(lrs) as client:
        push(seeded, client)
        lrs.statements[0]["verb"] = {"id": "http://adlnet.gov/expapi/verbs/experienced"}
        from workbench.store.lrs import reset_cursor

        reset_cursor(seeded, client.config.endpoint)
        with pytest.raises(LrsError, match="HTTP 409: the LRS holds different statements"):
            push(seeded, client)


def test_refused_credentials(seeded):
    lrs = Resource()
    bad = LrsClient(LrsConfig("https://lrs.example.org/xAPI/", "u", "nope"), transport=httpx.MockTransport(lrs))
    with bad, pytest.raises(LrsError, match="HTTP 401: the LRS refused the credentials"):
        push(seeded, bad)


def test_configuration_errors():
    with pytest.raises(ValueError, match="no LRS endpoint"):
        LrsConfig.from_env()
    with pytest.raises(ValueError, match="not an http"):
        LrsConfig.from_env("lrs.example.org")


def test_a_more_link_that_does_not_advance_stops_with_an_error(seeded):
    """An LRS whose `more` link answers with statements already read would make a pull loop forever."""
    lrs = Resource()
    with _client(lrs) as client:
        push(seeded, client)
    stuck = lambda request: (lrs(request) if "start" not in request.url.params  # noqa: E731
                             else lrs(httpx.Request("GET", str(request.url.copy_remove_param("start")),
                                                    headers=request.headers)))
    with LrsClient(LrsConfig("https://lrs.example.org/xAPI/", "u", "p"), transport=httpx.MockTransport(stuck)) as c:
        pages = c.statement_pages(limit=3)
        assert len(next(pages)) == 3
        with pytest.raises(LrsError, match="page 2 of GET statements .* repeats statements already read"):
            next(pages)
