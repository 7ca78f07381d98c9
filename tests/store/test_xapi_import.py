"""xAPI import from other systems: identity, statements kept as sent, voiding, unknown content."""

from __future__ import annotations

import copy
import json
import uuid

import pytest
import sqlalchemy as sa

from workbench.store import models as m
from workbench.store import repo, transaction
from workbench.store.xapi import StatementError, export_statements, import_statements
from workbench.store.xapi_profile import XapiProfile, read_profile_file, save_profile

LMS = "https://lms.example.com"
HOME = "http://localhost:8866/"


def _seed(engine):
    with transaction(engine) as s:
        s.add(m.Organization(id="o", name="O"))
        s.add(m.Organization(id="p", name="P"))
        s.flush()
        for lid, org in (("L1", "o"), ("L2", "o"), ("P1", "p")):
            s.add(m.Leader(id=lid, organization_id=org, name=lid, role_level="experienced"))


def _st(actor, verb="http://adlnet.gov/expapi/verbs/completed", obj="urn:workbench:module:feedback-sbi", **extra):
    out = {"id": str(uuid.uuid4()), "actor": {"objectType": "Agent", **actor}, "verb": {"id": verb},
           "object": {"objectType": "Activity", "id": obj}, "timestamp": "2026-10-05T11:00:00+02:00"}
    out.update(extra)
    return out


def _acc(name, home=HOME):
    return {"account": {"homePage": home, "name": name}}


def _events(engine):
    with transaction(engine) as s:
        return s.scalars(sa.select(m.ActivityEvent).order_by(m.ActivityEvent.timestamp, m.ActivityEvent.id)).all()


def test_another_systems_account_with_a_leaders_name_is_never_credited(engine):
    _seed(engine)
    batch = [_st(_acc("L1")), _st(_acc("L1", LMS))]
    with pytest.raises(StatementError) as err:
        import_statements(engine, batch, organization_id="o")
    assert err.value.index == 1
    assert "account 'L1' on https://lms.example.com" in err.value.reason and "home page is" in err.value.reason
    assert _events(engine) == []


def test_identity_mapping_credits_the_mapped_leader(engine):
    _seed(engine)
    save_profile(engine, "o", XapiProfile(identities=[
        {"leader": "L2", "account": {"homePage": LMS, "name": "L1"}},
        {"leader": "L1", "mbox": "mailto:ann@example.org"}]))
    batch = [_st(_acc("L1", LMS)), _st({"mbox": "mailto:ann@example.org"})]
    res = import_statements(engine, batch, organization_id="o")
    assert res.stored == 2
    assert {e.id: e.leader_id for e in _events(engine)} == {batch[0]["id"]: "L2", batch[1]["id"]: "L1"}
    assert repo.completed_modules(engine, "L2") == {"feedback-sbi"}


def test_a_leader_of_another_organization_is_refused(engine):
    _seed(engine)
    with pytest.raises(StatementError, match="statement 0: actor: 'P1' is a leader of another organization"):
        import_statements(engine, [_st(_acc("P1"))], organization_id="o")


def test_external_learners_are_kept_only_where_allowed_and_credited_to_no_one(engine):
    _seed(engine)
    batch = [_st(_acc("L1", LMS)), _st({"mbox": "mailto:guest@example.org"})]
    with pytest.raises(StatementError, match="statement 0"):
        import_statements(engine, copy.deepcopy(batch), organization_id="o")
    save_profile(engine, "o", XapiProfile(external_learners="keep"))
    res = import_statements(engine, batch, organization_id="o")
    assert (res.stored, res.external) == (2, 2)
    rows = {r.id: r for r in _events(engine)}
    assert [r.leader_id for r in rows.values()] == [None, None]
    assert rows[batch[0]["id"]].actor == f"account:{LMS}|L1"
    assert rows[batch[1]["id"]].actor == "mbox:mailto:guest@example.org"
    assert repo.completed_modules(engine, "L1") == set()
    assert repo.activity_events(engine).empty


def test_statements_are_kept_and_exported_as_sent(engine):
    _seed(engine)
    sent = [
        _st(_acc("L1"), verb="http://adlnet.gov/expapi/verbs/completed/",
            result={"score": {"raw": 8, "min": 0, "max": 10, "scaled": 0.8}, "duration": "PT17M"}),
        _st(_acc("L1"), verb="https://w3id.org/xapi/other-registry/verbs/completed",
            context={"registration": "0b7b4b5e-1d0c-4f7e-8f3a-5a2b4f0f6a11", "platform": "Other LMS",
                     "language": "fr-FR", "extensions": {"https://lms.example.com/x/cost": 1.50}}),
        _st(_acc("L2"), verb="https://example.org/verbs/" + "very-long-last-segment-" * 8),
    ]
    sent[2].pop("timestamp")
    assert import_statements(engine, copy.deepcopy(sent), organization_id="o").stored == 3
    verbs = {e.verb for e in _events(engine)}
    assert verbs == {"http://adlnet.gov/expapi/verbs/completed/",
                     "https://w3id.org/xapi/other-registry/verbs/completed", sent[2]["verb"]["id"]}
    assert repo.completed_modules(engine, "L1") == set()  # neither is ADL's "completed"
    out = {st["id"]: st for st in export_statements(engine)}
    first = out[sent[0]["id"]]
    assert first["timestamp"] == "2026-10-05T11:00:00+02:00"
    assert json.dumps(first["result"]) == json.dumps(sent[0]["result"])  # 8 stays 8, 0.8 stays 0.8
    assert out[sent[1]["id"]]["context"] == sent[1]["context"]
    third = out[sent[2]["id"]]
    assert third["timestamp"] == third["stored"]  # no timestamp sent: the stored time
    for st in out.values():
        assert st["version"] == "1.0.0" and st["authority"]["account"]["homePage"] == HOME
        assert "extensions" not in st.get("context", {}) or st["context"]["extensions"]


def test_a_statement_without_an_id_gets_one(engine):
    _seed(engine)
    st = _st(_acc("L1"))
    st.pop("id")
    import_statements(engine, [st], organization_id="o")
    (out,) = export_statements(engine)
    assert uuid.UUID(out["id"]) and out["actor"] == st["actor"]


def test_voiding_statements(engine):
    _seed(engine)
    a, b = _st(_acc("L1")), _st(_acc("L1"), obj="urn:workbench:module:one-on-ones")
    import_statements(engine, [a, b], organization_id="o")
    assert repo.completed_modules(engine, "L1") == {"feedback-sbi", "one-on-ones"}
    void = {"id": str(uuid.uuid4()), "actor": {"mbox": "mailto:admin@example.org"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
            "object": {"objectType": "StatementRef", "id": a["id"]}}
    res = import_statements(engine, [void], organization_id="o")
    assert (res.stored, res.voided) == (1, 1)
    assert repo.completed_modules(engine, "L1") == {"one-on-ones"}
    ids = [st["id"] for st in export_statements(engine)]
    assert a["id"] not in ids and void["id"] in ids and b["id"] in ids
    with pytest.raises(StatementError, match="a voiding statement cannot be voided"):
        import_statements(engine, [{**void, "id": str(uuid.uuid4()),
                                    "object": {"objectType": "StatementRef", "id": void["id"]}}], organization_id="o")


def test_a_voiding_statement_may_arrive_before_its_target(engine):
    _seed(engine)
    target = _st(_acc("L1"))
    void = {"id": str(uuid.uuid4()), "actor": _acc("L2"), "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
            "object": {"objectType": "StatementRef", "id": target["id"]}}
    import_statements(engine, [void], organization_id="o")
    import_statements(engine, [target], organization_id="o")
    assert repo.completed_modules(engine, "L1") == set()
    assert [st["id"] for st in export_statements(engine)] == [void["id"]]


def test_unknown_content_ids_are_refused_unless_kept(engine, library):
    _seed(engine)
    batch = [_st(_acc("L1")), _st(_acc("L1"), obj="urn:workbench:module:no-such-module")]
    with pytest.raises(StatementError, match="statement 1: object.id: unknown module 'no-such-module'"):
        import_statements(engine, copy.deepcopy(batch), organization_id="o", library=library)
    assert import_statements(engine, batch, organization_id="o", library=library,
                             keep_unknown_content=True).stored == 2


def test_a_store_with_several_organizations_needs_one_named(engine):
    _seed(engine)
    with pytest.raises(ValueError, match="2 organizations: name one with --org"):
        import_statements(engine, [_st(_acc("L1"))])


def test_profile_file_errors_name_the_file_and_field(tmp_path):
    f = tmp_path / "xapi.yaml"
    f.write_text("home_page: lms.example.com\n")
    with pytest.raises(ValueError, match=r"xapi.yaml: home_page: .*not an http\(s\) URL"):
        read_profile_file(f)
    f.write_text("identities:\n  - leader: L1\n    mbox: ann@example.org\n")
    with pytest.raises(ValueError, match=r"identities.0: .*mbox must start with 'mailto:'"):
        read_profile_file(f)
    f.write_text("identities:\n  - {leader: L1, mbox: 'mailto:a@x.org'}\n  - {leader: L2, mbox: 'mailto:a@x.org'}\n")
    with pytest.raises(ValueError, match="mapped to both L1 and L2"):
        read_profile_file(f)


def test_the_home_page_is_configurable(engine, monkeypatch):
    _seed(engine)
    monkeypatch.setenv("WORKBENCH_XAPI_HOME_PAGE", "https://workbench.example.org/")
    with pytest.raises(StatementError, match="home page is https://workbench.example.org/"):
        import_statements(engine, [_st(_acc("L1"))], organization_id="o")
    save_profile(engine, "o", XapiProfile(home_page=LMS + "/"))
    assert import_statements(engine, [_st(_acc("L1", LMS + "/"))], organization_id="o").stored == 1
    (out,) = export_statements(engine)
    assert out["authority"]["account"]["homePage"] == LMS + "/"


def test_an_export_seeds_a_fresh_store(engine, tmp_path):
    from workbench.store import connect
    from workbench.store.xapi import make_statement, record

    _seed(engine)
    with transaction(engine) as s:
        s.add(m.Cohort(id="C1", organization_id="o", name="Autumn cohort"))
        s.flush()
        s.get(m.Leader, "L2").cohort_id = "C1"
        s.get(m.Leader, "L2").name = "Ann Lee"
    from datetime import UTC, datetime

    t = datetime(2026, 10, 5, 9, tzinfo=UTC)
    record(engine, make_statement("L2", "completed", "module", "feedback-sbi", t, completion=True))
    record(engine, make_statement("L1", "launched", "module", "feedback-sbi", t))
    exported = export_statements(engine)
    fresh = connect(f"sqlite:///{tmp_path / 'fresh.db'}")
    res = import_statements(fresh, exported, organization_id="o", create_leaders=True)
    assert (res.stored, res.leaders_created) == (2, 2)
    with transaction(fresh) as s:
        ann = s.get(m.Leader, "L2")
        assert (ann.name, ann.cohort_id, s.get(m.Cohort, "C1").name) == ("Ann Lee", "C1", "Autumn cohort")
    strip = lambda sts: [{k: v for k, v in st.items() if k != "stored"} for st in sts]  # noqa: E731
    assert strip(export_statements(fresh)) == strip(exported)


def test_cli_identities_and_a_refused_import(tmp_path):
    import subprocess
    import sys

    from workbench.store import connect

    db = f"sqlite:///{tmp_path / 'a.db'}"
    _seed(connect(db))
    run = lambda *a: subprocess.run([sys.executable, "-m", "workbench.cli", "xapi", *a, "--db", db],  # noqa: E731
                                    capture_output=True, text=True)
    batch = tmp_path / "lms.json"
    batch.write_text(json.dumps([_st(_acc("L1")), _st(_acc("L1", LMS))]))
    res = run("import", str(batch), "--org", "o")
    assert res.returncode == 1
    assert res.stderr.startswith(f"error: {batch}: statement 1: actor: account 'L1' on {LMS}")
    profile = tmp_path / "xapi.yaml"
    profile.write_text(f"identities:\n  - leader: L2\n    account: {{homePage: '{LMS}', name: L1}}\n")
    res = run("identities", str(profile), "--org", "o")
    assert res.returncode == 0 and "1 identity mappings" in res.stdout, res.stderr
    shown = json.loads(run("identities", "--org", "o").stdout)
    assert shown["identities"] == [{"leader": "L2", "account": {"homePage": LMS, "name": "L1"}}]
    res = run("import", str(batch), "--org", "o")
    assert res.returncode == 0 and res.stdout.strip() == "imported 2 statements", res.stderr
    profile.write_text("identities:\n  - {leader: P1, mbox: 'mailto:p@example.org'}\n")
    res = run("identities", str(profile), "--org", "o")
    assert res.returncode == 1 and res.stderr.strip() == "error: identities[0]: 'P1' is not a leader of o"
