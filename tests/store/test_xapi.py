"""xAPI statements: export/import round trip, and all-or-nothing rejection of bad batches."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from workbench import limits
from workbench.store import connect, transaction
from workbench.store import models as m
from workbench.store import xapi as workbench_xapi
from workbench.store.xapi import (
    BatchTooLarge,
    StatementError,
    duration_seconds,
    export_statements,
    import_statements,
    local_event_row,
    make_statement,
    record,
    to_event,
)

T0 = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)


def _seed(engine, leaders=("L1", "L2")):
    with transaction(engine) as s:
        s.add(m.Organization(id="o", name="O"))
        s.flush()
        for lid in leaders:
            s.add(m.Leader(id=lid, organization_id="o", name=lid, role_level="experienced"))


def _statements():
    return [
        make_statement("L1", "launched", "module", "feedback-sbi", T0, title="SBI", competency="feedback"),
        make_statement("L1", "completed", "module", "feedback-sbi", T0 + timedelta(minutes=17), duration=1020.5,
                       completion=True, competency="feedback"),
        make_statement("L2", "passed", "knowledge-check", "feedback-sbi", T0 + timedelta(hours=1), score=0.75,
                       success=True),
    ]


def _without_stored(statements):
    return [{k: v for k, v in st.items() if k != "stored"} for st in statements]


def test_round_trip_between_two_stores(engine, tmp_path):
    _seed(engine)
    for st in _statements():
        record(engine, st)
    exported = export_statements(engine)
    assert len(exported) == 3 and exported[0]["verb"]["id"].endswith("/launched")
    other = connect(f"sqlite:///{tmp_path / 'other.db'}")
    _seed(other)
    assert import_statements(other, json.loads(json.dumps(exported))).stored == 3
    # exactly the same statements; only `stored` (when each store recorded them) differs
    assert _without_stored(export_statements(other)) == _without_stored(exported)
    with transaction(other) as s:
        row = s.scalars(sa.select(m.ActivityEvent).where(m.ActivityEvent.verb == "completed")).one()
        assert (row.object_type, row.object_id, row.competency) == ("module", "feedback-sbi", "feedback")
        assert row.duration_seconds == pytest.approx(1020.5) and row.origin == "imported"
    assert [e["actor"]["account"]["name"] for e in export_statements(other, leader_ids=["L2"])] == ["L2"]
    # a second import of the same file stores nothing new and refuses nothing
    again = import_statements(other, json.loads(json.dumps(exported)))
    assert (again.stored, again.skipped) == (0, 3)


def _exported(engine=None):
    """The three statements as another workbench exports them (the workbench's own home page)."""
    from workbench.store.xapi_export import _Ctx, render_local

    ctx = _Ctx(leaders={"L1": ("L1", "o", None), "L2": ("L2", "o", None)},
               profiles={"o": __import__("workbench.store.xapi_profile", fromlist=["x"]).XapiProfile()},
               cohorts={}, sessions={})
    out = []
    for st in _statements():
        row = m.ActivityEvent(**{k: v for k, v in to_event(st).__dict__.items() if not k.startswith("_")})
        row.stored_at = T0
        out.append({k: v for k, v in render_local(row, ctx).items() if k != "stored"})
    return out


def _bad(mutate):
    batch = _exported()
    mutate(batch)
    return batch


BAD = {
    "not an IRI": (lambda b: b[1]["verb"].update(id="completed"), 1, "verb.id"),
    "two identifiers": (lambda b: b[0]["actor"].update(mbox="mailto:a@b.example"), 0, "actor"),
    "no identifier": (lambda b: b[2]["actor"].pop("account"), 2, "actor"),
    "naive timestamp": (lambda b: b[1].update(timestamp="2026-10-05T09:00:00"), 1, "timestamp"),
    "bad duration": (lambda b: b[1]["result"].update(duration="17 minutes"), 1, "duration"),
    "scaled score out of range": (lambda b: b[2]["result"]["score"].update(scaled=1.5), 2, "scaled"),
    "bad uuid": (lambda b: b[0].update(id="not-a-uuid"), 0, "id"),
    "missing object": (lambda b: b[0].pop("object"), 0, "object"),
    "duplicate id in batch": (lambda b: b[2].update(id=b[0]["id"]), 2, "duplicate"),
    "unknown leader": (lambda b: b[2]["actor"]["account"].update(name="L404"), 2, "'L404' on http://localhost:8866/ is no leader of o"),
    "another system's account": (lambda b: b[1]["actor"]["account"].update(homePage="https://lms.example.com"), 1,
                                 "account 'L1' on https://lms.example.com"),
    "empty extensions": (lambda b: b[0]["context"].update(extensions={}), 0, "context.extensions: empty value"),
    "empty verb display": (lambda b: b[0]["verb"].update(display={}), 0, "verb.display: empty value"),
    "null result": (lambda b: b[0].update(result=None), 0, "result: empty value"),
    "agent as object": (lambda b: b[0].update(object={"objectType": "Agent", "mbox": "mailto:a@b.example"}), 0,
                        "not a learning activity"),
    "statement ref without voiding": (lambda b: b[0].update(object={"objectType": "StatementRef", "id": b[1]["id"]}),
                                      0, "only in a voiding statement"),
    "raw above max": (lambda b: b[2]["result"]["score"].update(raw=11, min=0, max=10), 2, "outside min..max"),
    "bad version": (lambda b: b[0].update(version="2.0.0"), 0, "version"),
    "absurd duration": (lambda b: b[1]["result"].update(duration="P999999999Y"), 1,
                        "result.duration: 'P999999999Y' is longer than the limit of 24 hours"),
    "duration just over a day": (lambda b: b[1]["result"].update(duration="PT24H1S"), 1, "longer than the limit"),
    "oversized statement": (lambda b: b[0]["context"]["extensions"].update(
        {"urn:x:pad": "x" * limits.MAX_STATEMENT_BYTES}), 0, "bytes of JSON; the limit is"),
    "object id too long for its column": (lambda b: b[0]["object"].update(id="urn:x:" + "o" * 600), 0,
                                          "object.id: 606 characters; the object id may have at most 500"),
    "verb too long for its column": (lambda b: b[0]["verb"].update(id="https://v.example/" + "v" * 500), 0,
                                     "verb.id: 518 characters; the verb may have at most 500"),
    "competency not text": (lambda b: b[0]["context"]["extensions"].update({"urn:workbench:competency": 7}), 0,
                            "context.extensions.urn:workbench:competency: must be text"),
    "infinite raw score": (lambda b: b[2]["result"]["score"].update(raw=float("inf")), 2, "result.score.raw"),
    "overlong response": (lambda b: b[2]["result"].update(response="y" * (limits.MAX_RESPONSE_CHARS + 1)), 2,
                          "result.response"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_statement_refuses_the_whole_batch(engine, case):
    _seed(engine)
    mutate, index, words = BAD[case]
    with pytest.raises(StatementError) as err:
        import_statements(engine, _bad(mutate))
    assert err.value.index == index and words in str(err.value)
    with transaction(engine) as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(m.ActivityEvent)) == 0


def test_already_stored_statement_is_skipped_or_refused_when_different(engine):
    _seed(engine)
    batch = _exported()
    import_statements(engine, batch[:1])
    res = import_statements(engine, copy.deepcopy(batch))
    assert (res.stored, res.skipped) == (2, 1)
    changed = copy.deepcopy(batch)
    changed[0]["object"]["id"] = "urn:workbench:module:other-module"
    with pytest.raises(StatementError, match="statement 0: id: .* already stored with different content"):
        import_statements(engine, changed)
    assert len(export_statements(engine)) == 3


def test_a_day_long_duration_is_accepted(engine):
    _seed(engine)
    batch = _bad(lambda b: b[1]["result"].update(duration="P1D"))
    assert import_statements(engine, batch).stored == 3


def test_a_batch_over_the_limit_is_refused_before_parsing(engine, monkeypatch):
    _seed(engine)
    monkeypatch.setattr("workbench.store.xapi.MAX_BATCH_STATEMENTS", 2)
    batch = _exported()
    with pytest.raises(BatchTooLarge, match="3 statements in one batch; the limit is 2"):
        import_statements(engine, batch)
    assert export_statements(engine) == []


def test_the_shipped_batch_limit_refuses_fifty_thousand(engine):
    _seed(engine)
    one = _exported()[0]
    with pytest.raises(BatchTooLarge, match="50,000 statements in one batch; the limit is 10,000"):
        import_statements(engine, [one] * 50_000)


def test_errors_name_the_source_file(engine):
    _seed(engine)
    batch = _bad(lambda b: b[2]["result"].update(duration="P999999999Y"))
    with pytest.raises(StatementError) as err:
        import_statements(engine, batch, source="in.json")
    assert str(err.value).startswith("in.json: statement 2: result.duration") and err.value.index == 2


def test_batch_must_be_a_list(engine):
    with pytest.raises(StatementError, match="JSON array"):
        import_statements(engine, {"actor": {}})


@pytest.mark.parametrize("iso,seconds", [("PT30S", 30), ("PT1H2M3.5S", 3723.5), ("P1DT1M", 86460), ("PT0.25S", 0.25)])
def test_durations(iso, seconds):
    assert duration_seconds(iso) == pytest.approx(seconds)


_LOCAL_CASES = [
    ("L1", "launched", "module", "feedback-sbi", T0, dict(title="SBI", competency="feedback")),
    ("L1", "progressed", "module", "feedback-sbi", T0 + timedelta(seconds=611.123456), dict(title="SBI",
                                                                                       duration=611.123456)),
    ("L1", "completed", "module", "feedback-sbi", T0 + timedelta(minutes=17), dict(duration=1020.5, completion=True,
                                                                                    competency="feedback")),
    ("L2", "failed", "knowledge-check", "feedback-sbi", T0.astimezone(timezone(timedelta(hours=2))),
     dict(title="SBI", score=1 / 3, success=False, competency="feedback")),
    ("L2", "completed", "scenario", "hard-talk", T0 + timedelta(microseconds=7),
     dict(title="Hard talk", score=-0.25, duration=95.0, completion=True, competency="conflict")),
    ("L2", "attended", "classroom-session", "C01-S1", T0, dict(title="Session 1")),
    ("L3", "launched", "module", "m", T0, dict(competency="")),
]


@pytest.mark.parametrize("leader,verb,kind,oid,when,kw", _LOCAL_CASES)
def test_local_event_row_is_the_row_of_the_validated_statement(leader, verb, kind, oid, when, kw):
    sid = uuid.uuid5(uuid.NAMESPACE_URL, f"{leader}/{verb}/{oid}")
    st = make_statement(leader, verb, kind, oid, when, statement_id=sid, **kw)
    expected = to_event(st)
    row = local_event_row(leader, verb, kind, oid, when, statement_id=sid, **kw)
    columns = [c.name for c in m.ActivityEvent.__table__.columns if c.name != "stored_at"]
    assert sorted(row) == sorted(columns)
    for name in columns:
        assert row[name] == getattr(expected, name), name
    # the same JSON text, key order included (the row stores it as it is)
    assert json.dumps(row["statement"]) == json.dumps(st.to_json())
    assert row["timestamp"].tzinfo == UTC


@pytest.mark.parametrize("verb,when,kw,match", [
    ("voided", T0, {}, "unknown verb"), ("liked", T0, {}, "unknown verb"),
    ("launched", T0.replace(tzinfo=None), {}, "time zone"),
    ("passed", T0, dict(score=1.5), "outside"), ("passed", T0, dict(score=float("nan")), "outside"),
])
def test_local_event_row_refuses_what_make_statement_refuses(verb, when, kw, match):
    with pytest.raises(ValueError, match=match):
        local_event_row("L1", verb, "module", "m", when, statement_id=uuid.uuid4(), **kw)


def test_cli_export_and_import(tmp_path):
    src, dst = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    for url in (src, dst):
        _seed(connect(url))
    e = connect(src)
    for st in _statements():
        record(e, st)
    out = tmp_path / "x.json"
    run = lambda *a: subprocess.run([sys.executable, "-m", "workbench.cli", *a], capture_output=True, text=True)  # noqa: E731
    assert run("xapi", "export", "--db", src, "--out", str(out)).returncode == 0
    assert len(json.loads(out.read_text())) == 3
    ok = run("xapi", "import", str(out), "--db", dst)
    assert ok.returncode == 0 and "imported 3" in ok.stdout
    bad = json.loads(out.read_text())
    bad[1]["timestamp"] = "yesterday"
    for i in bad:
        i["id"] = str(uuid.uuid4())
    out.write_text(json.dumps(bad))
    res = run("xapi", "import", str(out), "--db", dst)
    assert res.returncode == 1 and res.stderr.startswith(f"error: {out}: statement 1: timestamp")
    assert len(res.stderr.strip().splitlines()) == 1
    assert len(export_statements(connect(dst))) == 3


def test_cli_refuses_a_file_over_the_size_limit(tmp_path):
    db = f"sqlite:///{tmp_path / 'a.db'}"
    _seed(connect(db))
    big = tmp_path / "big.json"
    big.write_text(json.dumps(_exported()[:1] * 3) + " " * 300_000)
    env = {**__import__("os").environ, "WORKBENCH_MAX_XAPI_MB": "0.25"}
    res = subprocess.run([sys.executable, "-m", "workbench.cli", "xapi", "import", str(big), "--db", db],
                         capture_output=True, text=True, env=env)
    assert res.returncode == 1, res
    line = res.stderr.strip()
    assert line == f"error: {big}: xAPI statements file is 0.3 MB; the limit is 0.25 MB (set WORKBENCH_MAX_XAPI_MB to change it)"
    assert export_statements(connect(db)) == []


def test_local_statements_are_rendered_rich(engine, library):
    _seed(engine)
    with transaction(engine) as s:
        s.add(m.Cohort(id="C1", organization_id="o", name="Autumn cohort"))
        s.flush()
        s.get(m.Leader, "L2").cohort_id = "C1"
    mod = next(iter(library.modules.values()))
    n = len(mod.knowledge_check)
    record(engine, make_statement("L2", "passed", "knowledge-check", mod.id, T0, score=(n - 1) / n, success=True))
    record(engine, make_statement("L1", "completed", "module", mod.id, T0, completion=True))
    check, module = sorted(export_statements(engine, library=library), key=lambda st: st["verb"]["id"], reverse=True)
    assert check["object"]["definition"]["type"] == "http://adlnet.gov/expapi/activities/assessment"
    assert check["result"]["score"] == {"scaled": (n - 1) / n, "raw": n - 1, "min": 0, "max": n}
    ctx = check["context"]
    assert ctx["contextActivities"]["parent"][0]["id"] == f"urn:workbench:module:{mod.id}"
    assert ctx["contextActivities"]["grouping"][0]["id"] == "urn:workbench:cohort:C1"
    assert (ctx["platform"], ctx["language"]) == ("Leadership Workbench", "en-US")
    assert str(uuid.UUID(ctx["registration"])) == ctx["registration"]
    assert check["actor"] == {"objectType": "Agent", "name": "L2",
                              "account": {"homePage": "http://localhost:8866/", "name": "L2"}}
    assert module["object"]["definition"]["type"] == "http://adlnet.gov/expapi/activities/module"
    assert "contextActivities" not in module["context"] and "extensions" not in module["context"]
    assert module["context"]["registration"] != ctx["registration"]  # L1 has no cohort: their own plan
    assert module["version"] == "1.0.3" and module["authority"]["account"]["name"] == "org:o"


def test_the_demo_export_keeps_rater_identities_out(demo_engine, library):
    statements = export_statements(demo_engine, library=library)
    text = json.dumps(statements)
    with transaction(demo_engine) as s:
        raters = s.execute(sa.select(m.Rater.id, m.Rater.name, m.Rater.email)).all()
        leaders = set(s.scalars(sa.select(m.Leader.name)))
        sheets = s.execute(sa.select(m.AssessmentSession.id, m.AssessmentSession.rater_role)).all()
        hidden = s.scalars(sa.select(m.DiscussionPost.id).where(m.DiscussionPost.hidden.is_(True))).all()
        n_posts = s.scalar(sa.select(sa.func.count()).select_from(m.DiscussionPost))
    assert raters and sheets
    for rid, name, email in raters:
        assert rid not in text and (email is None or email not in text)
        if name is not None and name not in leaders:  # a rater who is also a leader has activity of their own
            assert name not in text
    for sid, role in sheets:
        if role != "self":
            assert sid not in text
    pools = [st for st in statements if st["actor"]["objectType"] == "Group"]
    assert pools and all(st["actor"]["account"]["name"].split("/")[1] == "raters" for st in pools)
    assert all(st["result"]["extensions"]["urn:workbench:sheets"] in (1, 3) for st in pools)
    posts = [st for st in statements if st["verb"]["id"].endswith("/commented")]
    assert 0 < len(posts) <= n_posts - len(hidden)
    for st in statements:
        assert workbench_xapi.empty_value(st) is None


def test_attendance_names_its_cohort(engine):
    _seed(engine)
    with transaction(engine) as s:
        s.add(m.Cohort(id="C1", organization_id="o", name="Autumn cohort"))
        s.flush()
        s.add(m.ClassroomSession(id="S1", cohort_id="C1", title="Giving feedback", starts_at=T0, minutes=90))
    record(engine, make_statement("L1", "attended", "classroom-session", "S1", T0, title="Giving feedback",
                                  duration=5400.0))
    (st,) = export_statements(engine)
    assert st["verb"]["id"] == "http://adlnet.gov/expapi/verbs/attended"
    assert st["object"]["definition"]["type"] == "http://adlnet.gov/expapi/activities/meeting"
    assert st["context"]["contextActivities"]["parent"] == [
        {"objectType": "Activity", "id": "urn:workbench:cohort:C1",
         "definition": {"type": "http://adlnet.gov/expapi/activities/course", "name": {"en-US": "Autumn cohort"}}}]
    assert st["result"] == {"duration": "PT5400S"}
