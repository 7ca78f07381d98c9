"""Widgets for learning together: forming peer groups, planning sessions, and one leader's group.

Plain ipywidgets over :mod:`workbench.cohorts`. They take plain data and callbacks and never
touch the store; the page that hosts them persists what the callbacks hand over:

* :class:`GroupFormationPanel` (facilitator) previews :func:`~workbench.cohorts.form_groups` for
  a size range and calls ``on_save(grouping)``.
* :class:`SessionPlanner` (facilitator) schedules sessions with
  :func:`~workbench.cohorts.schedule_sessions`, calls ``on_save(sessions)``, and exports them
  with :func:`~workbench.cohorts.to_ics`, calling ``on_export(text)``.
* :class:`MyGroupPanel` (leader) shows the leader's peer group, upcoming sessions, discussion
  prompts and the posts the leader may see (:func:`~workbench.cohorts.visible_posts`), and calls
  ``on_post(text, prompt)`` for a new post.

Each widget shows its content when built (no click needed). A callback that raises does not
break the widget: the message is shown in an element with class ``wb-cohort-error`` and kept in
``.errors``.

Stable CSS classes
------------------
``wb-groups``, ``wb-groups-min``, ``wb-groups-max``, ``wb-groups-preview``, ``wb-groups-save``,
``wb-groups-summary``, ``wb-groups-list``, ``wb-group-card``, ``wb-groups-status``;
``wb-sessions``, ``wb-sessions-zone``, ``wb-sessions-start``, ``wb-sessions-weekday``, ``wb-sessions-time``,
``wb-sessions-count``, ``wb-sessions-cadence``, ``wb-sessions-list``, ``wb-session-card``,
``wb-sessions-save``, ``wb-sessions-organizer``, ``wb-sessions-export``, ``wb-sessions-ics``, ``wb-sessions-download``,
``wb-sessions-status``; ``wb-mygroup``, ``wb-mygroup-members``, ``wb-mygroup-sessions``,
``wb-mygroup-prompts``, ``wb-mygroup-posts``, ``wb-mygroup-prompt-select``, ``wb-mygroup-input``,
``wb-mygroup-post``, ``wb-mygroup-status``; ``wb-cohort-error``.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import zoneinfo
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import ipywidgets as w
import pandas as pd

from ..cohorts import (
    ClassroomSession,
    Grouping,
    Member,
    Post,
    Prompt,
    Viewer,
    form_groups,
    post,
    schedule_sessions,
    to_ics,
    visible_posts,
)
from ..cohorts.sessions import local_time
from ..content.library import Library
from .common import table_html, text_html

TIME_ZONES = tuple(sorted(zoneinfo.available_timezones() - {"localtime", "Factory"}))


WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MAX_POST_CHARS = 2000

COHORT_STYLE = """
<style>
.wb-group-card, .wb-session-card, .wb-post {border: 1px solid #e3e6ea; border-radius: 8px; padding: 8px 14px; margin: 6px 0;}
.wb-post-reply {margin-left: 28px;}
.wb-post-hidden {opacity: 0.6; border-style: dashed;}
.wb-status-refused, .wb-cohort-error {color: #b3261e;}
.wb-status-ok {color: #1e6b35;}
</style>
"""


class _Callbacks:
    """Runs persistence callbacks, turning their failures into a visible message."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.error = w.HTML("")
        self.error.add_class("wb-cohort-error")

    def call(self, fn: Callable[..., Any] | None, *args: Any) -> tuple[bool, Any]:
        """``(ok, result)``; ``ok`` is False when ``fn`` raised."""
        if fn is None:
            return True, None
        try:
            return True, fn(*args)
        except Exception as exc:  # noqa: BLE001 - show the failure; the page goes on
            msg = f"Could not save: {exc}"
            self.errors.append(msg)
            self.error.value = f"<div>{html.escape(msg)}</div>"
            return False, None


def _status(widget: w.HTML, text: str, ok: bool) -> None:
    cls = "wb-status-ok" if ok else "wb-status-refused"
    widget.value = f"<div class='{cls}'>{html.escape(text)}</div>"


# ------------------------------------------------------------------------------ group formation
class GroupFormationPanel:
    """Preview and save peer groups for a cohort.

    Parameters
    ----------
    members:
        The cohort as :class:`~workbench.cohorts.Member` records.
    library:
        For competency display names.
    forbidden:
        Pairs of leader ids that must not share a group (e.g. manager and direct report).
    on_save:
        ``on_save(grouping)`` when "Save groups" is clicked on a current preview.
    names:
        Display names per leader id (the id is shown when missing).
    min_size, max_size:
        Initial size range (4-6).
    seed, restarts:
        Passed to :func:`~workbench.cohorts.form_groups`.
    """

    def __init__(
        self,
        members: Sequence[Member],
        library: Library,
        forbidden: Iterable[tuple[str, str]] = (),
        on_save: Callable[[Grouping], Any] | None = None,
        *,
        names: Mapping[str, str] | None = None,
        min_size: int = 4,
        max_size: int = 6,
        seed: int = 0,
        restarts: int = 4,
    ):
        self.members = list(members)
        self.library = library
        self.forbidden = [tuple(p) for p in forbidden]
        self.on_save = on_save
        self.names = dict(names or {})
        self.seed, self.restarts = seed, restarts
        self.grouping: Grouping | None = None
        self.saved: Grouping | None = None
        self._cb = _Callbacks()

        self.header = w.HTML(f"{COHORT_STYLE}<h3>Peer groups</h3><div class='wb-muted'>Groups are formed so that "
                             "someone in each group is strong where the others want to grow.</div>")
        self.min_size = w.IntText(value=min_size, description="Min size", layout=w.Layout(width="160px"))
        self.min_size.add_class("wb-groups-min")
        self.max_size = w.IntText(value=max_size, description="Max size", layout=w.Layout(width="160px"))
        self.max_size.add_class("wb-groups-max")
        self.preview_button = w.Button(description="Preview groups", button_style="primary")
        self.preview_button.add_class("wb-groups-preview")
        self.preview_button.on_click(lambda _b: self.preview())
        self.save_button = w.Button(description="Save groups", button_style="success")
        self.save_button.add_class("wb-groups-save")
        self.save_button.on_click(lambda _b: self.save())
        self.status = w.HTML("")
        self.status.add_class("wb-groups-status")
        self.summary = w.HTML("")
        self.summary.add_class("wb-groups-summary")
        self.groups_view = w.VBox([])
        self.groups_view.add_class("wb-groups-list")
        for box in (self.min_size, self.max_size):
            box.observe(self._sizes_changed, names="value")
        self.widget = w.VBox([self.header, w.HBox([self.min_size, self.max_size, self.preview_button]),
                              self.status, self.summary, self.groups_view, self.save_button, self._cb.error])
        self.widget.add_class("wb-groups")
        self.preview()

    @property
    def errors(self) -> list[str]:
        return self._cb.errors

    def _name(self, leader_id: str) -> str:
        return self.names.get(leader_id, leader_id)

    def _comp(self, c: str) -> str:
        comp = self.library.competencies.get(c)
        return comp.name if comp is not None else c

    def _sizes_changed(self, _change: Any) -> None:
        if self.grouping is not None:
            self.save_button.disabled = True
            _status(self.status, "The sizes changed: preview the groups again before saving.", ok=False)

    def preview(self) -> Grouping | None:
        """Form groups for the current size range and show them; None (with a message) when impossible."""
        try:
            g = form_groups(self.members, min_size=int(self.min_size.value), max_size=int(self.max_size.value),
                            forbidden=self.forbidden, seed=self.seed, restarts=self.restarts)
        except ValueError as exc:
            self.grouping = None
            self.save_button.disabled = True
            self.summary.value = ""
            self.groups_view.children = ()
            _status(self.status, f"Cannot form groups: {exc}", ok=False)
            return None
        self.grouping = g
        self.save_button.disabled = False
        self.status.value = ""
        self._render(g)
        return g

    def _render(self, g: Grouping) -> None:
        sizes = sorted({len(x) for x in g.groups})
        size_text = "-".join(str(s) for s in (sizes[0], sizes[-1])) if len(sizes) > 1 else str(sizes[0])
        self.summary.value = (
            f"<div class='wb-card'><b>{len(g.groups)} groups</b> of {size_text} from {len(self.members)} leaders. "
            f"<b>Coverage {g.coverage:.0%}</b> of development areas have a strong peer in the group "
            f"(random groups: {g.random_coverage:.0%}).</div>"
        )
        cards = []
        for k, members in enumerate(g.groups):
            rows = "".join(
                f"<li>{text_html(self._name(lid))} <span class='wb-muted'>develops "
                f"{text_html(', '.join(self._comp(c) for c in g.development_areas.get(lid, ())) or '-')}</span></li>"
                for lid in members
            )
            pairs = [p for p in g.coaching_pairs if p.group == k]
            pair_html = "".join(
                f"<li>{text_html(self._name(p.coach))} → {text_html(self._name(p.learner))}: {text_html(self._comp(p.competency))}</li>"
                for p in pairs
            ) or "<li class='wb-muted'>No coaching pairs in this group</li>"
            shared = ", ".join(self._comp(c) for c in g.shared_development_areas(k)) or "-"
            card = w.HTML(f"<div><b>Group {k + 1}</b> ({len(members)} leaders) · shared development areas: "
                          f"{text_html(shared)}<ul>{rows}</ul><b>Coaching pairs</b><ul>{pair_html}</ul></div>")
            card.add_class("wb-group-card")
            card.add_class(f"wb-group-{k + 1}")
            cards.append(card)
        self.groups_view.children = tuple(cards)

    def save(self) -> bool:
        """Hand the current preview to ``on_save``; False (with a message) when there is none."""
        if self.grouping is None or self.save_button.disabled:
            _status(self.status, "Nothing to save: preview the groups first.", ok=False)
            return False
        ok, _ = self._cb.call(self.on_save, self.grouping)
        if ok:
            self.saved = self.grouping
            _status(self.status, f"Saved {len(self.grouping.groups)} groups.", ok=True)
        return ok


# ------------------------------------------------------------------------------ session planner
class SessionPlanner:
    """Plan a cohort's virtual classroom sessions, save them and export them as iCalendar.

    Parameters
    ----------
    library:
        The content library (agendas come from its modules and moments).
    cohort_id:
        The cohort the sessions belong to.
    focus_competencies:
        Competency ids in order (e.g. ``grouping.shared_development_areas(k)``); session k
        focuses on ``focus_competencies[k % len]``.
    on_save:
        ``on_save(sessions)`` (a tuple of :class:`~workbench.cohorts.ClassroomSession`).
    on_export:
        ``on_export(ics_text)`` when "Download .ics" is clicked.
    on_timezone:
        ``on_timezone(tz)`` when the facilitator picks another time zone for the cohort (the plan
        is redrawn in it: sessions keep their local time).
    organizer, attendees:
        ``(name, email)`` of the facilitator and of the members, for the calendar export.
    start, weekday, at, count, cadence_days:
        Initial values of the controls (start defaults to today, weekday to Wednesday, 09:00,
        6 sessions, every 14 days).
    tz, minutes, level, group_id, location, title:
        Passed to :func:`~workbench.cohorts.schedule_sessions`.
    dtstamp:
        ``DTSTAMP`` of the exported calendar (now when None).
    """

    def __init__(
        self,
        library: Library,
        cohort_id: str,
        focus_competencies: Sequence[str],
        on_save: Callable[[tuple[ClassroomSession, ...]], Any] | None = None,
        on_export: Callable[[str], Any] | None = None,
        *,
        on_timezone: Callable[[str], Any] | None = None,
        organizer: tuple[str | None, str] | None = None,
        attendees: Sequence[tuple[str | None, str]] = (),
        start: dt.date | None = None,
        weekday: int = 2,
        at: dt.time = dt.time(9, 0),
        count: int = 6,
        cadence_days: int = 14,
        tz: str = "UTC",
        minutes: int = 60,
        level: str = "first-time",
        group_id: str | None = None,
        location: str | None = None,
        title: str = "Learning together",
        dtstamp: dt.datetime | None = None,
    ):
        self.library, self.cohort_id = library, cohort_id
        self.focus = list(focus_competencies)
        self.on_save, self.on_export, self.on_timezone = on_save, on_export, on_timezone
        self.organizer, self.attendees = organizer, tuple(attendees)
        self.options = dict(tz=tz, minutes=minutes, level=level, group_id=group_id, location=location, title=title)
        self.dtstamp = dtstamp
        self.sessions: tuple[ClassroomSession, ...] = ()
        self.ics_text = ""
        self._cb = _Callbacks()

        self.header = w.HTML(f"{COHORT_STYLE}<h3>Virtual classroom sessions</h3>"
                             "<div class='wb-muted'>Times are local to the cohort's time zone.</div>")
        self.zone = w.Dropdown(options=TIME_ZONES if tz in TIME_ZONES else (tz, *TIME_ZONES), value=tz,
                               description="Time zone")
        self.zone.add_class("wb-sessions-zone")
        self.zone.observe(self._zone_changed, names="value")
        self.organizer_email = w.Text(value=(organizer[1] if organizer else ""), placeholder="you@example.org",
                                      description="Organizer")
        self.organizer_email.add_class("wb-sessions-organizer")
        self.start = w.DatePicker(value=start or dt.date.today(), description="First date")
        self.start.add_class("wb-sessions-start")
        self.weekday = w.Dropdown(options=[(d, i) for i, d in enumerate(WEEKDAYS)], value=weekday, description="Weekday")
        self.weekday.add_class("wb-sessions-weekday")
        self.time = w.TimePicker(value=at, description="Time")
        self.time.add_class("wb-sessions-time")
        self.count = w.IntText(value=count, description="Sessions")
        self.count.add_class("wb-sessions-count")
        self.cadence = w.IntText(value=cadence_days, description="Every (days)")
        self.cadence.add_class("wb-sessions-cadence")
        self.status = w.HTML("")
        self.status.add_class("wb-sessions-status")
        self.list_view = w.VBox([])
        self.list_view.add_class("wb-sessions-list")
        self.save_button = w.Button(description="Save sessions", button_style="success")
        self.save_button.add_class("wb-sessions-save")
        self.save_button.on_click(lambda _b: self.save())
        self.export_button = w.Button(description="Download .ics")
        self.export_button.add_class("wb-sessions-export")
        self.export_button.on_click(lambda _b: self.export())
        self.download = w.HTML("")
        self.download.add_class("wb-sessions-download")
        self.ics = w.Textarea(value="", disabled=True, layout=w.Layout(width="100%", height="160px", display="none"))
        self.ics.add_class("wb-sessions-ics")
        for c in (self.start, self.weekday, self.time, self.count, self.cadence):
            c.observe(lambda _ch: self.refresh(), names="value")
        self.widget = w.VBox([
            self.header, self.zone, w.HBox([self.start, self.weekday, self.time]), w.HBox([self.count, self.cadence]),
            self.status, self.list_view, w.HBox([self.save_button, self.organizer_email, self.export_button]),
            self.download, self.ics,
            self._cb.error,
        ])
        self.widget.add_class("wb-sessions")
        self.refresh()

    @property
    def errors(self) -> list[str]:
        return self._cb.errors

    def _zone_changed(self, change: Any) -> None:
        self.options["tz"] = change["new"]
        self._cb.call(self.on_timezone, change["new"])
        self.refresh()

    def refresh(self) -> tuple[ClassroomSession, ...]:
        """Schedule from the current controls and show the sessions (empty, with a message, on bad input)."""
        self.ics_text = ""
        self.download.value = ""
        self.ics.value = ""
        self.ics.layout.display = "none"
        try:
            if self.start.value is None:
                raise ValueError("choose a first date")
            if self.time.value is None:
                raise ValueError("choose a start time")
            self.sessions = schedule_sessions(
                self.library, self.cohort_id, self.focus, start=self.start.value, weekday=int(self.weekday.value),
                at=self.time.value, count=int(self.count.value), cadence_days=int(self.cadence.value), **self.options)
        except (ValueError, KeyError) as exc:
            self.sessions = ()
            self.list_view.children = ()
            self.save_button.disabled = self.export_button.disabled = True
            _status(self.status, f"Cannot plan sessions: {exc}", ok=False)
            return ()
        self.save_button.disabled = self.export_button.disabled = False
        self.status.value = ""
        self.list_view.children = tuple(self._card(s) for s in self.sessions)
        return self.sessions

    def _card(self, s: ClassroomSession) -> w.HTML:
        items = "".join(
            f"<li>{a.minutes} min · {text_html(a.title)}" + (f"<div class='wb-muted'>{text_html(a.text)}</div>" if a.text else "")
            + "</li>" for a in s.agenda
        )
        card = w.HTML(f"<div><b>{text_html(s.title)}</b><div class='wb-muted'>"
                      f"{text_html(local_time(s.starts_at, self.options['tz']))} · {s.minutes} min</div><ol>{items}</ol></div>")
        card.add_class("wb-session-card")
        return card

    def save(self) -> bool:
        """Hand the planned sessions to ``on_save``; False (with a message) when there are none."""
        if not self.sessions:
            _status(self.status, "Nothing to save: fix the plan first.", ok=False)
            return False
        ok, _ = self._cb.call(self.on_save, self.sessions)
        if ok:
            _status(self.status, f"Saved {len(self.sessions)} sessions.", ok=True)
        return ok

    def export(self) -> str:
        """The sessions as iCalendar text, shown in the page, linked for download and passed to ``on_export``."""
        if not self.sessions:
            _status(self.status, "Nothing to export: fix the plan first.", ok=False)
            return ""
        email = self.organizer_email.value.strip()
        organizer = ((self.organizer[0] if self.organizer else None), email) if "@" in email else None
        text = to_ics(self.sessions, tz=self.options["tz"], organizer=organizer, attendees=self.attendees,
                      dtstamp=self.dtstamp)
        self.ics_text = text
        self.ics.value = text
        self.ics.layout.display = None
        data = base64.b64encode(text.encode("utf-8")).decode("ascii")
        fname = f"{self.cohort_id}-sessions.ics"
        self.download.value = (f"<a download='{html.escape(fname)}' href='data:text/calendar;charset=utf-8;base64,{data}'>"
                               f"Save {html.escape(fname)}</a>")
        self._cb.call(self.on_export, text)
        return text


# ------------------------------------------------------------------------------ my group
class MyGroupPanel:
    """One leader's peer group: members, upcoming sessions, prompts and the group discussion.

    Parameters
    ----------
    group_members:
        ``(name, strengths, development areas)`` per member, strengths and areas as display names.
    sessions:
        The group's or cohort's sessions; those not yet over at ``now`` are listed, soonest first.
    posts:
        The cohort's posts; only those ``viewer`` may see are shown (:func:`~workbench.cohorts.visible_posts`).
    viewer:
        The leader looking at the page.
    on_post:
        ``on_post(text, prompt)`` for a new post (``prompt`` is a :class:`~workbench.cohorts.Prompt`
        or None). When it returns a :class:`~workbench.cohorts.Post` that one is shown; otherwise
        a local post is shown. When it raises, the post is not shown and the error is.
    prompts:
        Discussion prompts; by default one per upcoming session's discussion block.
    author_names:
        Display names per author id (the cohort's members; a facilitator's post reads "Facilitator";
        an author without a name "A member of your cohort", never a raw id).
    tz:
        The leader's time zone: sessions and posts are shown in it.
    now:
        The current time (aware); default now in UTC.
    max_chars:
        Longest accepted post.
    """

    def __init__(
        self,
        group_members: Sequence[tuple[str, Sequence[str], Sequence[str]]],
        sessions: Sequence[ClassroomSession],
        posts: Sequence[Post],
        viewer: Viewer,
        on_post: Callable[[str, Prompt | None], Any] | None = None,
        *,
        prompts: Sequence[Prompt] | None = None,
        author_names: Mapping[str, str] | None = None,
        tz: str = "UTC",
        now: dt.datetime | None = None,
        max_chars: int = MAX_POST_CHARS,
    ):
        try:
            zoneinfo.ZoneInfo(tz)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {tz!r}") from exc
        self.tz = tz
        self.group_members = [(n, tuple(s), tuple(d)) for n, s, d in group_members]
        self.viewer = viewer
        self.on_post = on_post
        self.now = now or dt.datetime.now(dt.UTC)
        if self.now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        self.max_chars = max_chars
        self.names = dict(author_names or {})
        self.posts: list[Post] = list(posts)
        self.upcoming = sorted((s for s in sessions if s.ends_at >= self.now), key=lambda s: s.starts_at)
        self.prompts = list(prompts) if prompts is not None else self._session_prompts()
        self._cb = _Callbacks()
        self._local = 0

        self.header = w.HTML(f"{COHORT_STYLE}<h3>My peer group</h3>")
        self.members_view = w.HTML(self._members_html())
        self.members_view.add_class("wb-mygroup-members")
        self.sessions_view = w.HTML(self._sessions_html())
        self.sessions_view.add_class("wb-mygroup-sessions")
        self.prompts_view = w.HTML(self._prompts_html())
        self.prompts_view.add_class("wb-mygroup-prompts")
        self.posts_view = w.VBox([])
        self.posts_view.add_class("wb-mygroup-posts")
        self.prompt_select = w.Dropdown(options=[("General discussion", None)] +
                                        [(self._short(p.text), p.id) for p in self.prompts],
                                        value=None, description="Prompt", layout=w.Layout(width="100%"))
        self.prompt_select.add_class("wb-mygroup-prompt-select")
        self.input = w.Textarea(placeholder="Share an experience or a question with your group…",
                                layout=w.Layout(width="100%", height="80px"))
        self.input.add_class("wb-mygroup-input")
        self.post_button = w.Button(description="Post", button_style="primary")
        self.post_button.add_class("wb-mygroup-post")
        self.post_button.on_click(lambda _b: self.submit())
        self.status = w.HTML("")
        self.status.add_class("wb-mygroup-status")
        self.widget = w.VBox([self.header, self.members_view, self.sessions_view, self.prompts_view,
                              w.HTML("<h4>Group discussion</h4>"), self.posts_view, self.prompt_select, self.input,
                              self.post_button, self.status, self._cb.error])
        self.widget.add_class("wb-mygroup")
        self._render_posts()

    @property
    def errors(self) -> list[str]:
        return self._cb.errors

    @staticmethod
    def _short(text: str, n: int = 90) -> str:
        t = " ".join(text.split())
        return t if len(t) <= n else t[: n - 1] + "…"

    def _session_prompts(self) -> list[Prompt]:
        out = []
        for s in self.upcoming:
            for a in s.agenda:
                if a.kind == "discussion" and a.text:
                    out.append(Prompt(f"session:{s.id}", a.text, moment_id=a.ref))
        return out

    def _members_html(self) -> str:
        if not self.group_members:
            return "<div class='wb-card'>You are not in a peer group yet.</div>"
        frame = pd.DataFrame([(n, ", ".join(s) or None, ", ".join(d) or None) for n, s, d in self.group_members],
                             columns=["Name", "Strengths", "Developing"])
        return f"<div class='wb-card wb-group-members'>{table_html(frame, caption='Members')}</div>"

    def _sessions_html(self) -> str:
        if not self.upcoming:
            return "<div class='wb-card'><b>Upcoming sessions</b><div class='wb-muted'>None scheduled.</div></div>"
        rows = []
        for s in self.upcoming:
            agenda = " · ".join(f"{a.title} ({a.minutes} min)" for a in s.agenda)
            rows.append(f"<li><b>{text_html(local_time(s.starts_at, self.tz))}</b> {text_html(s.title)}"
                        f"<div class='wb-muted'>{text_html(agenda)}</div></li>")
        return f"<div class='wb-card'><b>Upcoming sessions</b><ul>{''.join(rows)}</ul></div>"

    def _prompts_html(self) -> str:
        if not self.prompts:
            return ""
        items = "".join(f"<li>{text_html(p.text)}</li>" for p in self.prompts)
        return f"<div class='wb-card'><b>Discussion prompts</b><ul>{items}</ul></div>"

    def author_name(self, author_id: str) -> str:
        """A post's author as people read it: a name, "Facilitator", or a neutral phrase (never an id)."""
        if author_id in self.names:
            return self.names[author_id]
        if author_id.startswith("facilitator"):
            return "Facilitator"
        return "A member of your cohort"

    @property
    def shown_posts(self) -> list[Post]:
        """The posts the viewer may see, in order."""
        return visible_posts(self.posts, self.viewer)

    def _render_posts(self) -> None:
        shown = self.shown_posts
        if not shown:
            empty = w.HTML("<div class='wb-muted'>No posts yet: be the first to share.</div>")
            empty.add_class("wb-mygroup-empty")
            self.posts_view.children = (empty,)
            return
        prompt_text = {p.id: p.text for p in self.prompts}
        cards = []
        for p in shown:
            who = "You" if p.author_id == self.viewer.id else self.author_name(p.author_id)
            when = f" · {local_time(p.created_at, self.tz, '%d %b %H:%M')}" if p.created_at else ""
            about = (f"<div class='wb-muted'>on: {text_html(self._short(prompt_text[p.prompt_id]))}</div>"
                     if p.prompt_id in prompt_text and not p.parent_id else "")
            note = "<div class='wb-muted'>Hidden by the facilitator; only you can see it.</div>" if p.hidden else ""
            card = w.HTML(f"<div><b>{text_html(who)}</b><span class='wb-muted'>{when}</span>{about}"
                          f"<div>{html.escape(p.body).replace(chr(10), '<br>')}</div>{note}</div>")
            card.add_class("wb-post")
            if p.parent_id:
                card.add_class("wb-post-reply")
            if p.hidden:
                card.add_class("wb-post-hidden")
            cards.append(card)
        self.posts_view.children = tuple(cards)

    def submit(self, text: str | None = None, prompt: Prompt | str | None = None) -> Post | None:
        """Post ``text`` (or the text box) on ``prompt`` (or the selected one); None with a message when refused."""
        body = self.input.value if text is None else text
        if prompt is None and text is None:
            prompt = self.prompt_select.value
        if isinstance(prompt, str):
            prompt = next((p for p in self.prompts if p.id == prompt), None)
        if not body.strip():
            _status(self.status, "Write something before posting.", ok=False)
            return None
        if len(body) > self.max_chars:
            _status(self.status, f"Your post is {len(body)} characters long; the limit is {self.max_chars}.", ok=False)
            return None
        ok, result = self._cb.call(self.on_post, body, prompt)
        if not ok:
            self.status.value = ""
            return None
        if isinstance(result, Post):
            new = result
        else:
            self._local += 1
            new = post(f"local-{self.viewer.id}-{self._local}", self.viewer, body, prompt, created_at=self.now)
        self.posts.append(new)
        if text is None:
            self.input.value = ""
        _status(self.status, "Posted.", ok=True)
        self._render_posts()
        return new
