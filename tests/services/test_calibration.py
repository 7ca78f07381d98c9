"""Published calibrations: export, publish with provenance, one active, rescoring in one go, rollback."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select

from workbench.services import assessment as al
from workbench.services import calibration as cl
from workbench.services.assessment import latest_calibration
from workbench.skills.data import DataError, read_responses_csv
from workbench.store import make_engine, repo
from workbench.store import models as m
from workbench.store.db import transaction

ORG = "northwind"


def _active(eng) -> list[str]:
    with transaction(eng) as s:
        return list(s.scalars(select(m.Calibration.id).where(m.Calibration.active.is_(True))))


def _shifted_doc(eng, shift: float = 0.3) -> dict:
    """The demo's fitted calibration with every threshold moved: a different, valid calibration."""
    cid = latest_calibration(eng, ORG).id
    with transaction(eng) as s:
        doc = copy.deepcopy(s.get(m.Calibration, cid).params)
    for it in doc["items"]:
        it["b"]["mean"] = [x + shift for x in it["b"]["mean"]]
    return doc


def test_the_demo_has_exactly_one_active_calibration(demo_engine):
    assert _active(demo_engine) == [latest_calibration(demo_engine, ORG).id]
    note = cl.active_calibration_note(demo_engine, ORG)
    assert latest_calibration(demo_engine, ORG).id in note and "(map)" in note


def test_export_is_the_responses_contract_with_raters_and_missing(demo_engine, library, tmp_path):
    frame = cl.export_responses(demo_engine, library, ORG)
    assert list(frame.columns[:2]) == ["respondent_id", "rater"]
    assert set(frame.rater) <= {"self", "manager", "peer", "direct_report"} and "manager" in set(frame.rater)
    with transaction(demo_engine) as s:
        sheets = s.scalar(select(func.count()).select_from(m.AssessmentSession)
                          .where(m.AssessmentSession.status == "submitted"))
        answers = s.scalar(select(func.count()).select_from(m.Response).join(m.AssessmentSession)
                           .where(m.AssessmentSession.status == "submitted", m.Response.value.is_not(None)))
        not_observed = s.scalar(select(func.count()).select_from(m.Response).join(m.AssessmentSession)
                                .where(m.AssessmentSession.status == "submitted", m.Response.value.is_(None)))
    assert len(frame) == sheets
    assert int(frame.iloc[:, 2:].notna().sum().sum()) == answers  # every stored answer, nothing invented
    assert not_observed > 0  # raters' "not observed" answers are stored, and exported as missing
    assert frame.iloc[:, 2:].isna().any().any()  # adaptive forms leave items not asked: missing
    path = tmp_path / "responses.csv"
    cl.write_responses(frame, path)
    data = read_responses_csv(path)  # what `workbench calibrate` reads
    assert data.rater is not None and data.n_persons == frame.respondent_id.nunique()
    assert len(pd.read_csv(path).columns) == frame.shape[1]


def test_export_window_keeps_only_sheets_submitted_in_it(demo_engine, library):
    all_sheets = cl.export_responses(demo_engine, library, ORG)
    win = cl.data_window(demo_engine, ORG)
    first = datetime.fromisoformat(win["first_submitted"])
    none = cl.export_responses(demo_engine, library, ORG, until=first)
    assert none.empty and win["sheets"] == len(all_sheets)


def test_publish_rescores_everyone_keeps_history_and_rolls_back(demo_copy, library):
    eng = make_engine(demo_copy)
    before = latest_calibration(eng, ORG).id
    lid = "L0002"
    old = repo.latest_estimates(eng, lid).set_index("competency")
    with transaction(eng) as s:
        rows_before = s.scalar(select(func.count()).select_from(m.SkillEstimate))
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    res = cl.publish(eng, library, _shifted_doc(eng), provenance={"data_window": cl.data_window(eng, ORG)},
                     published_by="tester", now=now)
    assert res.previous_id == before and res.organization_id == ORG
    assert _active(eng) == [res.calibration_id] and latest_calibration(eng, ORG).id == res.calibration_id
    with transaction(eng) as s:
        row = s.get(m.Calibration, res.calibration_id)
        prov, who = row.provenance, row.published_by
        rows_after = s.scalar(select(func.count()).select_from(m.SkillEstimate))
        assessed = s.scalar(select(func.count(func.distinct(m.AssessmentSession.leader_id)))
                            .where(m.AssessmentSession.status == "submitted"))
    assert who == "tester" and prov["method"] == "map" and prov["published_by"] == "tester"
    assert prov["data_window"]["sheets"] > 0 and "diagnostics" in prov and prov["published_at"].startswith("2026-12-01")
    assert res.leaders_rescored == assessed and rows_after == rows_before + res.estimates_written  # history kept
    new = repo.latest_estimates(eng, lid).set_index("competency")
    # thresholds moved up by 0.3: the same answers now mean a higher skill
    assert (new["mean"] - old["mean"]).mean() > 0.15
    assert "tester" in cl.active_calibration_note(eng, ORG)
    listed = cl.list_calibrations(eng, ORG)
    assert listed.active.sum() == 1 and listed.iloc[0].id == res.calibration_id and listed.iloc[0].estimates > 0

    back = cl.rollback(eng, library, now=datetime(2026, 12, 2, tzinfo=UTC))
    assert back.calibration_id == before and back.previous_id == res.calibration_id
    assert _active(eng) == [before]
    again = repo.latest_estimates(eng, lid).set_index("competency")
    # the old calibration again, on the stored answers and practice (the demo's first estimates
    # left practice out, so they may differ where the leader practised)
    _, expected = al.leader_estimates(eng, library, lid, latest_calibration(eng, ORG))
    assert np.allclose(again["mean"], [expected["all"][c][0] for c in again.index], atol=1e-6)
    assert not np.allclose(again["mean"], new["mean"].reindex(again.index), atol=0.05)
    # the published one stays stored and can be activated again
    assert cl.activate(eng, library, res.calibration_id).calibration_id == res.calibration_id
    assert _active(eng) == [res.calibration_id]
    eng.dispose()


def test_publishing_is_one_transaction(demo_copy, library, monkeypatch):
    eng = make_engine(demo_copy)
    before = latest_calibration(eng, ORG).id
    with transaction(eng) as s:
        rows_before = s.scalar(select(func.count()).select_from(m.SkillEstimate))
    calls = {"n": 0}
    real = al.write_estimates

    def failing(*args, **kw):
        calls["n"] += 1
        if calls["n"] == 20:
            raise RuntimeError("disk full")
        return real(*args, **kw)

    monkeypatch.setattr(al, "write_estimates", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        cl.publish(eng, library, _shifted_doc(eng), published_by="tester")
    with transaction(eng) as s:
        assert s.scalar(select(func.count()).select_from(m.SkillEstimate)) == rows_before
        assert s.scalar(select(func.count()).select_from(m.Calibration)) == 2
    assert _active(eng) == [before]
    eng.dispose()


def test_bad_publications_are_refused(demo_copy, library):
    eng = make_engine(demo_copy)
    doc = _shifted_doc(eng)
    bad = copy.deepcopy(doc)
    bad["items"][0]["b"]["mean"] = sorted(bad["items"][0]["b"]["mean"], reverse=True)
    with pytest.raises(DataError, match="thresholds must increase"):
        cl.publish(eng, library, bad)
    with pytest.raises(cl.CalibrationError, match="unknown organization"):
        cl.publish(eng, library, doc, organization_id="nowhere")
    alien = copy.deepcopy(doc)
    for it in alien["items"]:
        it["item_id"] = "x-" + it["item_id"]
    with pytest.raises(cl.CalibrationError, match="none of the library's items"):
        cl.publish(eng, library, alien)
    with pytest.raises(cl.CalibrationError, match="no calibration 'nope'"):
        cl.activate(eng, library, "nope")
    with pytest.raises(cl.CalibrationError, match="nothing to roll back to"):
        cl.rollback(eng, library)
    assert len(_active(eng)) == 1
    eng.dispose()


def test_cli_export_publish_list_and_rollback(demo_copy, tmp_path):
    """responses export -> calibrations list -> calibrate --publish (on a few items) -> rollback."""
    from typer.testing import CliRunner

    from workbench.cli import app

    cli = CliRunner()
    base = ["--db", demo_copy]
    out = cli.invoke(app, ["responses", "export", "--out", str(tmp_path / "r.csv"), *base])
    assert out.exit_code == 0, out.output
    frame = pd.read_csv(tmp_path / "r.csv", dtype=str, keep_default_na=False)
    assert list(frame.columns[:2]) == ["respondent_id", "rater"] and (frame.iloc[:, 2:] == "").any().any()
    out = cli.invoke(app, ["calibrations", "list", *base])
    assert out.exit_code == 0 and out.output.startswith("* northwind-") and "workbench demo" in out.output
    out = cli.invoke(app, ["calibrations", "rollback", *base])
    assert out.exit_code == 1 and "nothing to roll back to" in str(out.exception)
    out = cli.invoke(app, ["calibrations", "activate", "northwind-generating", *base])
    assert out.exit_code == 0, out.output
    assert "leaders rescored" in out.output
    out = cli.invoke(app, ["calibrations", "rollback", *base])
    assert out.exit_code == 0 and "to northwind-20" in out.output, out.output


def test_demo_is_kept_unless_forced(demo_copy):
    from typer.testing import CliRunner

    from workbench.cli import app

    eng = make_engine(demo_copy)
    with transaction(eng) as s:
        s.add(m.ChatTurn(leader_id="L0001", conversation_id="c1", speaker="leader", text="kept?", stage="open",
                         created_at=datetime(2026, 11, 30, tzinfo=UTC)))
    out = CliRunner().invoke(app, ["demo", "--db", demo_copy])
    assert out.exit_code == 0 and "kept as it is" in out.output
    with transaction(eng) as s:
        assert s.scalar(select(func.count()).select_from(m.ChatTurn).where(m.ChatTurn.text == "kept?")) == 1
    eng.dispose()


def test_upgrading_a_store_keeps_its_newest_fitted_calibration_in_use(db_url):
    """Migration 0006 marks, per organization, the calibration scoring used before as the active one."""
    import sqlalchemy as sa

    from workbench.store.db import migrate

    eng = make_engine(db_url)
    migrate(eng, "0004")
    t = datetime(2026, 11, 1, tzinfo=UTC)
    with eng.begin() as c:
        c.execute(sa.text("INSERT INTO organizations (id, name, created_at, settings) VALUES ('o', 'O', :t, '{}')"),
                  {"t": t})
        for cid, method, day in (("gen", "generating", 5), ("old", "map", 2), ("new", "nuts", 3)):
            c.execute(sa.text("INSERT INTO calibrations (id, organization_id, method, created_at, params) "
                              "VALUES (:id, 'o', :m, :t, '{}')"), {"id": cid, "m": method, "t": t.replace(day=day)})
    migrate(eng)
    with transaction(eng) as s:
        rows = dict(s.execute(select(m.Calibration.id, m.Calibration.active)).all())
    assert rows == {"gen": False, "old": False, "new": True}
    eng.dispose()
