"""The leader app: one leader's own competencies and learning activity.

Only the leader named by the page's signed link is ever read from the store.
"""

from __future__ import annotations

import html
import uuid

import ipywidgets as w
import pandas as pd

from ..content import Library
from ..identity import InvalidLink
from ..store import repo
from . import _kernel  # noqa: F401 - before any plotly import: keeps page loads light
from .assessment_widgets import AssessmentForm
from .common import STYLE, engine, error_page, identify

Z90 = 1.645


def profile_table(estimates: pd.DataFrame, library: Library) -> pd.DataFrame:
    """Estimates with names, 90% intervals and a plain-language band, weakest first."""
    if estimates.empty:
        return pd.DataFrame(columns=["competency", "name", "mean", "low", "high", "band"])
    df = estimates.copy()
    df["name"] = [library.competencies[c].name if c in library.competencies else c for c in df["competency"]]
    df["low"], df["high"] = df["mean"] - Z90 * df["sd"], df["mean"] + Z90 * df["sd"]
    df["band"] = "in range"
    df.loc[df["high"] < 0, "band"] = "development area"
    df.loc[df["low"] > 0, "band"] = "strength"
    return df.sort_values("mean")[["competency", "name", "mean", "sd", "low", "high", "band"]].reset_index(drop=True)


def activity_summary(events: pd.DataFrame, library: Library) -> pd.DataFrame:
    """Minutes and completed modules per competency."""
    names = {c: comp.name for c, comp in library.competencies.items()}
    base = pd.DataFrame({"competency": list(names), "name": list(names.values())})
    if events.empty:
        return base.assign(minutes=0.0, completed=0)
    timed = events.dropna(subset=["competency"])
    minutes = timed.groupby("competency")["duration_seconds"].sum().div(60)
    done = timed[(timed.verb == "completed") & (timed.object_type == "module")].groupby("competency").size()
    out = base.assign(minutes=base.competency.map(minutes).fillna(0.0).round(1),
                      completed=base.competency.map(done).fillna(0).astype(int))
    return out


def profile_figure(table: pd.DataFrame):
    import plotly.graph_objects as go

    fig = go.FigureWidget(
        data=[go.Scatter(
            x=table["mean"], y=table["name"], mode="markers",
            error_x=dict(type="data", symmetric=False, array=table["high"] - table["mean"],
                         arrayminus=table["mean"] - table["low"]),
            marker=dict(size=11), hovertemplate="%{y}: %{x:.2f}<extra></extra>",
        )],
        layout=go.Layout(height=340, margin=dict(l=150, r=20, t=30, b=40), title="My competencies (90% intervals)",
                         xaxis=dict(title="skill (0 = organization average)", zeroline=True, range=[-3, 3])),
    )
    return fig


SECTIONS = ("My profile", "Assessment", "My plan", "Moments", "Practice", "Progress", "Explore", "My cohort")
#: sections rebuilt every time they are opened, because other sections change what they show
LIVE_SECTIONS = {"My profile", "Progress"}


def leader_app(token: str | None = None, library: Library | None = None, db=None) -> w.Widget:
    """The whole leader page; an error page when the link is missing, tampered or expired."""
    try:
        ident = identify(token, "leader")
    except InvalidLink as exc:
        return error_page(str(exc))
    eng = db or engine()
    try:
        leader = repo.get_leader(eng, ident.subject)
    except repo.NotFound:
        return error_page("this link names a leader who is not in the workbench")
    return LeaderPage(eng, library or Library.load(), leader).widget


class LeaderPage:
    """One leader's page: a header and one tab per section, each built when first opened.

    Every read and write goes through ``self.leader.id``, the subject of the verified link; no
    section takes a leader id from anywhere else. "My profile" is built at once (it is what the
    page shows first); the other sections are built on first opening, and the sections in
    :data:`LIVE_SECTIONS` again on every opening so they reflect what was done elsewhere.
    """

    def __init__(self, eng, library: Library, leader):
        self.eng, self.library, self.leader = eng, library, leader
        self.header = w.HTML(
            f"{STYLE}<div class='wb-page'><h2>{html.escape(leader.name)}</h2>"
            f"<div class='wb-muted'>{html.escape(leader.role or '')} · {leader.role_level} leader · "
            f"cohort {html.escape(leader.cohort_id or '-')}</div></div>"
        )
        self.header.add_class("wb-leader-header")
        names = [s for s in SECTIONS if s != "My cohort" or leader.cohort_id]
        self.boxes = {name: w.VBox([]) for name in names}
        for name, box in self.boxes.items():
            box.add_class("wb-section-" + name.lower().replace(" ", "-"))
        self.built: set[str] = set()
        self.tabs = w.Tab(children=list(self.boxes.values()))
        self.tabs.titles = tuple(names)
        self.tabs.add_class("wb-leader-tabs")
        self.tabs.observe(self._opened, names="selected_index")
        self.open(names[0])
        self.widget = w.VBox([self.header, self.tabs])
        self.widget.add_class("wb-leader-app")

    @property
    def sections(self) -> tuple[str, ...]:
        return tuple(self.boxes)

    def _opened(self, change) -> None:
        if change["new"] is not None:
            self.open(self.sections[change["new"]], select=False)

    def open(self, name: str, select: bool = True) -> w.VBox:
        """Build (or rebuild) a section and, by default, switch the tabs to it."""
        box = self.boxes[name]
        if name not in self.built or name in LIVE_SECTIONS:
            try:
                box.children = tuple(self._builders()[name]())
            except Exception as exc:  # noqa: BLE001 - one broken section must not take the page down
                msg = w.HTML(f"<div class='wb-error'>This section could not be shown: {html.escape(str(exc))}</div>")
                msg.add_class("wb-section-error")
                box.children = (msg,)
            self.built.add(name)
        if select:
            self.tabs.selected_index = self.sections.index(name)
        return box

    def _builders(self):
        return {"My profile": self.profile, "Assessment": self.assessment, "My plan": self.plan,
                "Moments": self.moments, "Practice": self.practice, "Progress": self.progress,
                "Explore": self.explore, "My cohort": self.cohort}

    # ------------------------------------------------------------------ sections
    def profile(self) -> list[w.Widget]:
        table = profile_table(repo.latest_estimates(self.eng, self.leader.id), self.library)
        if table.empty:
            focus = w.HTML("<div class='wb-card'>No assessment yet: open <b>Assessment</b> to take yours "
                           "(about 15 minutes; your answers are saved as you go).</div>")
            focus.add_class("wb-focus")
            return [focus]
        dev = table[table.band == "development area"]["name"].tolist() or table.head(2)["name"].tolist()
        strong = table[table.band == "strength"]["name"].tolist() or table.tail(2)["name"].tolist()
        focus = w.HTML(
            "<div class='wb-card'><b>Strengths:</b> " + html.escape(", ".join(reversed(strong))) +
            "<br><b>Development areas:</b> " + html.escape(", ".join(dev)) +
            "<div class='wb-muted'>Bars are 90% intervals: the narrower, the surer. "
            "0 is the organization's average.</div></div>"
        )
        focus.add_class("wb-focus")
        return [focus, profile_figure(table)]

    def assessment(self) -> list[w.Widget]:
        from .. import assessment_log as al

        status = al.assessment_status(self.eng, self.leader.id)
        stage = w.VBox([])
        stage.add_class("wb-assessment-stage")

        def show_form(_button=None) -> None:
            state = al.start(self.eng, self.library, self.leader.id)
            form = AssessmentForm.from_state(
                state,
                on_answer=lambda item, value: al.record_answer(self.eng, state, item, value, library=self.library),
                on_submit=lambda: al.submit(self.eng, self.library, state.session_id),
                intro="Answer for how you usually act at work. Each answer is saved as soon as you give it: "
                      "you can close the page and carry on later.",
            )
            stage.children = (form.widget,)

        if status.state == "submitted":
            when = status.submitted.submitted_at
            done = w.HTML(f"<div class='wb-card'>You completed your self-assessment on {when:%d %b %Y}. "
                          "Your profile shows the result. You can take it again at any time; your profile "
                          "then uses your newest answers.</div>")
            done.add_class("wb-assessment-summary")
            again = w.Button(description="Take it again")
            again.add_class("wb-assessment-retake")
            again.on_click(show_form)
            stage.children = (done, again)
        else:
            show_form()
        return [stage]

    def plan(self) -> list[w.Widget]:
        return [w.HTML("<div class='wb-card'>Your plan is being prepared.</div>")]

    def moments(self) -> list[w.Widget]:
        return [w.HTML("<div class='wb-card'>Moments are being prepared.</div>")]

    def progress(self) -> list[w.Widget]:
        events = repo.activity_frame(self.eng, self.leader.id)
        summary = activity_summary(events, self.library)
        rows = "".join(
            f"<tr><td>{html.escape(r.name)}</td><td style='text-align:right'>{r.minutes:.0f}</td>"
            f"<td style='text-align:right'>{r.completed}</td></tr>" for r in summary.itertuples()
        )
        last = events["timestamp"].max() if not events.empty else None
        head = (f"<div class='wb-muted'>Last activity: {last:%d %b %Y} · {len(events)} events</div>"
                if last is not None else "<div class='wb-muted'>No activity yet</div>")
        activity = w.HTML(
            f"<div class='wb-card'><b>My learning activity</b>{head}"
            "<table><tr><th style='text-align:left'>Competency</th><th>Minutes</th><th>Modules done</th></tr>"
            f"{rows}</table></div>"
        )
        activity.add_class("wb-activity")
        return [activity]

    def explore(self) -> list[w.Widget]:
        return [w.HTML("<div class='wb-card'>The library is being prepared.</div>")]

    def practice(self) -> list[w.Widget]:
        from .. import practice_log
        from .practice_widgets import ChatPanel, ScenarioPlayer

        lib, lid = self.library, self.leader.id
        areas = practice_log.development_areas(self.eng, lib, lid)
        scenarios = sorted(lib.scenarios.values(), key=lambda sc: (not set(sc.competencies) & set(areas[:3]), sc.title))
        picker = w.Dropdown(options=[(sc.title, sc.id) for sc in scenarios], description="Scenario",
                            layout=w.Layout(width="520px"))
        picker.add_class("wb-practice-pick")
        stage = w.VBox([])
        names = {c: comp.name for c, comp in lib.competencies.items()}

        def finish(run, _debrief, _changes):
            practice_log.save_run(self.eng, lib, lid, run)

        def show(_change=None):
            player = ScenarioPlayer(lib.scenarios[picker.value], on_finish=finish, competency_names=names,
                                    posterior=practice_log.current_posterior(self.eng, lib, lid))
            stage.children = (player.widget,)

        picker.observe(show, names="value")
        show()
        conversation = uuid.uuid4().hex
        chat = ChatPanel(practice_log.coach_session(self.eng, lib, lid),
                         on_turn=lambda t: practice_log.save_turns(self.eng, lid, conversation, [t]),
                         on_commitment=lambda c: practice_log.save_commitment(self.eng, lid, conversation, c))
        return [w.HTML("<h3>Practice a situation</h3><div class='wb-muted'>Scenarios closest to your development "
                       "areas come first. Your choices update your profile.</div>"), picker, stage, chat.widget]

    def cohort(self) -> list[w.Widget]:
        return [my_cohort(self.eng, self.library, self.leader)]

def my_cohort(eng, library: Library, leader) -> w.Widget:
    """My peer group, my cohort's upcoming sessions and its discussion (only my cohort's)."""
    from ..cohort_log import add_post, group_view, posts_for, sessions_for
    from ..cohorts import Viewer
    from .cohort_widgets import MyGroupPanel

    viewer = Viewer(leader.id, leader.cohort_id)

    def on_post(text, prompt):
        add_post(eng, viewer, text, prompt.id if prompt is not None else None)

    panel = MyGroupPanel(group_view(eng, library, leader.id), sessions_for(eng, leader.cohort_id),
                         posts_for(eng, viewer), viewer, on_post=on_post)
    box = w.VBox([w.HTML("<h3>My cohort</h3>"), panel.widget])
    box.add_class("wb-my-cohort")
    return box
