"""Who may be seen in a leader's view of others: the anonymity rule of multi-rater feedback.

A manager's ratings can be shown by name (there is only one manager), but peers and direct
reports are shown only pooled, and only once at least :data:`MIN_ANONYMOUS_RATERS` of that
role have submitted. Estimates a leader can see are computed from the visible roles only,
so that nothing shown changes because of one identifiable rater's answers.
"""

from __future__ import annotations

from collections.abc import Mapping

RATER_ROLES = ("self", "manager", "peer", "direct_report")
OTHER_ROLES = ("manager", "peer", "direct_report")
ANONYMOUS_ROLES = ("peer", "direct_report")
MIN_ANONYMOUS_RATERS = 3


def visible_roles(submitted: Mapping[str, int], min_anonymous: int = MIN_ANONYMOUS_RATERS) -> frozenset[str]:
    """The other-rater roles whose submitted sheets may enter what the leader sees.

    Parameters
    ----------
    submitted
        Number of submitted answer sheets per role (missing roles count as 0; ``self`` is ignored).
    min_anonymous
        The smallest number of peers (or of direct reports) whose pooled view may be shown.

    Returns
    -------
    frozenset of str
        ``manager`` when the manager has submitted; ``peer`` and ``direct_report`` when at least
        ``min_anonymous`` of them have. Never ``self``.
    """
    if min_anonymous < 1:
        raise ValueError(f"min_anonymous must be at least 1, got {min_anonymous}")
    unknown = set(submitted) - set(RATER_ROLES)
    if unknown:
        raise ValueError(f"unknown rater roles {sorted(unknown)}; expected some of {RATER_ROLES}")
    out = set()
    if submitted.get("manager", 0) >= 1:
        out.add("manager")
    for role in ANONYMOUS_ROLES:
        if submitted.get(role, 0) >= min_anonymous:
            out.add(role)
    return frozenset(out)
