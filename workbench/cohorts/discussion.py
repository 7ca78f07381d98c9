"""Cohort discussions: prompts from the library, posts and replies, visibility rules.

Visibility (pure functions, no store)
-------------------------------------
* A **leader** sees the posts of their own cohort that are not hidden. Exceptions, so that
  nobody's own words silently disappear: an author still sees their own hidden posts (with
  ``hidden`` set, so the app can mark them). A reply whose parent (or any ancestor) is hidden
  is not shown to other leaders either: hiding a post hides its thread.
* A **facilitator** sees every post of their own cohort, hidden ones included; the result
  marks them through ``Post.hidden`` and ``hidden_by``.
* Nobody sees another cohort's posts.

:func:`hide` is allowed only to the facilitator of the post's cohort; anyone else gets a
``PermissionError``. :func:`unhide` follows the same rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from ..content.library import Library

Role = Literal["leader", "facilitator"]


@dataclass(frozen=True)
class Prompt:
    """A discussion prompt tied to a module or a moment."""

    id: str
    text: str
    module_id: str | None = None
    moment_id: str | None = None


@dataclass(frozen=True)
class Viewer:
    """Who is looking: a leader or a facilitator of ``cohort_id``."""

    id: str
    cohort_id: str
    role: Role = "leader"

    def __post_init__(self) -> None:
        if self.role not in ("leader", "facilitator"):
            raise ValueError(f"role must be 'leader' or 'facilitator', got {self.role!r}")


@dataclass(frozen=True)
class Post:
    """A post or a reply (``parent_id`` set) in one cohort's discussion."""

    id: str
    cohort_id: str
    author_id: str
    body: str
    parent_id: str | None = None
    prompt_id: str | None = None
    hidden: bool = False
    hidden_by: str | None = None
    created_at: dt.datetime | None = None

    def __post_init__(self) -> None:
        if not self.body.strip():
            raise ValueError("a post needs a non-empty body")


def prompts_for(library: Library, module_ids: Iterable[str] | None = None,
                moment_ids: Iterable[str] | None = None) -> list[Prompt]:
    """Prompts from modules' ``apply_this_week`` and moments' names (all of them when ids are None)."""
    mods = list(library.modules) if module_ids is None else list(module_ids)
    moms = list(library.moments) if moment_ids is None else list(moment_ids)
    out = []
    for mid in mods:
        if mid not in library.modules:
            raise ValueError(f"unknown module {mid!r}")
        m = library.modules[mid]
        out.append(Prompt(f"module:{mid}", f"After '{m.title}': {m.apply_this_week.strip()} "
                          "Share how it went and one thing you would do differently.", module_id=mid))
    for oid in moms:
        if oid not in library.moments:
            raise ValueError(f"unknown moment {oid!r}")
        mo = library.moments[oid]
        out.append(Prompt(f"moment:{oid}", f"{mo.name}: when did you last face this, what did you do, "
                          "and what would you try next time?", moment_id=oid))
    return out


def post(id: str, author: Viewer, body: str, prompt: Prompt | None = None,
         created_at: dt.datetime | None = None) -> Post:
    """A new top-level post by ``author`` in their cohort."""
    return Post(id, author.cohort_id, author.id, body, prompt_id=prompt.id if prompt else None, created_at=created_at)


def reply(id: str, parent: Post, author: Viewer, body: str, created_at: dt.datetime | None = None) -> Post:
    """A reply to ``parent``; the author must belong to the parent's cohort."""
    if author.cohort_id != parent.cohort_id:
        raise PermissionError(f"{author.id!r} is not in cohort {parent.cohort_id!r}")
    return Post(id, parent.cohort_id, author.id, body, parent_id=parent.id, prompt_id=parent.prompt_id,
                created_at=created_at)


def _check_facilitator(p: Post, by: Viewer) -> None:
    if by.role != "facilitator" or by.cohort_id != p.cohort_id:
        raise PermissionError(f"only the facilitator of cohort {p.cohort_id!r} can change the visibility of {p.id!r}")


def hide(p: Post, by: Viewer) -> Post:
    """``p`` hidden by ``by``, who must be the facilitator of its cohort."""
    _check_facilitator(p, by)
    return replace(p, hidden=True, hidden_by=by.id)


def unhide(p: Post, by: Viewer) -> Post:
    """``p`` visible again; same permission as :func:`hide`."""
    _check_facilitator(p, by)
    return replace(p, hidden=False, hidden_by=None)


def visible_posts(posts: Sequence[Post], viewer: Viewer) -> list[Post]:
    """The posts ``viewer`` may see, in input order (see the module docstring)."""
    mine = [p for p in posts if p.cohort_id == viewer.cohort_id]
    if viewer.role == "facilitator":
        return mine
    by_id = {p.id: p for p in mine}

    def thread_hidden(p: Post) -> bool:
        seen = set()
        cur: Post | None = by_id.get(p.parent_id) if p.parent_id else None
        while cur is not None and cur.id not in seen:
            if cur.hidden:
                return True
            seen.add(cur.id)
            cur = by_id.get(cur.parent_id) if cur.parent_id else None
        return False

    return [p for p in mine if p.author_id == viewer.id or (not p.hidden and not thread_hidden(p))]
