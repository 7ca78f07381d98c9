"""Cohorts: learning together in peer groups.

Pure domain code over plain data and the content library (never the store or the apps):

* :mod:`.groups` - split a cohort into peer groups that cover each member's development areas;
* :mod:`.sessions` - virtual classroom schedules, agendas, iCalendar export, attendance records;
* :mod:`.peer` - complementary practice pairs and peer ratings as skill evidence;
* :mod:`.discussion` - prompts, posts and replies, and who may see or hide them.
"""

from .discussion import Post, Prompt, Viewer, hide, post, prompts_for, reply, unhide, visible_posts
from .groups import (
    CoachingPair,
    Grouping,
    Member,
    Thresholds,
    Weights,
    development_areas,
    form_groups,
    random_grouping_coverage,
    synthetic_cohort,
)
from .peer import (
    PEER_RATING_ITEM,
    Pairing,
    PeerFeedback,
    PeerRatingItem,
    PeerUpdate,
    PracticePair,
    apply_peer_feedback,
    feedback_form,
    pair_for_practice,
)
from .sessions import (
    AgendaItem,
    ClassroomSession,
    attendance_records,
    build_agenda,
    schedule_sessions,
    session_dates,
    to_ics,
)

__all__ = [
    "PEER_RATING_ITEM", "AgendaItem", "ClassroomSession", "CoachingPair", "Grouping", "Member", "Pairing",
    "PeerFeedback", "PeerRatingItem", "PeerUpdate", "Post", "PracticePair", "Prompt", "Thresholds", "Viewer",
    "Weights", "apply_peer_feedback", "attendance_records", "build_agenda", "development_areas", "feedback_form",
    "form_groups", "hide", "pair_for_practice", "post", "prompts_for", "random_grouping_coverage", "reply",
    "schedule_sessions", "session_dates", "synthetic_cohort", "to_ics", "unhide", "visible_posts",
]
