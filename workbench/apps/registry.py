"""The table of apps: which notebook serves which page, who its signed link is for, and its tabs.

Read by the gate (which notebook a link of each kind may open), the command line (``workbench
link``, ``workbench serve``), the rater invitations (the rater form's notebook) and the pages
themselves (their tabs, in order, each naming the page method that builds it). Adding a tab is one
row here and one method on the page. Plain data: importing this module loads nothing else, so the
gate can read it before any kernel starts.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tab:
    """One tab of a page: its title and the name of the page method that builds its widgets.

    ``live``: rebuilt every time it is opened (it shows what other tabs change).
    ``needs_cohort``: shown only to a leader who belongs to a cohort.
    """

    title: str
    builder: str
    live: bool = False
    needs_cohort: bool = False


@dataclass(frozen=True)
class App:
    """A Voilà app: ``notebook`` in ``notebooks/apps/`` opens only with a link of ``token_kind``."""

    name: str
    notebook: str
    token_kind: str
    tabs: tuple[Tab, ...] = ()

    @property
    def titles(self) -> tuple[str, ...]:
        return tuple(t.title for t in self.tabs)


LEADER = App("leader", "leader.ipynb", "leader", (
    Tab("My profile", "profile", live=True),
    Tab("Assessment", "assessment"),
    Tab("My plan", "plan"),
    Tab("Moments", "moments"),
    Tab("Practice", "practice"),
    Tab("Progress", "progress", live=True),
    Tab("Explore", "explore"),
    Tab("My cohort", "cohort", needs_cohort=True),
))
COHORT = App("cohort", "cohort.ipynb", "facilitator", (
    Tab("Overview", "summary"),
    Tab("Roster and skills", "roster"),
    Tab("Rater invitations", "invitations"),
    Tab("Groups and sessions", "planning"),
))
RATER = App("rater", "rater.ipynb", "rater")

APPS: tuple[App, ...] = (LEADER, COHORT, RATER)


def app_for_kind(kind: str) -> App:
    """The app a signed link of this kind opens (``leader``, ``facilitator``, ``rater``)."""
    for a in APPS:
        if a.token_kind == kind:
            return a
    raise KeyError(f"no app opens with a {kind!r} link; expected one of {[a.token_kind for a in APPS]}")


def app_for_notebook(notebook: str) -> App | None:
    """The app served by this notebook file name, or None when it is not an app."""
    return next((a for a in APPS if a.notebook == notebook), None)


def build_tabs(page, app: App, in_cohort: bool = True) -> dict:
    """``{title: builder}`` for :class:`~workbench.apps.common.LazyTabs`, from the page's methods."""
    return {t.title: getattr(page, t.builder) for t in app.tabs if in_cohort or not t.needs_cohort}


def live_tabs(app: App) -> frozenset[str]:
    return frozenset(t.title for t in app.tabs if t.live)
