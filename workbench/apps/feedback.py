"""Multi-rater feedback on the pages: the leader's view of others, inviting raters, and the
facilitator's invitation list with reminders.

What a leader sees of other raters is only what :mod:`workbench.services.invitations` (counts, the
manager by name) and the anonymity-aware estimates (:mod:`workbench.services.assessment`) give:
never a peer's or a direct report's name, status or answers.

Stable CSS classes: ``wb-others``, ``wb-others-status``, ``wb-others-hidden``,
``wb-others-gaps``, ``wb-invite``, ``wb-invite-role``, ``wb-invite-name``, ``wb-invite-email``,
``wb-invite-send``, ``wb-invite-link``, ``wb-invite-error``; ``wb-invitations``,
``wb-invitations-table``, ``wb-reminders``, ``wb-reminders-mark``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable

import ipywidgets as w
import pandas as pd

from ..content import Library
from .common import text_html
from .registry import RATER

ROLE_LABELS = {"manager": "Manager", "peer": "Peers", "direct_report": "Direct reports"}
ROLE_ONE = {"manager": "manager", "peer": "peer", "direct_report": "direct report"}


def page_base_url() -> str:
    """The address this page was served from (Voilà passes it to the kernel), else the running server's."""
    host, port = os.environ.get("SERVER_NAME"), os.environ.get("SERVER_PORT")
    if host:
        return f"http://{host}:{port}" if port else f"http://{host}"
    from ..services.identity import state_dir

    path = state_dir() / "server.json"
    if path.exists():
        return json.loads(path.read_text())["url"]
    return "http://127.0.0.1:8866"


# ---------------------------------------------------------------------------- the leader's view
def status_lines(summary) -> list[str]:
    """One plain sentence per rater role, from a :class:`workbench.services.invitations.LeaderSummary`."""
    lines = []
    for r in summary.roles:
        asked = r.invited + r.started + r.submitted
        if r.role == "manager":
            if summary.manager_name is None:
                lines.append("Manager: not invited yet.")
            else:
                state = {"submitted": "has answered", "started": "has started", "invited": "is invited",
                         "expired": "did not answer in time", "revoked": "invitation withdrawn"}
                lines.append(f"Manager ({text_html(summary.manager_name)}): {state.get(summary.manager_status, '')}.")
            continue
        label = ROLE_LABELS[r.role]
        if asked == 0:
            lines.append(f"{label}: none invited yet (invite at least {r.min_anonymous}).")
        elif not r.visible:
            # no count of answers while hidden: with few invited, "1 of 1 answered" would name someone
            lines.append(f"{label}: {asked} invited. Their pooled view appears once at least {r.min_anonymous} "
                         "have answered, so no answer can be traced to anyone.")
        else:
            lines.append(f"{label}: {asked} invited; your view pools {r.included}. Later answers are added "
                         f"{r.min_anonymous} at a time.")
    return lines


def self_others_figure(gap_table: pd.DataFrame, names: dict[str, str]):
    """Self and others side by side per competency, with their intervals."""
    import plotly.graph_objects as go

    t = gap_table.copy()
    t["name"] = [names.get(c, c) for c in t.competency]
    traces = []
    for who, offset, color in (("self", -0.18, "#7a869a"), ("others", 0.18, "#1f5fbf")):
        y = list(range(len(t)))
        traces.append(go.Scatter(
            x=t[f"{who}_mean"], y=[v + offset for v in y], mode="markers", name="You" if who == "self" else "Others",
            marker=dict(size=10, color=color),
            error_x=dict(type="data", symmetric=False, array=t[f"{who}_high"] - t[f"{who}_mean"],
                         arrayminus=t[f"{who}_mean"] - t[f"{who}_low"], color=color),
            customdata=t["name"], hovertemplate="%{customdata}: %{x:.2f}<extra>" + ("You" if who == "self" else "Others")
            + "</extra>"))
    fig = go.FigureWidget(data=traces, layout=go.Layout(
        height=80 + 34 * len(t), margin=dict(l=170, r=20, t=40, b=40), title="You and others (90% intervals)",
        xaxis=dict(title="skill (0 = organization average)", zeroline=True, range=[-3, 3]),
        yaxis=dict(tickvals=list(range(len(t))), ticktext=list(t["name"]), autorange="reversed"),
        legend=dict(orientation="h", y=1.08, x=1, xanchor="right")))
    return fig


def others_section(eng, library: Library, leader_id: str) -> list[w.Widget]:
    """"How others see you": invitation counts, the side-by-side view and the biggest gaps."""
    from ..services.invitations import leader_summary
    from ..services.people import latest_estimates
    from ..skills.perception import BLIND_SPOT, biggest_gaps, compare

    summary = leader_summary(eng, leader_id)
    status = w.HTML("<div class='wb-card'><b>How others see you</b><ul>"
                    + "".join(f"<li>{line}</li>" for line in status_lines(summary)) + "</ul></div>")
    status.add_class("wb-others-status")
    others = latest_estimates(eng, leader_id, source="others")
    mine = latest_estimates(eng, leader_id, source="self")
    if others.empty or mine.empty:
        why = ("Take your own assessment first." if mine.empty else
               "Nobody's view can be shown yet: a manager's once they answer, peers' and direct reports' "
               "once at least three of them have.")
        hidden = w.HTML(f"<div class='wb-card wb-muted'>{why}</div>")
        hidden.add_class("wb-others-hidden")
        box = w.VBox([status, hidden])
        box.add_class("wb-others")
        return [box]
    gap = compare(mine, others)
    names = {c: comp.name for c, comp in library.competencies.items()}
    top = biggest_gaps(gap, k=3)
    if top.empty:
        gaps_html = "Your view and others' agree, within what the answers can tell."
    else:
        items = []
        for r in top.itertuples():
            kind = ("You rate yourself higher than others do" if r.label == BLIND_SPOT
                    else "Others rate you higher than you do")
            items.append(f"<li><b>{text_html(names.get(r.competency, r.competency))}</b> ({text_html(r.label)}): {kind}, "
                         f"by {abs(r.difference):.1f} (90% interval {r.difference_low:+.1f} to "
                         f"{r.difference_high:+.1f}).</li>")
        gaps_html = ("Worth a conversation with your manager or coach:<ul>" + "".join(items) + "</ul>")
    gaps = w.HTML(f"<div class='wb-card'><b>Biggest differences</b><div>{gaps_html}</div></div>")
    gaps.add_class("wb-others-gaps")
    from .common import chart

    box = w.VBox([status, chart(self_others_figure(gap.table, names)), gaps])
    box.add_class("wb-others")
    return [box]


class InvitePanel:
    """Invite a rater: role, name, email (required: the link is sent to it).

    ``on_invite(role, name, email)`` stores the invitation and returns the rater's link. With
    ``show_link`` (the facilitator's page) the link is shown to send; without (the leader's page)
    it is not: the link is the rater's only key to their answers, so the person rated never
    holds it. Their facilitator sends it from the cohort page or ``workbench invitations``.
    """

    def __init__(self, on_invite: Callable[[str, str, str], str], show_link: bool = True):
        self.on_invite, self.show_link = on_invite, show_link
        self.links: list[str] = []
        self.errors: list[str] = []
        self.role = w.Dropdown(options=[(ROLE_ONE[r].capitalize(), r) for r in ("peer", "direct_report", "manager")],
                               description="Role")
        self.role.add_class("wb-invite-role")
        self.name = w.Text(placeholder="Their name", description="Name")
        self.name.add_class("wb-invite-name")
        self.email = w.Text(placeholder="name@example.org", description="Email")
        self.email.add_class("wb-invite-email")
        self.send_button = w.Button(description="Create invitation", button_style="primary")
        self.send_button.add_class("wb-invite-send")
        self.send_button.on_click(lambda _b: self.send())
        self.error = w.HTML("")
        self.error.add_class("wb-invite-error")
        self.link = w.HTML("")
        self.link.add_class("wb-invite-link")
        intro = w.HTML("<div class='wb-card'><b>Ask for feedback</b><div class='wb-muted'>Invite a manager, "
                       "peers and direct reports. Each gets a personal link to a short form worded for them. "
                       "Peers' and reports' answers reach the leader only pooled, from three people in a role."
                       "</div></div>")
        self.widget = w.VBox([intro, w.HBox([self.role, self.name]), w.HBox([self.email, self.send_button]),
                              self.error, self.link])
        self.widget.add_class("wb-invite")

    def send(self, role: str | None = None, name: str | None = None, email: str | None = None) -> str | None:
        role = role or self.role.value
        name = (name if name is not None else self.name.value).strip()
        email = (email if email is not None else self.email.value).strip()
        try:
            if not email:
                raise ValueError("an email address is needed: the personal link is sent there")
            link = self.on_invite(role, name, email)
        except Exception as exc:  # noqa: BLE001 - refused input (duplicate, bad email) is shown, nothing stored
            self.errors.append(str(exc))
            self.error.value = f"<div class='wb-error'>{text_html(exc)}</div>"
            return None
        self.error.value = ""
        self.links.append(link)
        self.name.value = self.email.value = ""
        who = text_html(name or ROLE_ONE[role])
        self.link.value = (f"<div class='wb-card'>Invitation for {who} created. Send them this link (valid for 14 "
                           f"days):<br><code>{text_html(link)}</code></div>" if self.show_link else
                           f"<div class='wb-card'>Invitation for {who} created. Your facilitator sends them their "
                           "personal link.</div>")
        return link


def invite_section(eng, leader_id: str) -> list[w.Widget]:
    from ..services.identity import app_url
    from ..services.invitations import invite, rater_token

    def on_invite(role: str, name: str, email: str) -> str:
        inv = invite(eng, leader_id, role, name=name or None, email=email or None, invited_by=leader_id)
        return app_url(page_base_url(), RATER.notebook, rater_token(eng, inv.id))

    return [InvitePanel(on_invite, show_link=False).widget]


# ---------------------------------------------------------------------------- the facilitator's view
def invitations_section(eng, cohort_id: str, names: dict[str, str]) -> list[w.Widget]:
    """Every invitation of the cohort's leaders with its state, and the reminders that are due."""
    from ..services.identity import app_url
    from ..services.invitations import (
        cohort_invitations,
        due_reminders,
        invite,
        mark_reminded,
        rater_token,
    )

    rows = cohort_invitations(eng, cohort_id)
    counts = pd.Series([r.status for r in rows]).value_counts() if rows else pd.Series(dtype=int)
    head = " · ".join(f"{k}: {int(counts.get(k, 0))}" for k in ("invited", "started", "submitted", "expired", "revoked"))
    body = "".join(
        f"<tr><td>{text_html(names.get(r.leader_id, r.leader_id))}</td><td>{text_html(ROLE_ONE[r.role])}</td>"
        f"<td>{text_html(r.name or '-')}</td><td>{text_html(r.status)}</td>"
        f"<td>{'' if r.expires_at is None else f'{r.expires_at:%d %b}'}</td><td>{r.reminder_count}</td></tr>"
        for r in rows)
    table = w.HTML(f"<div class='wb-card'><b>Rater invitations</b><div class='wb-muted'>{head}</div>"
                   "<details><summary>Show all</summary><table><tr><th>Leader</th><th>Role</th><th>Rater</th>"
                   f"<th>State</th><th>Expires</th><th>Reminders</th></tr>{body}</table></details></div>")
    table.add_class("wb-invitations-table")
    due = due_reminders(eng, cohort_id=cohort_id)
    reminders = w.HTML("")
    reminders.add_class("wb-reminders")
    mark = w.Button(description="Mark all as reminded", layout=w.Layout(display="" if due else "none"))
    mark.add_class("wb-reminders-mark")

    def render(items) -> None:
        if not items:
            reminders.value = "<div class='wb-card'>No reminders due.</div>"
            return
        lines = "".join(
            f"<li>{text_html(r.name or ROLE_ONE[r.role])} ({text_html(ROLE_ONE[r.role])} of "
            f"{text_html(names.get(r.leader_id, r.leader_id))}), {text_html(r.status)}: "
            f"<code>{text_html(app_url(page_base_url(), RATER.notebook, rater_token(eng, r.id)))}</code></li>"
            for r in items)
        reminders.value = (f"<div class='wb-card'><b>{len(items)} reminders due</b> (no answer after 3 days). "
                           f"A fresh link for each:<ul>{lines}</ul></div>")

    def on_mark(_b) -> None:
        current = due_reminders(eng, cohort_id=cohort_id)  # answers may have come in since the page was built
        try:
            mark_reminded(eng, [r.id for r in current])
        except Exception as exc:  # noqa: BLE001 - say so; nothing was marked
            reminders.value = f"<div class='wb-error'>Could not mark the reminders: {text_html(exc)}</div>"
            return
        render([])
        mark.layout.display = "none"

    mark.on_click(on_mark)
    render(due)
    open_rows = [r for r in rows if r.open]
    to_send = w.HTML(
        "<div class='wb-card'><details><summary><b>Links to send</b> (" + str(len(open_rows)) + " open invitations, "
        "a fresh link each)</summary><ul>" + "".join(
            f"<li>{text_html(r.name or ROLE_ONE[r.role])} &lt;{text_html(r.email or 'no email')}&gt;, "
            f"{text_html(ROLE_ONE[r.role])} of {text_html(names.get(r.leader_id, r.leader_id))}: "
            f"<code>{text_html(app_url(page_base_url(), RATER.notebook, rater_token(eng, r.id)))}</code></li>"
            for r in open_rows) + "</ul></details></div>")
    to_send.add_class("wb-invitations-links")
    who = w.Dropdown(options=[(n, lid) for lid, n in sorted(names.items(), key=lambda kv: kv[1])],
                     description="For")
    who.add_class("wb-invite-leader")

    def on_invite(role: str, name: str, email: str) -> str:
        inv = invite(eng, who.value, role, name=name or None, email=email or None,
                     invited_by=f"facilitator:{cohort_id}")
        return app_url(page_base_url(), RATER.notebook, rater_token(eng, inv.id))

    panel = InvitePanel(on_invite)
    box = w.VBox([table, to_send, reminders, mark, who, panel.widget])
    box.add_class("wb-invitations")
    return [box]
