"""The leader app: one leader's own competencies and learning activity.

Only the leader named by the page's signed link is ever read from the store.
"""

from __future__ import annotations

import html
import uuid

import ipywidgets as w
import pandas as pd

from ..content import Library
from ..services import people
from ..services.identity import InvalidLink
from ..skills.need import DEVELOPMENT_AREA, STRENGTH, Z90, assess
from . import _kernel  # noqa: F401 - before any plotly import: keeps page loads light
from .assessment_widgets import AssessmentForm
from .common import (
    LazyTabs,
    chart,
    engine,
    error_page,
    identify,
    page_header,
    page_library,
    preheated,
)
from .registry import LEADER, build_tabs, live_tabs


def role_expectations(library: Library, role_level: str | None) -> dict[str, float]:
    """The organization's expectations for a role level (empty without an organization profile)."""
    org = getattr(library, "organization", None)
    return dict(org.expectations.get(role_level, {})) if org and role_level else {}


def profile_table(estimates: pd.DataFrame, library: Library, role_level: str | None = None) -> pd.DataFrame:
    """Estimates with names, expectations, 90% intervals and the band of :mod:`workbench.skills.need`
    against the role level's expectation; weakest first."""
    cols = ["competency", "name", "mean", "sd", "expectation", "low", "high", "p_below", "need", "band"]
    if estimates.empty:
        return pd.DataFrame(columns=cols)
    df = estimates.copy()
    df["name"] = [library.competencies[c].name if c in library.competencies else c for c in df["competency"]]
    exp = role_expectations(library, role_level)
    df["expectation"] = [float(exp.get(c, 0.0)) for c in df["competency"]]
    df["low"], df["high"] = df["mean"] - Z90 * df["sd"], df["mean"] + Z90 * df["sd"]
    needs = assess(df["mean"].to_numpy(float), df["sd"].to_numpy(float), df["expectation"].to_numpy(float))
    df["p_below"], df["need"], df["band"] = needs.p_below, needs.score, needs.label
    return df.sort_values("mean")[cols].reset_index(drop=True)


_LEVEL_PLURAL = {"first-time": "first-time leaders", "experienced": "experienced leaders", "senior": "senior leaders"}


def profile_summary(table: pd.DataFrame, role_level: str | None = None) -> tuple[list[str], list[str], str]:
    """``(development areas, strengths, html)`` of the profile card: development areas largest
    need first, strengths highest first, both by :mod:`workbench.skills.need`."""
    dev = table[table.band == DEVELOPMENT_AREA].sort_values("need", ascending=False, kind="stable")["name"].tolist()
    strong = table[table.band == STRENGTH].sort_values("mean", ascending=False, kind="stable")["name"].tolist()
    who = _LEVEL_PLURAL.get(role_level or "", "leaders in your role")
    lowest = table.sort_values("need", ascending=False, kind="stable").head(2)["name"].tolist()
    highest = table.sort_values("need", kind="stable").head(2)["name"].tolist()
    dev_text = (", ".join(dev) if dev else
                f"none clearly below what is expected of {who}; closest to it are {', '.join(lowest)}")
    strong_text = (", ".join(strong) if strong else
                   f"none clearly above what is expected of {who}; furthest above are {', '.join(highest)}")
    card = ("<b>Strengths:</b> " + html.escape(strong_text) +
            "<br><b>Development areas:</b> " + html.escape(dev_text) +
            f"<div class='wb-muted'>A development area is a competency whose whole 90% interval lies below what is "
            f"expected of {html.escape(who)} (a strength: wholly above). The narrower a bar, the surer the "
            f"estimate.</div>")
    return dev, strong, card


def profile_figure(table: pd.DataFrame):
    import plotly.graph_objects as go

    fig = go.Figure(
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


SECTIONS = LEADER.titles
#: sections that other sections change: "My profile" is rebuilt on every opening, "Progress" only when
#: :func:`workbench.services.progress.progress_version` says the leader's rows have changed
LIVE_SECTIONS = live_tabs(LEADER)


def leader_app(token: str | None = None, library: Library | None = None, db=None) -> w.Widget:
    """The whole leader page; an error page when the link is missing, tampered or expired."""
    first, rest = leader_parts(token, library, db)
    return first if "wb-error-page" in first._dom_classes else w.VBox([first, rest()])


def leader_parts(token: str | None = None, library: Library | None = None, db=None):
    """The page in two steps, ``(header, build_rest)``: the app notebook shows the header in one
    cell and calls ``build_rest()`` in the next, so the leader sees their page start while the
    rest is built. For a bad link the first part is the error page and the rest is empty."""
    try:
        ident = identify(token, "leader")
    except InvalidLink as exc:
        return error_page(str(exc)), lambda: w.HTML("")
    eng = db or engine()
    try:
        leader = people.leader(eng, ident.subject)
    except people.NotFound:
        return error_page("this link names a leader who is not in the workbench"), lambda: w.HTML("")
    header = leader_header(leader)
    return header, lambda: LeaderPage(eng, library or page_library(), leader, header=header).tabs


#: the leader id the preheat reads with: no leader has it (ids are printable), so every read finds nothing
PREHEAT_SUBJECT = "\x00preheat"


def preheat() -> None:
    """Do, in a kernel waiting for a leader page, everything the page needs that depends on no leader.

    Run by :mod:`workbench.apps.server` once the app is imported and before any request: loads the
    content library and opens the store (both kept for the page: :func:`~workbench.apps.common.preheated`),
    then builds a page for a leader who does not exist (:data:`PREHEAT_SUBJECT`: every read runs its
    query, compiled and cached, and finds nothing) and a profile chart of made-up numbers (plotly's
    validators and default template, the chart's table), and closes every widget it made. The library's
    text index is not fitted here: with scikit-learn it would add about 90 MB to every waiting kernel
    for the Explore tab's first 1.5 s (the tab fits it on first use; the coach shares it). The kernel
    so holds no one's data and sends nothing to the page it will serve; the page's own reads and
    widgets are then most of what is left (``docs/deployment.md``, "Load").
    """
    from types import SimpleNamespace

    library = Library.load()
    eng = engine()
    preheated(library, eng)
    try:
        people.leader(eng, PREHEAT_SUBJECT)
    except people.NotFound:
        pass
    nobody = SimpleNamespace(id=PREHEAT_SUBJECT, name="", role="", role_level="experienced", cohort_id=None,
                             organization_id=PREHEAT_SUBJECT)
    leader_header(nobody)
    LeaderPage(eng, library, nobody)
    from ..services.calibration import active_calibration_note
    from .feedback import others_section

    active_calibration_note(eng, PREHEAT_SUBJECT)
    people.latest_estimates(eng, PREHEAT_SUBJECT, source="others")
    try:
        others_section(eng, library, PREHEAT_SUBJECT)
    except people.NotFound:  # (it reads the invitations, then refuses a leader it does not know)
        pass
    made_up = pd.DataFrame({"competency": list(library.competencies)[:3], "mean": [-0.5, 0.0, 0.5],
                            "sd": [0.3, 0.3, 0.3]})
    chart(profile_figure(profile_table(made_up, library, "experienced")))
    w.Widget.close_all()


def leader_header(leader) -> w.HTML:
    return page_header(leader.name, f"{leader.role or ''} · {leader.role_level} leader · cohort {leader.cohort_id or '-'}",
                       "wb-leader-header")


class LeaderPage:
    """One leader's page: a header and one tab per section, each built when first opened.

    Every read and write goes through ``self.leader.id``, the subject of the verified link; no
    section takes a leader id from anywhere else. "My profile" is built at once (it is what the
    page shows first); the other sections are built on first opening, and the sections in
    :data:`LIVE_SECTIONS` again on every opening so they reflect what was done elsewhere.
    """

    def __init__(self, eng, library: Library, leader, header: w.Widget | None = None):
        self.eng, self.library, self.leader = eng, library, leader
        self.header = header or leader_header(leader)
        from ..services.progress import progress_version

        self.pages = LazyTabs(build_tabs(self, LEADER, in_cohort=bool(leader.cohort_id)),
                              live=LIVE_SECTIONS, css_class="wb-leader-tabs",
                              versions={"Progress": lambda: progress_version(eng, leader.id)})
        self.tabs, self.boxes = self.pages.tabs, self.pages.boxes
        self.widget = w.VBox([self.header, self.tabs])
        self.widget.add_class("wb-leader-app")
        self.tabs.add_class("wb-app")

    @property
    def sections(self) -> tuple[str, ...]:
        return self.pages.sections

    @property
    def built(self) -> set[str]:
        return self.pages.built

    def open(self, name: str, select: bool = True) -> w.VBox:
        return self.pages.open(name, select)

    # ------------------------------------------------------------------ sections
    def profile(self) -> list[w.Widget]:
        level = self.leader.role_level
        table = profile_table(people.latest_estimates(self.eng, self.leader.id), self.library, level)
        if table.empty:
            focus = w.HTML("<div class='wb-card'>No assessment yet: open <b>Assessment</b> to take yours "
                           "(about 15 minutes; your answers are saved as you go).</div>")
            focus.add_class("wb-focus")
            from .feedback import invite_section

            return [focus, *invite_section(self.eng, self.leader.id)]
        _, _, card = profile_summary(table, level)
        from ..services.calibration import active_calibration_note

        note = html.escape(active_calibration_note(self.eng, self.leader.organization_id))
        focus = w.HTML(f"<div class='wb-card'>{card}<div class='wb-muted wb-calibration-note'>{note}</div></div>")
        focus.add_class("wb-focus")
        from .feedback import invite_section, others_section

        return [focus, chart(profile_figure(table)), *others_section(self.eng, self.library, self.leader.id),
                *invite_section(self.eng, self.leader.id)]

    def assessment(self) -> list[w.Widget]:
        from ..services import assessment as al

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
        from ..services import learning as ll
        from ..services.plans import current_plan
        from .learning_widgets import PlanPanel

        eng, lib, lid = self.eng, self.library, self.leader.id
        if not current_plan(eng, lib, lid):  # a first visit: start with a plan rather than an empty page
            ll.refresh_plan(eng, lib, lid)

        def after(action):
            def run(*args):
                action(*args)
                return current_plan(eng, lib, lid), ll.week_budget(eng, lid)
            return run

        panel = PlanPanel(
            current_plan(eng, lib, lid), lib, ll.week_budget(eng, lid),
            on_start=after(lambda mid: ll.start_module(eng, lib, lid, mid)),
            on_log_time=after(lambda mid, minutes: ll.log_time(eng, lib, lid, mid, minutes)),
            on_complete=after(lambda mid: ll.complete_module(eng, lib, lid, mid)),
            on_dismiss=after(lambda mid: ll.dismiss(eng, lid, mid)),
            on_refresh=after(lambda: ll.refresh_plan(eng, lib, lid)),
            on_open=self.read,
        )
        return [panel.widget]

    def moments(self) -> list[w.Widget]:
        from ..services.plans import pack_for
        from .learning_widgets import MomentsPanel

        panel = MomentsPanel(self.library, on_pick=lambda mid: pack_for(self.eng, self.library, self.leader.id, mid),
                             on_open=self.read, on_practice=self.practise)
        return [panel.widget]

    def read(self, module_id: str) -> None:
        """Open a module in Explore's reader (from the plan or a moment pack)."""
        self.open("Explore")
        self.explorer.open(module_id)

    def practise(self, scenario_id: str) -> None:
        """Switch to Practice with this scenario."""
        self.open("Practice")
        self.scenario_picker.value = scenario_id

    def progress(self) -> list[w.Widget]:
        from ..analytics import figures
        from ..services.progress import personal_progress

        p = personal_progress(self.eng, self.library, self.leader.id)
        t, mods, st = p.time, p.modules, p.streak
        last = (f"{st.last_activity:%d %b %Y} ({st.days_since_last_activity} days ago)"
                if st.last_activity is not None else "none yet")
        rate = "" if mods.started == 0 else f" ({mods.completion_rate:.0%} of those started)"
        low = p.under_invested[p.under_invested["under_invested"]] if not p.under_invested.empty else p.under_invested
        gaps = ("<br>".join(html.escape(r.reason) for r in low.itertuples())
                if len(low) else "None: your time goes where your development areas are.")
        summary = w.HTML(
            "<div class='wb-card'><b>My learning activity</b>"
            f"<div>Last 7 days: <b>{t.minutes_last_7_days:.0f}</b> of your {t.weekly_budget} weekly minutes · "
            f"last {p.days} days: {t.minutes_recent:.0f} minutes · all time: {t.minutes_total:.0f} minutes</div>"
            f"<div>Modules: {mods.started} started, <b>{mods.completed} completed</b>{rate}</div>"
            f"<div>Active weeks in a row: <b>{st.current_weeks}</b> (longest {st.longest_weeks}) · "
            f"last activity: {last}</div></div>"
            f"<div class='wb-card wb-progress-gaps'><b>Where you have spent too little time</b><div>{gaps}</div></div>"
        )
        summary.add_class("wb-activity")
        out = [summary, chart(figures.time_figure(p, widget=False)), chart(figures.investment_figure(p, widget=False)),
               chart(figures.trajectory_figure(p, widget=False))]
        if not p.checks.empty:
            out.append(chart(figures.checks_figure(p, widget=False)))
        return out

    def explore(self) -> list[w.Widget]:
        from ..recommend import explore_next
        from ..services import learning as ll
        from ..services.plans import leader_context
        from .learning_widgets import ExplorePanel

        eng, lib, lid = self.eng, self.library, self.leader.id
        self.explorer = ExplorePanel(
            lib, explore_next(leader_context(eng, lib, lid), lib),
            on_open=lambda mid: ll.start_module(eng, lib, lid, mid),
            on_check=lambda mid, answers: ll.record_check(eng, lib, lid, mid, answers),
        )
        return [self.explorer.widget]

    def practice(self) -> list[w.Widget]:
        from ..services import practice as practice_service
        from .practice_widgets import ChatPanel, ScenarioPlayer

        lib, lid = self.library, self.leader.id
        areas = practice_service.development_areas(self.eng, lib, lid)
        scenarios = sorted(lib.scenarios.values(), key=lambda sc: (not set(sc.competencies) & set(areas[:3]), sc.title))
        picker = w.Dropdown(options=[(sc.title, sc.id) for sc in scenarios], description="Scenario",
                            layout=w.Layout(width="520px", max_width="100%"))
        picker.add_class("wb-practice-pick")
        self.scenario_picker = picker
        stage = w.VBox([])
        names = {c: comp.name for c, comp in lib.competencies.items()}

        def show(_change=None):
            # only a first play is evidence (see workbench.practice.evidence): a replay shows no estimate change
            first = practice_service.earlier_runs(self.eng, lid, picker.value) == 0

            def finish(run, _debrief, _changes):
                practice_service.save_run(self.eng, lib, lid, run)
                player.posterior = None  # "Play again" is a replay

            player = ScenarioPlayer(lib.scenarios[picker.value], on_finish=finish, competency_names=names,
                                    posterior=practice_service.current_posterior(self.eng, lib, lid) if first else None,
                                    module_titles={m.id: m.title for m in lib.modules.values()})
            stage.children = (player.widget,)

        picker.observe(show, names="value")
        show()
        conversation = uuid.uuid4().hex
        chat = ChatPanel(practice_service.coach_session(self.eng, lib, lid),
                         on_turn=lambda t: practice_service.save_turns(self.eng, lid, conversation, [t]),
                         on_commitment=lambda c: practice_service.save_commitment(self.eng, lid, conversation, c))
        return [w.HTML("<h3>Practice a situation</h3><div class='wb-muted'>Scenarios closest to your development "
                       "areas come first. Your choices update your profile.</div>"), picker, stage, chat.widget]

    def cohort(self) -> list[w.Widget]:
        return [my_cohort(self.eng, self.library, self.leader)]

def my_cohort(eng, library: Library, leader) -> w.Widget:
    """My peer group, my cohort's upcoming sessions and its discussion (only my cohort's)."""
    from ..cohorts import Viewer
    from ..services.cohorts import (
        add_post,
        group_view,
        posts_for,
        sessions_for,
        set_timezone,
        timezone_for,
    )
    from .cohort_widgets import TIME_ZONES, MyGroupPanel

    viewer = Viewer(leader.id, leader.cohort_id)

    def on_post(text, prompt):
        add_post(eng, viewer, text, prompt.id if prompt is not None else None)

    # posts by cohort members carry their names (the cohort sees its members' names anyway)
    members = people.cohort_members(eng, leader.cohort_id) if leader.cohort_id else None
    authors = dict(zip(members.leader_id, members.name, strict=True)) if members is not None else {}
    holder = w.VBox([])

    def build(tz: str) -> None:
        panel = MyGroupPanel(group_view(eng, library, leader.id), sessions_for(eng, leader.cohort_id),
                             posts_for(eng, viewer), viewer, on_post=on_post, author_names=authors, tz=tz)
        holder.children = (panel.widget,)

    tz = timezone_for(eng, library, leader_id=leader.id)
    zone = w.Dropdown(options=TIME_ZONES if tz in TIME_ZONES else (tz, *TIME_ZONES), value=tz,
                      description="Time zone")
    zone.add_class("wb-my-timezone")

    def on_zone(change) -> None:
        set_timezone(eng, change["new"], leader_id=leader.id)
        build(change["new"])

    zone.observe(on_zone, names="value")
    build(tz)
    box = w.VBox([w.HTML("<h3>My cohort</h3><div class='wb-muted'>Sessions and posts are shown in your time "
                         "zone; change it here.</div>"), zone, holder])
    box.add_class("wb-my-cohort")
    return box
