"""Rater invitations: statuses, refusals, reminders, the rater's way in, and what a leader may see."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from tests.conftest import AS_OF, mark_submitted, stored_answers
from workbench.services import invitations as inv
from workbench.services.identity import InvalidLink, verify_token
from workbench.skills.raters import MIN_ANONYMOUS_RATERS, visible_roles
from workbench.store import models as m
from workbench.store import repo, transaction

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CATS = (1, 2, 3, 4, 5)
KEY = "test-secret-for-rater-links"


@pytest.fixture
def org(engine):
    """Two cohorts; L1 (cohort C1, with a known email) is the leader being rated."""
    with transaction(engine) as s:
        s.add(m.Organization(id="o1", name="Org"))
        s.flush()
        s.add_all([m.Cohort(id="C1", organization_id="o1", name="One"),
                   m.Cohort(id="C2", organization_id="o1", name="Two")])
        s.flush()
        s.add_all([m.Leader(id="L1", organization_id="o1", cohort_id="C1", name="Lee One", email="lee@org.example",
                            role_level="experienced"),
                   m.Leader(id="L2", organization_id="o1", cohort_id="C2", name="Ana Two", role_level="first-time")])
    return engine


def answer_and_submit(engine, invitation: inv.Invitation, at: datetime, submit: bool = True) -> str:
    sid = repo.open_session(engine, invitation.leader_id, rater_role=invitation.role, rater_id=invitation.id)
    repo.save_response(engine, sid, "del-01", 4, CATS, at=at)
    repo.save_response(engine, sid, "del-02", 2, CATS, at=at)
    if submit:
        mark_submitted(engine, sid, at=at)
    return sid


def status(engine, invitation_id: str, now: datetime) -> str:
    by_id = {x.id: x for x in inv.invitations_for(engine, "L1", now=now)}
    return by_id[invitation_id].status


# ------------------------------------------------------------------ lifecycle
def test_an_invitation_moves_through_its_states(org):
    a = inv.invite(org, "L1", "peer", name="Pat Peer", email=" Pat@Org.Example ", invited_by="L1", now=T0)
    assert a.email == "pat@org.example" and a.expires_at == T0 + timedelta(days=inv.DEFAULT_DAYS)
    assert a.invited_by == "L1" and a.reminder_count == 0 and a.revoked_at is None
    assert status(org, a.id, T0) == "invited"

    answer_and_submit(org, a, T0 + timedelta(days=1), submit=False)
    [row] = inv.invitations_for(org, "L1", now=T0 + timedelta(days=1))
    assert (row.status, row.answered, row.submitted_at) == ("started", 2, None)
    assert row.started_at is not None and row.open

    answer_and_submit(org, a, T0 + timedelta(days=2))
    [row] = inv.invitations_for(org, "L1", now=T0 + timedelta(days=30))  # submitted beats expired
    assert (row.status, row.answered, row.submitted_at) == ("submitted", 2, T0 + timedelta(days=2))
    assert not row.open

    b = inv.invite(org, "L1", "direct_report", days=5, now=T0)
    assert status(org, b.id, T0 + timedelta(days=5) - timedelta(seconds=1)) == "invited"
    assert status(org, b.id, T0 + timedelta(days=5)) == "expired"
    c = inv.invite(org, "L1", "direct_report", invited_by="facilitator:C1", now=T0)
    assert inv.revoke(org, c.id, now=T0 + timedelta(hours=1)).status == "revoked"
    assert inv.revoke(org, c.id, now=T0 + timedelta(days=3)).revoked_at == T0 + timedelta(hours=1)  # idempotent


def test_status_rule_precedence():
    now = T0
    past, future = now - timedelta(days=1), now + timedelta(days=1)
    rule = inv.status_of
    assert rule(submitted=True, started=True, revoked_at=past, expires_at=past, now=now) == "submitted"
    assert rule(submitted=False, started=True, revoked_at=past, expires_at=past, now=now) == "revoked"
    assert rule(submitted=False, started=True, revoked_at=None, expires_at=past, now=now) == "expired"
    assert rule(submitted=False, started=True, revoked_at=None, expires_at=future, now=now) == "started"
    assert rule(submitted=False, started=False, revoked_at=None, expires_at=None, now=now) == "invited"


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(role="self"), inv.InvitationError, "self-assessment needs no invitation"),
    (dict(role="boss"), inv.InvitationError, "unknown rater role 'boss'"),
    (dict(role="peer", email="not an email"), inv.InvitationError, "does not look like an email"),
    (dict(role="peer", email="a" * 400 + "@org.example"), inv.InvitationError, "412 characters; at most 254"),
    (dict(role="peer", email="LEE@org.example"), inv.InvitationError, "own address"),
    (dict(role="peer", days=0), inv.InvitationError, "1 to 90 days"),
    (dict(role="peer", days=91), inv.InvitationError, "1 to 90 days"),
    (dict(role="peer", invited_by="facilitator:C2"), PermissionError, "not in cohort 'C2'"),
    (dict(role="peer", invited_by="L2"), inv.InvitationError, "invited_by must be"),
    (dict(role="peer", leader_id="nobody"), repo.NotFound, "no leader"),
])
def test_bad_invitations_are_refused_with_a_reason(org, kwargs, error, match):
    args = dict(leader_id="L1") | kwargs
    with pytest.raises(error, match=match):
        inv.invite(org, args.pop("leader_id"), args.pop("role"), now=T0, **args)
    with transaction(org) as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(m.Rater)) == 0  # nothing stored


def test_one_manager_at_a_time_and_no_duplicate_emails(org):
    first = inv.invite(org, "L1", "manager", name="Mo Manager", now=T0)
    with pytest.raises(inv.InvitationError, match="already has a manager invitation"):
        inv.invite(org, "L1", "manager", now=T0)
    inv.revoke(org, first.id, now=T0)
    second = inv.invite(org, "L1", "manager", now=T0)  # a revoked one no longer counts
    answer_and_submit(org, second, T0 + timedelta(days=1))
    with pytest.raises(inv.InvitationError, match=r"manager invitation \(submitted\)"):
        inv.invite(org, "L1", "manager", now=T0 + timedelta(days=40))  # an answered one does
    inv.invite(org, "L2", "manager", now=T0)  # another leader's manager is another matter

    p = inv.invite(org, "L1", "peer", email="sam@org.example", now=T0)
    with pytest.raises(inv.InvitationError, match="already invited as peer"):
        inv.invite(org, "L1", "peer", email="SAM@org.example", now=T0)
    inv.invite(org, "L1", "direct_report", email="sam@org.example", now=T0)  # another role is fine
    inv.invite(org, "L2", "peer", email="sam@org.example", now=T0)  # so is another leader
    inv.revoke(org, p.id, now=T0)
    inv.invite(org, "L1", "peer", email="sam@org.example", now=T0)  # and re-inviting after a revoke


def test_revoke_and_extend(org):
    a = inv.invite(org, "L1", "peer", days=7, now=T0)
    answer_and_submit(org, a, T0 + timedelta(days=1))
    with pytest.raises(inv.InvitationError, match="already answered"):
        inv.revoke(org, a.id, now=T0)
    with pytest.raises(inv.InvitationError, match="is submitted"):
        inv.extend(org, a.id, 7, now=T0)

    b = inv.invite(org, "L1", "peer", days=7, now=T0)
    assert inv.extend(org, b.id, 3, now=T0).expires_at == T0 + timedelta(days=10)  # from the current expiry
    late = T0 + timedelta(days=12)
    assert status(org, b.id, late) == "expired"
    reopened = inv.extend(org, b.id, 5, now=late)  # from now, once expired
    assert (reopened.status, reopened.expires_at) == ("invited", late + timedelta(days=5))
    inv.revoke(org, b.id, now=late)
    with pytest.raises(inv.InvitationError, match="is revoked"):
        inv.extend(org, b.id, 5, now=late)
    with pytest.raises(inv.InvitationError, match="1 to 90 days"):
        inv.extend(org, a.id, 0, now=late)
    with pytest.raises(repo.NotFound, match="no invitation"):
        inv.revoke(org, "missing", now=late)


# ------------------------------------------------------------------ reminders
def test_reminders_are_due_after_quiet_days_and_reset_by_a_reminder(org):
    fresh = inv.invite(org, "L1", "peer", now=T0 + timedelta(days=2))
    old = inv.invite(org, "L1", "peer", now=T0)
    started = inv.invite(org, "L1", "direct_report", now=T0)
    answer_and_submit(org, started, T0 + timedelta(hours=5), submit=False)
    done = inv.invite(org, "L1", "direct_report", now=T0)
    answer_and_submit(org, done, T0 + timedelta(hours=5))
    gone = inv.invite(org, "L1", "peer", now=T0)
    inv.revoke(org, gone.id, now=T0)
    short = inv.invite(org, "L1", "peer", days=2, now=T0)  # expired by the time a reminder is due
    other = inv.invite(org, "L2", "peer", now=T0)

    now = T0 + timedelta(days=4)
    due = inv.due_reminders(org, leader_id="L1", now=now)
    assert [x.id for x in due] == sorted([old.id, started.id])  # same contact time: by leader, then id
    assert {x.id for x in inv.due_reminders(org, now=now)} == {old.id, started.id, other.id}
    assert {x.id for x in inv.due_reminders(org, cohort_id="C2", now=now)} == {other.id}
    assert {x.id for x in inv.due_reminders(org, leader_id="L1", now=now, after_days=1)} == {old.id, started.id,
                                                                                             fresh.id}
    assert fresh.id not in {x.id for x in due} and short.id not in {x.id for x in due}

    assert inv.mark_reminded(org, [old.id, started.id], now=now) == 2
    soon = inv.due_reminders(org, leader_id="L1", now=now + timedelta(days=2))
    assert [x.id for x in soon] == [fresh.id]  # the reminded ones' clock restarted
    again = inv.due_reminders(org, leader_id="L1", now=now + timedelta(days=3))
    assert {x.id for x in again} == {old.id, started.id, fresh.id}
    assert {x.reminder_count for x in again if x.id != fresh.id} == {1}
    assert next(x for x in again if x.id == old.id).reminded_at == now

    with pytest.raises(inv.InvitationError, match="nothing to remind"):
        inv.mark_reminded(org, [old.id, done.id], now=now)  # all or nothing
    assert {x.id: x.reminder_count for x in inv.invitations_for(org, "L1", now=now)}[old.id] == 1
    with pytest.raises(repo.NotFound):
        inv.mark_reminded(org, "missing", now=now)


# ------------------------------------------------------------------ the rater's way in
def test_the_rater_page_opens_an_open_invitation_and_nothing_more(org):
    a = inv.invite(org, "L1", "direct_report", name="Dee Report", now=T0)
    got = inv.open_for_rater(org, a.id, now=T0 + timedelta(days=1))
    assert got == inv.RaterAssignment(a.id, "L1", "Lee One", "direct_report", "Dee Report", a.expires_at, "invited")
    assert {f.name for f in dataclasses.fields(got)} == {
        "invitation_id", "leader_id", "leader_name", "role", "rater_name", "expires_at", "status"}  # no results
    answer_and_submit(org, a, T0 + timedelta(days=1), submit=False)
    assert inv.open_for_rater(org, a.id, now=T0 + timedelta(days=1)).status == "started"  # resumable


@pytest.mark.parametrize("reason", ["submitted", "expired", "revoked", "unknown"])
def test_a_closed_invitation_is_an_invalid_link(org, reason):
    a = inv.invite(org, "L1", "peer", days=3, now=T0)
    now = T0 + timedelta(days=1)
    iid = a.id
    if reason == "submitted":
        answer_and_submit(org, a, now)
    elif reason == "expired":
        now = T0 + timedelta(days=3)
    elif reason == "revoked":
        inv.revoke(org, a.id, now=now)
    else:
        iid = "no-such-invitation"
    with pytest.raises(InvalidLink) as caught:
        inv.open_for_rater(org, iid, now=now)
    assert isinstance(caught.value, inv.InvitationClosed) and caught.value.reason == reason
    if reason == "submitted":
        assert "already submitted" in str(caught.value) and "thank you" in str(caught.value)
    with pytest.raises(inv.InvitationClosed):
        inv.rater_token(org, iid, now=now, key=KEY)


def test_a_self_row_is_not_an_invitation(org):
    with transaction(org) as s:
        s.add(m.Rater(id="L1-self", leader_id="L1", role="self", invited_at=T0))
    assert inv.invitations_for(org, "L1", now=T0) == []
    with pytest.raises(inv.InvitationClosed, match="not known"):
        inv.open_for_rater(org, "L1-self", now=T0)


def test_rater_token_names_the_invitation(org):
    a = inv.invite(org, "L1", "peer", now=T0)
    ident = verify_token(inv.rater_token(org, a.id, now=T0, key=KEY), key=KEY)
    assert (ident.kind, ident.subject) == ("rater", a.id)


# ------------------------------------------------------------------ what the leader sees
def test_leader_summary_counts_without_naming_peers_or_reports(org):
    names = [f"Peer Person {k}" for k in range(4)]
    peers = [inv.invite(org, "L1", "peer", name=nm, email=f"p{k}@org.example", now=T0) for k, nm in enumerate(names)]
    reports = [inv.invite(org, "L1", "direct_report", name=f"Report Person {k}", now=T0) for k in range(2)]
    mgr = inv.invite(org, "L1", "manager", name="Mo Manager", now=T0)
    for p in peers[:2]:
        answer_and_submit(org, p, T0 + timedelta(days=1))
    answer_and_submit(org, peers[2], T0 + timedelta(days=1), submit=False)
    inv.revoke(org, reports[1].id, now=T0)
    now = T0 + timedelta(days=2)

    summary = inv.leader_summary(org, "L1", now=now)
    peer = summary.role("peer")
    assert (peer.invited, peer.started, peer.submitted, peer.open, peer.visible, peer.needed) == (1, 1, 2, 2, False, 1)
    dr = summary.role("direct_report")
    assert (dr.invited, dr.revoked, dr.submitted, dr.needed) == (1, 1, 0, MIN_ANONYMOUS_RATERS)
    assert (summary.manager_name, summary.manager_status) == ("Mo Manager", "invited")
    assert summary.visible == frozenset() and summary.role("manager").needed == 1
    frame = summary.to_frame()
    assert list(frame.role) == ["manager", "peer", "direct_report"] and frame.needed.tolist() == [1, 1, 3]

    shown = repr(summary) + frame.to_csv()
    secrets = [x.name for x in peers + reports] + [x.email for x in peers] + [x.id for x in peers + reports + [mgr]]
    leaked = [x for x in secrets if x and x in shown]
    assert leaked == []

    answer_and_submit(org, peers[3], now)  # the third peer makes peers visible
    answer_and_submit(org, mgr, now)
    later = inv.leader_summary(org, "L1", now=now)
    assert later.visible == {"peer", "manager"} == visible_roles({"peer": 3, "manager": 1})
    assert later.role("peer").needed == 0 and later.manager_status == "submitted"
    with pytest.raises(KeyError):
        later.role("self")


def test_invitations_put_nothing_on_the_leaders_activity_stream(org):
    a = inv.invite(org, "L1", "peer", now=T0)
    b = inv.invite(org, "L1", "peer", now=T0)
    inv.mark_reminded(org, a.id, now=T0 + timedelta(days=4))
    inv.extend(org, a.id, 3, now=T0 + timedelta(days=4))
    inv.revoke(org, b.id, now=T0 + timedelta(days=4))
    inv.open_for_rater(org, a.id, now=T0 + timedelta(days=4))
    assert repo.activity_frame(org, "L1").empty
    with transaction(org) as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(m.ActivityEvent)) == 0


def test_cohort_view_and_frame(org):
    inv.invite(org, "L1", "peer", name="A", now=T0)
    inv.invite(org, "L2", "peer", name="B", now=T0)
    assert [x.leader_id for x in inv.cohort_invitations(org, "C1", now=T0)] == ["L1"]
    with pytest.raises(repo.NotFound):
        inv.cohort_invitations(org, "C9", now=T0)
    with pytest.raises(repo.NotFound):
        inv.invitations_for(org, "nobody", now=T0)
    df = inv.to_frame(inv.cohort_invitations(org, "C2", now=T0))
    assert df.loc[0, "name"] == "B" and {"status", "answered", "reminder_count"} <= set(df.columns)
    assert inv.to_frame([]).empty


# ------------------------------------------------------------------ the demo organization
DEMO_NOW = datetime.combine(AS_OF, datetime.min.time(), tzinfo=UTC) + timedelta(hours=17)


@pytest.fixture(scope="module")
def demo_invitations(demo_engine) -> pd.DataFrame:
    from workbench.demo import COHORTS

    rows = [x for k in range(COHORTS) for x in inv.cohort_invitations(demo_engine, f"C{k + 1:02d}", now=DEMO_NOW)]
    return inv.to_frame(rows)


def test_demo_has_invitations_in_every_state(demo_invitations):
    df = demo_invitations
    counts = df.status.value_counts()
    assert set(counts.index) == set(inv.STATUSES) and counts.min() >= 5
    reminded = df[df.reminder_count > 0]
    assert len(reminded) >= 5 and reminded.status.isin(inv.OPEN_STATUSES).all()
    assert (reminded.reminded_at > reminded.invited_at).all() and (reminded.reminded_at < DEMO_NOW).all()
    assert (df.invited_at < DEMO_NOW).all()
    expired = df[df.status == "expired"]
    assert (expired.expires_at <= DEMO_NOW).all() and expired.submitted_at.isna().all()
    started = df[df.status == "started"]
    assert (started.answered > 0).all()
    assert (df.loc[df.status == "invited", "answered"] == 0).all()


def test_demo_showcase_leaders(demo_engine):
    from workbench.demo import demo_showcase

    show = demo_showcase(demo_engine)
    hidden = inv.leader_summary(demo_engine, show["peers_hidden"], now=DEMO_NOW).role("peer")
    assert (hidden.submitted, hidden.visible, hidden.needed) == (MIN_ANONYMOUS_RATERS - 1, False, 1)
    waiting = [x for x in inv.invitations_for(demo_engine, show["peers_hidden"], now=DEMO_NOW)
               if x.role == "peer" and x.status == "invited"]
    assert len(waiting) == 1  # answering it through the rater link shows the peers' view
    assert inv.open_for_rater(demo_engine, waiting[0].id, now=DEMO_NOW).status == "invited"
    shown = inv.leader_summary(demo_engine, show["peers_visible"], now=DEMO_NOW).role("peer")
    assert shown.submitted >= MIN_ANONYMOUS_RATERS and shown.visible


def _scored(engine, r: pd.DataFrame, leader_id: str, keep: set[str]):
    """Rescore a demo leader's submitted sheets (``r``: long responses) with the stored calibration,
    keeping only some rater roles."""
    from workbench.demo import DEMO_ORG, _as_scored
    from workbench.skills.model import GradedResponseModel
    from workbench.skills.score import score_sheets

    with transaction(engine) as s:
        cal = s.scalars(sa.select(m.Calibration).where(m.Calibration.organization_id == DEMO_ORG,
                                                       m.Calibration.method == "map")).one()
        doc = cal.params
    model = GradedResponseModel.from_json(doc)
    p = model.items_
    r = r[(r.leader_id == leader_id) & r.rater_role.isin(keep)]
    wide = r.pivot(index=["session_id", "rater_role"], columns="item_id", values="value")
    wide = wide.reindex(columns=list(p.item_ids)).fillna(-1).astype(int)
    y = _as_scored(wide.to_numpy(), p)
    roles = wide.index.get_level_values("rater_role").to_numpy()
    sc = score_sheets(y, np.zeros(len(y), int), 1, p, roles, model.rater_effects_)
    return pd.Series(sc.mean[0], index=p.dimensions)


def test_demo_estimates_follow_the_anonymity_rule(demo_engine):
    from workbench.demo import demo_showcase

    r = repo.responses_frame(demo_engine)
    sheets = r.drop_duplicates("session_id")
    counts = sheets.groupby(["leader_id", "rater_role"]).size().unstack(fill_value=0)
    with transaction(demo_engine) as s:
        est = pd.read_sql(sa.select(m.SkillEstimate.leader_id, m.SkillEstimate.source), s.connection())
    with_others = set(est.leader_id[est.source == "others"])
    visible = {lid: visible_roles({k: int(v) for k, v in row.items() if k != "self"}) for lid, row in counts.iterrows()}
    assert with_others == {lid for lid, v in visible.items() if v}
    assert len(with_others) < len(visible)  # some leaders have no view of others yet

    lid = demo_showcase(demo_engine)["peers_hidden"]
    assert "peer" not in visible[lid] and visible[lid]  # peers hidden, another role shown
    stored = repo.latest_estimates(demo_engine, lid, source="others").set_index("competency")["mean"]
    rule = _scored(demo_engine, r, lid, set(visible[lid]))
    everyone = _scored(demo_engine, r, lid, {"manager", "peer", "direct_report"})
    assert np.abs(stored - rule[stored.index]).max() < 2e-3  # the two peers' answers are left out
    assert np.abs(stored - everyone[stored.index]).max() > 0.02  # and leaving them out matters


def test_exports_carry_no_rater_identity(demo_engine):
    wide = repo.responses_wide(demo_engine)
    assert list(wide.columns[:2]) == ["respondent_id", "rater"]
    with transaction(demo_engine) as s:
        ids = set(s.scalars(sa.select(m.Rater.id))) | set(s.scalars(sa.select(m.AssessmentSession.id)))
        names = set(s.scalars(sa.select(m.Rater.name).where(m.Rater.name.is_not(None))))
    values = set(wide.astype(str).to_numpy().ravel()) | set(wide.columns)
    assert not values & (ids | names)


def test_leader_summary_counts_what_the_view_includes():
    from workbench.services.invitations import RoleSummary

    four = RoleSummary("peer", 0, 0, 4, 0, 0, True, 0, 3, 3)
    assert four.until_update == 2  # the 4th peer is not in the view until two more answer
    two = RoleSummary("peer", 1, 0, 2, 0, 0, False, 1, 0, 3)
    assert two.until_update == 1
    assert RoleSummary("manager", 1, 0, 0, 0, 0, False, 1).until_update == 1


def test_a_withdrawn_invitation_can_no_longer_answer_or_submit(demo_copy, library):
    from workbench.services import assessment as al
    from workbench.services.invitations import InvitationClosed, invite, revoke
    from workbench.store import connect

    eng = connect(demo_copy)
    inv = invite(eng, "L0003", "peer", name="Sam Peer", email="sam.peer@example.org")
    state = al.start(eng, library, "L0003", rater_role="peer", rater_id=inv.id)
    q = state.questions[0]
    al.record_answer(eng, state, q.item_id, q.categories[0])
    revoke(eng, inv.id)
    with pytest.raises(InvitationClosed):
        al.record_answer(eng, state, state.questions[1].item_id, q.categories[0])
    with pytest.raises(InvitationClosed):
        al.submit(eng, library, state.session_id)
    assert stored_answers(eng, state.session_id) == {q.item_id: q.categories[0]}
