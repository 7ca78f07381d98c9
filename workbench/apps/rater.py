"""The rater form: a manager, peer or direct report answers about one leader, through a signed link.

The page shows who the form is about and the questions worded for the rater's role, saves each
answer as it is given, and closes once submitted. It shows nothing of the leader's results.
"""

from __future__ import annotations

import html

import ipywidgets as w

from ..content import Library
from ..services.identity import InvalidLink
from . import _kernel  # noqa: F401 - before any plotly import: keeps page loads light
from .assessment_widgets import AssessmentForm
from .common import engine, error_page, identify, page_header

ROLE_NAMES = {"manager": "manager", "peer": "peer", "direct_report": "team member"}


def privacy_note(role: str, leader_name: str) -> str:
    """What happens to this rater's answers, in plain words."""
    first = leader_name.split()[0]
    if role == "manager":
        return (f"Your answers become part of the view of others that {first} sees next to their own. As "
                f"{first}'s manager you are the only one in your role, so your answers are not anonymous.")
    return (f"Your answers are pooled with those of the other {ROLE_NAMES[role]}s who rate {first}. "
            f"{first} sees only the combined view, and only once at least three people in your role "
            "have answered, so no answer can be traced to you.")


def answer_rule(n_questions: int, n_areas: int) -> str:
    """How the form may be answered and when it may be submitted, in plain words."""
    from ..skills.forms import MIN_RATER_ANSWERS_PER_COMPETENCY as k

    return (f"There are {n_questions} questions about {n_areas} areas of leadership. Answer what you have seen "
            "yourself; when you have not seen it or cannot say, choose \"Not observed / can't say\" rather "
            f"than guessing. You can submit once you have answered at least {k} questions about each area; "
            "every further answer sharpens the picture.")


def rater_app(token: str | None = None, library: Library | None = None, db=None) -> w.Widget:
    """The rater's page; an error page for a bad link or a closed (expired, withdrawn, submitted) invitation."""
    from ..services import assessment as al
    from ..services.invitations import open_for_rater

    try:
        ident = identify(token, "rater")
        eng = db or engine()
        assignment = open_for_rater(eng, ident.subject)
    except InvalidLink as exc:
        return error_page(str(exc))
    library = library or Library.load()
    state = al.start(eng, library, assignment.leader_id, rater_role=assignment.role,
                     rater_id=assignment.invitation_id)
    header = page_header(
        f"Feedback for {assignment.leader_name}",
        f"You were asked as their {ROLE_NAMES[assignment.role]}"
        + (f" · open until {assignment.expires_at:%d %b %Y}" if assignment.expires_at else ""),
        "wb-rater-header",
        extra=f"<div class='wb-card'>{html.escape(privacy_note(assignment.role, assignment.leader_name))} "
              "Each answer is saved as soon as you give it: you can close this page and come back "
              "with the same link.</div>"
              f"<div class='wb-card wb-rater-rule'>{html.escape(answer_rule(len(state.questions), len({q.competency for q in state.questions})))}</div>",
    )
    form = AssessmentForm.from_state(
        state,
        on_answer=lambda item, value: al.record_answer(eng, state, item, value, library=library),
        on_submit=lambda: al.submit(eng, library, state.session_id),
        done_message="Thank you: your answers are in. This form is now closed.",
    )
    page = w.VBox([header, form.widget])
    page.add_class("wb-rater-app")
    page.add_class("wb-app")
    return page
