"""Multi-rater feedback on the pages: the leader's view of others, inviting raters, and the
facilitator's invitation list with reminders.

What a leader sees of other raters is only what :mod:`workbench.services.invitations` (counts, the
manager by name) and the anonymity-aware estimates (:mod:`workbench.services.assessment`) give:
never a peer's or a direct report's name, status or answers.

Stable CSS classes: ``wb-others``, ``wb-others-status``, ``wb-others-hidden``,
``wb-others-gaps``, ``wb-invite``, ``wb-invite-role``, ``wb-invite-name``, ``wb-invite-email``,
``wb-invite-send``, ``wb-invite-link``, ``wb-invite-error``; ``wb-invitations``,
``wb-invitations-table`` (rows ``wb-invitation-row``), ``wb-invitations-csv``, ``wb-copy`` (a copy
button; its text in ``data-copy``), ``wb-reminders`` (one ``wb-reminder`` per rater, with a
``wb-mail-draft``), ``wb-reminders-mark``, ``wb-invite-leader``.
"""

from __future__ import annotations

import base64
import html
import json
import os
from collections.abc import Callable

import ipywidgets as w
import pandas as pd

from ..content import Library
from .common import table_html, text_html
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
    fig = go.Figure(data=traces, layout=go.Layout(
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


def copy_button(text: str, label: str = "Copy") -> str:
    """HTML for a button that copies ``text`` to the clipboard (the text is also in ``data-copy``)."""
    return (f"<button class='wb-copy' type='button' data-copy='{html.escape(text)}' title='{html.escape(label)}' "
            "onclick=\"navigator.clipboard.writeText(this.dataset.copy).then(() => {this.textContent = 'Copied'})\">"
            f"{html.escape(label)}</button>")


class InvitePanel:
    """Invite a rater: role, name, email (required: the link is sent to it).

    ``on_invite(role, name, email)`` stores the invitation and returns the rater's link. With
    ``show_link`` (the facilitator's page) the link is shown to send; without (the leader's page)
    it is not: the link is the rater's only key to their answers, so the person rated never
    holds it. Their facilitator sends it from the cohort page or ``workbench invitations``.
    ``subject()`` names the leader to be rated in the confirmation ("you" on the leader's page).
    """

    def __init__(self, on_invite: Callable[[str, str, str], str], show_link: bool = True,
                 subject: Callable[[], str | None] | None = None):
        self.on_invite, self.show_link = on_invite, show_link
        self.subject = subject or (lambda: None)
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
        leader = self.subject()
        about = f" to rate <b>{text_html(leader)}</b> as their {text_html(ROLE_ONE[role])}" if leader else \
            f" as your {text_html(ROLE_ONE[role])}"
        self.link.value = (f"<div class='wb-card'>Invitation for {who} &lt;{text_html(email)}&gt;{about} created. Send them "
                           f"this link (valid for 14 days): {copy_button(link, 'Copy link')}<br><code>{text_html(link)}</code>"
                           "</div>" if self.show_link else
                           f"<div class='wb-card'>Invitation for {who} &lt;{text_html(email)}&gt;{about} created. Your "
                           "facilitator sends them their personal link.</div>")
        return link


def invite_section(eng, leader_id: str) -> list[w.Widget]:
    from ..services.identity import app_url
    from ..services.invitations import invite, rater_token

    def on_invite(role: str, name: str, email: str) -> str:
        inv = invite(eng, leader_id, role, name=name or None, email=email or None, invited_by=leader_id)
        return app_url(page_base_url(), RATER.notebook, rater_token(eng, inv.id))

    return [InvitePanel(on_invite, show_link=False).widget]


# ---------------------------------------------------------------------------- the facilitator's view
STATUS_ORDER = ("invited", "started", "submitted", "expired", "revoked")


#: the facilitator's table on the page: column of :func:`~workbench.services.invitations.facilitator_table` -> heading
INVITATION_HEADINGS = {"leader": "Leader", "role": "Role", "rater": "Rater", "email": "Email", "status": "State",
                       "expires": "Expires", "reminders": "Reminders", "link": "Personal link"}


def invitations_table_html(table: pd.DataFrame) -> str:
    """The facilitator's invitations (a :func:`~workbench.services.invitations.facilitator_table`) as
    an HTML table, one ``wb-invitation-row`` per invitation: a copy button for each open one's link
    (no raw URLs on the page), "closed" for the others."""
    frame = table[list(INVITATION_HEADINGS)].rename(columns=INVITATION_HEADINGS)
    blank = {"": None}  # shown as "-"
    frame = frame.replace({"Rater": blank, "Email": blank, "Expires": blank})
    return table_html(frame, caption="Invitations", numeric=("Reminders",), row_class="wb-invitation-row",
                      markup={"Personal link": lambda link: copy_button(link, "Copy link") if link else
                              "<span class='wb-muted'>closed</span>"})


def reminder_card(draft, inv, leader_name: str, link: str) -> str:
    """One due reminder: who, for whom, the link and the mail draft (subject and body), each with a copy button."""
    return (
        f"<div class='wb-reminder wb-card'><b>{text_html(inv.name or ROLE_ONE[inv.role])}</b> "
        f"&lt;{text_html(inv.email or 'no email')}&gt;, {text_html(ROLE_ONE[inv.role])} of <b>{text_html(leader_name)}</b> · "
        f"{text_html(inv.status)} · {inv.reminder_count} reminder{'s' if inv.reminder_count != 1 else ''} so far "
        f"{copy_button(link, 'Copy link')}"
        f"<details class='wb-mail-draft'><summary>Mail draft</summary>"
        f"<div><b>Subject:</b> {text_html(draft.subject)} {copy_button(draft.subject, 'Copy subject')}</div>"
        f"<pre style='white-space: pre-wrap'>{text_html(draft.body)}</pre>{copy_button(draft.body, 'Copy text')} "
        f"<a href='{text_html(draft.mailto())}'>Open in mail</a></details></div>")


def invitations_section(eng, cohort_id: str, names: dict[str, str], sender: str | None = None) -> list[w.Widget]:
    """The cohort's invitations as a table with a copy button per open link and a CSV export,
    the reminders that are due, each with a mail draft, and an invite form where the facilitator
    chooses the leader to be rated (no default) and the confirmation names them."""
    from ..services.identity import app_url
    from ..services.invitations import (
        cohort_invitations,
        due_reminders,
        facilitator_table,
        invite,
        mail_draft,
        mark_reminded,
        rater_token,
        table_csv,
    )

    def link_for(r) -> str:
        return app_url(page_base_url(), RATER.notebook, rater_token(eng, r.id))

    rows = cohort_invitations(eng, cohort_id)
    counts = pd.Series([r.status for r in rows]).value_counts() if rows else pd.Series(dtype=int)
    head = " · ".join(f"{k}: {int(counts.get(k, 0))}" for k in STATUS_ORDER)
    frame = facilitator_table(rows, names, link_for)
    data = base64.b64encode(table_csv(frame).encode("utf-8")).decode("ascii")
    csv_link = (f"<a class='wb-invitations-csv' download='{text_html(cohort_id)}-invitations.csv' "
                f"href='data:text/csv;charset=utf-8;base64,{data}'>Download CSV</a>")
    table = w.HTML(
        f"<div class='wb-card'><b>Rater invitations</b> <span class='wb-muted'>{head}</span> · {csv_link}"
        f"{invitations_table_html(frame)}"
        "<div class='wb-muted'>Each open invitation's link is fresh (valid 14 days); copy it into your own mail. "
        "The CSV holds the same table with the links, for a mail merge.</div></div>")
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
        cards = []
        for r in items:
            leader = names.get(r.leader_id, r.leader_id)
            link = link_for(r)
            cards.append(reminder_card(mail_draft(r, leader, link, sender=sender), r, leader, link))
        reminders.value = (f"<div class='wb-card'><b>{len(items)} reminders due</b> (no answer after 3 days). "
                           "Each has a fresh link and a mail draft to copy or open in your mail program; "
                           f"mark them as reminded once sent.</div>{''.join(cards)}")

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
    who = w.Dropdown(options=[("Choose the leader to be rated", None)]
                     + [(n, lid) for lid, n in sorted(names.items(), key=lambda kv: kv[1])],
                     value=None, description="For")
    who.add_class("wb-invite-leader")

    def on_invite(role: str, name: str, email: str) -> str:
        if who.value is None:
            raise ValueError("choose the leader to be rated first (the \"For\" list)")
        inv = invite(eng, who.value, role, name=name or None, email=email or None,
                     invited_by=f"facilitator:{cohort_id}")
        return link_for(inv)

    panel = InvitePanel(on_invite, subject=lambda: names.get(who.value, who.value) if who.value else None)
    box = w.VBox([table, reminders, mark, who, panel.widget])
    box.add_class("wb-invitations")
    return [box]
