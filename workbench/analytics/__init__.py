"""Personal and cohort analytics over plain frames, with plotly figures on top.

Pure pandas/numpy: nothing here reads the store (``workbench.services.progress`` does, and calls these).

| module | what |
| --- | --- |
| ``frames`` | input frames made uniform (UTC, minutes, nothing after ``now``), module catalog, ISO weeks |
| ``bands`` | 90% intervals, strength / in range / development area, ``P(skill < expectation)`` |
| ``privacy`` | the small-group rule: aggregates only over at least :data:`MIN_GROUP` leaders |
| ``personal`` | :func:`analyze_leader` -> :class:`PersonalProgress`: time vs plan, modules, under-invested areas, trajectory, streaks, knowledge checks |
| ``cohort`` | :func:`analyze_cohort` -> :class:`CohortOverview`: distribution, heat map, engagement, attention flags, organization comparison |
| ``figures`` | one plotly figure per view (``FigureWidget``, or ``go.Figure`` with ``widget=False``) |

Definitions and thresholds: ``docs/analytics.md``.
"""

from .bands import Z90, band, interval90, probability_below
from .cohort import (
    AttentionSettings,
    CohortOverview,
    analyze_cohort,
    attention_flags,
    development_heatmap,
    engagement_comparison,
    engagement_over_time,
    organization_comparison,
    roster,
    skill_distribution,
)
from .frames import competency_names, module_catalog
from .personal import (
    ModuleProgress,
    PersonalProgress,
    Streak,
    TimeSpent,
    analyze_leader,
    knowledge_checks,
    latest_from_history,
    module_progress,
    skill_trajectory,
    streaks,
    time_spent,
    under_invested,
)
from .privacy import MIN_GROUP, group_mean, is_suppressed, suppress

__all__ = [
    "MIN_GROUP",
    "Z90",
    "AttentionSettings",
    "CohortOverview",
    "ModuleProgress",
    "PersonalProgress",
    "Streak",
    "TimeSpent",
    "analyze_cohort",
    "analyze_leader",
    "attention_flags",
    "band",
    "competency_names",
    "development_heatmap",
    "engagement_comparison",
    "engagement_over_time",
    "group_mean",
    "interval90",
    "is_suppressed",
    "knowledge_checks",
    "latest_from_history",
    "module_catalog",
    "module_progress",
    "organization_comparison",
    "probability_below",
    "roster",
    "skill_distribution",
    "skill_trajectory",
    "streaks",
    "suppress",
    "time_spent",
    "under_invested",
]
