"""Multi-rater feedback on the pages: the leader sees counts and pooled views, never a rater."""

from __future__ import annotations

import base64
import dataclasses
import html
import io

import pandas as pd
import pytest

from workbench.apps.feedback import InvitePanel, invitations_section, others_section, status_lines
from workbench.apps.rater import rater_app
from workbench.services import invitations as inv
from workbench.services.identity import make_token
from workbench.store import connect, repo

from .test_apps import KEY, html_of


@pytest.fixture(autouse=True)
def _secret(monkeypatch):
    monkeypatch.setenv("WORKBENCH_SECRET", KEY)


def rater_names(eng, leader_id):
    return [r.name for r in inv.invitations_for(eng, leader_id) if r.role != "manager" and r.name]


def test_hidden_peers_are_counted_never_named(demo_engine, library):
    # L0001: two peers submitted (below the threshold), a third invited
    text = html_of(others_section(demo_engine, library, "L0001")[0])
    summary = inv.leader_summary(demo_engine, "L0001")
    assert not summary.role("peer").visible
    assert "Their pooled view appears once at least 3 have answered" in text
    assert "answered" not in text.split("Peers:")[1].split("appears")[0]  # no count of answers while hidden
    assert not any(name in text for name in rater_names(demo_engine, "L0001"))
    for r in inv.invitations_for(demo_engine, "L0001"):
        assert r.id not in text and (r.email or "@@") not in text


def test_visible_view_shows_self_and_others_side_by_side(demo_engine, library):
    box = others_section(demo_engine, library, "L0002")[0]  # four peers submitted
    text = html_of(box)
    assert "your view pools 3." in text  # four peers answered: the fourth waits for two more (blocks of three)
    assert "Biggest differences" in text
    fig = next(c for b in box.children for c in (b, *getattr(b, "children", ()))
               if hasattr(c, "_widget_data"))  # (in its chart box, beside its table)
    assert [t.name for t in fig.data] == ["You", "Others"]
    assert len(fig.data[0].x) == len(library.competencies)
    assert not any(name in text for name in rater_names(demo_engine, "L0002"))


def test_status_lines_read_like_sentences(demo_engine):
    lines = status_lines(inv.leader_summary(demo_engine, "L0002"))
    assert len(lines) == 3 and all(line.endswith(".") or line.endswith("arrive (answers are added three at a time).")
                                   for line in lines)


def test_invite_panel_creates_and_refuses(demo_copy):
    eng = connect(demo_copy)
    made = []

    def on_invite(role, name, email):
        i = inv.invite(eng, "L0004", role, name=name or None, email=email or None, invited_by="L0004")
        made.append(i)
        return f"http://x/voila/render/rater.ipynb?token={i.id}"

    panel = InvitePanel(on_invite, show_link=False)
    link = panel.send("peer", "Dana Peer", "dana@example.org")
    assert link and "Dana Peer" in panel.link.value and panel.errors == []
    assert link not in panel.link.value  # the person rated never sees the rater's link
    assert panel.send("peer", "No Mail", "") is None and len(made) == 1  # an email is needed
    assert panel.send("peer", "Dana Again", "dana@example.org") is None  # same email twice: refused
    assert panel.errors and "wb-error" in panel.error.value and len(made) == 1
    assert panel.send("peer", "Bad", "not-an-email") is None and len(made) == 1


def test_facilitator_sees_invitations_and_reminders(demo_engine):
    names = dict(zip(repo.leaders_frame(demo_engine, "C01").leader_id, repo.leaders_frame(demo_engine, "C01").name,
                     strict=True))
    box = invitations_section(demo_engine, "C01", names, sender="Frida Facilitator")[0]
    text = html_of(box)
    rows = inv.cohort_invitations(demo_engine, "C01")
    assert f"submitted: {sum(r.status == 'submitted' for r in rows)}" in text
    # a table row per invitation, a copy button per open one (no raw links), and the CSV of it
    table = next(c for c in box.children if "wb-invitations-table" in c._dom_classes).value
    assert table.count('class="wb-invitation-row"') == len(rows)
    assert table.count("class='wb-copy'") == sum(r.open for r in rows) > 0
    assert "<code>" not in table  # no wall of raw links: they sit behind the copy buttons and in the CSV
    csv_b64 = table.split("base64,")[1].split("'")[0]
    csv = pd.read_csv(io.StringIO(base64.b64decode(csv_b64).decode("utf-8")), keep_default_na=False)
    assert list(csv.columns) == list(inv.TABLE_COLUMNS) and len(csv) == len(rows)
    assert set(csv.leader) <= set(names.values())  # leaders by name, never by id
    assert (csv.link != "").sum() == sum(r.open for r in rows)
    assert all("token=" in link for link in csv.link[csv.status.isin(["invited", "started"])])
    due = inv.due_reminders(demo_engine, cohort_id="C01")
    reminders = next(c for c in box.children if "wb-reminders" in c._dom_classes).value
    assert len(due) > 0 and reminders.count("class='wb-reminder wb-card'") == len(due)
    assert reminders.count("wb-mail-draft") == len(due) and "Subject:" in reminders and "Frida Facilitator" in reminders
    assert all(html.escape(names[r.leader_id]) in reminders for r in due)


def test_mail_draft_names_the_leader_the_deadline_and_the_anonymity_rule(demo_engine):
    due = inv.due_reminders(demo_engine, cohort_id="C01")
    peer = next(r for r in due if r.role != "manager")
    draft = inv.mail_draft(peer, "Ada Abara", "http://x/rater?token=abc", sender="Frida")
    assert draft.to == peer.email and "Ada Abara" in draft.subject and draft.subject.startswith("Reminder")
    assert "http://x/rater?token=abc" in draft.body and f"{peer.expires_at:%d %B}" in draft.body
    assert "pooled" in draft.body and "Not observed" in draft.body and draft.body.endswith("Frida")
    assert draft.mailto().startswith(f"mailto:{peer.email.replace('@', '%40')}?subject=Reminder")
    fresh = dataclasses.replace(peer, role="manager", status="invited", reminder_count=0, invited_at=peer.expires_at)
    first = inv.mail_draft(fresh, "Ada Abara", "L", now=peer.expires_at)
    assert not first.subject.startswith("Reminder") and "not anonymous" in first.body


def test_rater_form_opens_for_an_open_invitation_only(demo_copy, library):
    eng = connect(demo_copy)
    i = inv.invite(eng, "L0005", "direct_report", name="Rae Report", email="rae@example.org")
    leader = repo.get_leader(eng, "L0005")
    page = rater_app(make_token("rater", i.id, key=KEY), library=library, db=eng)
    text = html_of(page)
    assert "wb-rater-app" in page._dom_classes and leader.name in text
    assert "only the combined view" in text
    # nothing of the leader's results is on the rater's page
    assert "Strengths" not in text and "Development areas" not in text
    question = page.children[1]
    assert "wb-assessment" in question._dom_classes
    inv.revoke(eng, i.id)
    closed = rater_app(make_token("rater", i.id, key=KEY), library=library, db=eng)
    assert "wb-error-page" in closed._dom_classes and leader.name not in closed.value
    wrong = rater_app(make_token("leader", "L0005", key=KEY), library=library, db=eng)
    assert "wb-error-page" in wrong._dom_classes


def test_facilitator_can_invite_for_a_cohort_member(demo_copy):
    eng = connect(demo_copy)
    members = repo.leaders_frame(eng, "C02")
    names = dict(zip(members.leader_id, members.name, strict=True))
    box = invitations_section(eng, "C02", names)[0]
    who = next(c for c in box.children if "wb-invite-leader" in c._dom_classes)
    assert set(v for _, v in who.options) == set(names) | {None}  # only this cohort's leaders
    assert who.value is None  # no default: the facilitator chooses the leader
    panel_box = next(c for c in box.children if "wb-invite" in c._dom_classes)
    panel_box.children[1].children[0].value = "peer"
    panel_box.children[1].children[1].value = "Nobody Chosen"
    panel_box.children[2].children[0].value = "nobody@example.org"
    panel_box.children[2].children[1].click()
    assert "choose the leader to be rated" in panel_box.children[3].value  # refused, nothing stored
    assert not any(r.name == "Nobody Chosen" for r in inv.cohort_invitations(eng, "C02"))
    who.value = members.leader_id.iloc[3]
    panel = next(c for c in box.children if "wb-invite" in c._dom_classes)
    send = next(c for c in panel.children[2].children if "wb-invite-send" in c._dom_classes)
    name_box = next(c for c in panel.children[1].children if "wb-invite-name" in c._dom_classes)
    name_box.value = "Quinn Report"
    email_box = next(c for c in panel.children[2].children if "wb-invite-email" in c._dom_classes)
    email_box.value = "quinn@example.org"
    panel.children[1].children[0].value = "direct_report"
    send.click()
    made = [r for r in inv.invitations_for(eng, members.leader_id.iloc[3]) if r.name == "Quinn Report"]
    assert len(made) == 1 and made[0].invited_by == "facilitator:C02" and made[0].role == "direct_report"
    confirmation = panel.children[4].value
    assert html.escape(names[members.leader_id.iloc[3]]) in confirmation and "Quinn Report" in confirmation
