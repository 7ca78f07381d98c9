"""Who may be seen in a leader's view of others: the anonymity rule of multi-rater feedback.

A manager's ratings can be shown by name (there is only one manager), but peers and direct
reports are shown only pooled, and only once at least :data:`MIN_ANONYMOUS_RATERS` of that
role have submitted. Estimates a leader can see are computed from the visible roles only.

Visibility alone is not enough: once three peers are in, a fourth peer's sheet would move the
others' view on its own, and a leader comparing the view before and after could read that one
person's answers. :func:`included_sheets` therefore takes a role's sheets in blocks of
:data:`MIN_ANONYMOUS_RATERS`, in submission order (3, then 6, ...): every change the leader can
see pools at least three new people of that role.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

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


def included_sheets(sheets: Sequence[tuple[str, str]], min_anonymous: int = MIN_ANONYMOUS_RATERS) -> list[str]:
    """The other-rater sheets that may enter what the leader sees, in the order given.

    Parameters
    ----------
    sheets
        ``(sheet_id, role)`` of the submitted sheets about one leader, oldest submission first
        (``self`` sheets are ignored).
    min_anonymous
        Block size for peers and direct reports (see the module docstring).

    Returns
    -------
    list of str
        Every manager sheet, and for peers and for direct reports the first
        ``min_anonymous * (n // min_anonymous)`` of their ``n`` sheets.
    """
    counts: dict[str, int] = {}
    for _, role in sheets:
        if role != "self":
            counts[role] = counts.get(role, 0) + 1
    visible = visible_roles(counts, min_anonymous)
    quota = {role: (n if role == "manager" else min_anonymous * (n // min_anonymous)) for role, n in counts.items()}
    taken: dict[str, int] = {}
    out = []
    for sheet_id, role in sheets:
        if role in visible and taken.get(role, 0) < quota[role]:
            taken[role] = taken.get(role, 0) + 1
            out.append(sheet_id)
    return out
