"""The :class:`Library`: the whole authored content folder, loaded, checked and queryable."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from . import checks
from .problems import ContentError, Problem
from .schema import CoachingGuide, Competency, Item, Module, Moment, Organization, Scenario
from .types import read_library

PACKAGE_CONTENT = Path(__file__).resolve().parents[2] / "content"


def default_content_path() -> Path:
    """``$WORKBENCH_CONTENT``, else ``./content``, else the library shipped beside the package."""
    env = os.environ.get("WORKBENCH_CONTENT")
    if env:
        return Path(env)
    local = Path.cwd() / "content"
    if (local / "competencies.yaml").exists():
        return local
    return PACKAGE_CONTENT


@dataclass(frozen=True)
class Library:
    """Everything in ``content/``, cross-referenced: one field per content type
    (:data:`~workbench.content.types.CONTENT_TYPES`).

    Build one with :meth:`load` (raises :class:`ContentError` listing every problem) or
    :func:`check` (returns the problems and whatever could be loaded).
    """

    root: Path
    competencies: dict[str, Competency]
    items: dict[str, Item]
    modules: dict[str, Module]
    scenarios: dict[str, Scenario]
    moments: dict[str, Moment]
    organization: Organization | None
    coaching: dict[str, CoachingGuide]
    problems: tuple[Problem, ...] = field(default=(), compare=False)

    # ---------------------------------------------------------------- loading
    @classmethod
    def load(cls, root: str | os.PathLike[str] | None = None) -> Library:
        lib = _read(Path(root) if root is not None else default_content_path())
        if lib.problems:
            raise ContentError(lib.problems)
        return lib

    # ---------------------------------------------------------------- queries
    @property
    def competency_ids(self) -> tuple[str, ...]:
        return tuple(self.competencies)

    def items_for(self, competency: str | None = None) -> list[Item]:
        return [i for i in self.items.values() if competency is None or i.competency == competency]

    def find_modules(
        self,
        *,
        competency: str | None = None,
        level: str | None = None,
        format: str | None = None,
        moment: str | None = None,
        max_minutes: int | None = None,
    ) -> list[Module]:
        """Modules matching every filter given, in library order."""
        out = []
        for m in self.modules.values():
            if competency is not None and competency not in m.competencies:
                continue
            if level is not None and m.level != level:
                continue
            if format is not None and m.format != format:
                continue
            if moment is not None and moment not in m.moments:
                continue
            if max_minutes is not None and m.minutes > max_minutes:
                continue
            out.append(m)
        return out

    def scenarios_for(self, competency: str) -> list[Scenario]:
        return [s for s in self.scenarios.values() if competency in s.competencies]

    def moments_for(self, competency: str) -> list[Moment]:
        return [m for m in self.moments.values() if competency in m.competencies]

    @cached_property
    def items_frame(self):
        """Items as a pandas frame: ``item_id, dimension, reverse, scale``."""
        import pandas as pd

        return pd.DataFrame(
            [
                {"item_id": i.id, "dimension": i.competency, "reverse": i.reverse, "scale": i.scale}
                for i in self.items.values()
            ]
        )


def check(root: str | os.PathLike[str] | None = None, cues: bool = True) -> list[Problem]:
    """Every problem in the library at ``root``; an empty list when it is clean.

    With ``cues`` (the default) a library that loads cleanly is also measured for test-wise cues
    (:func:`cue_report`); loading alone (:meth:`Library.load`) does not judge them.
    """
    lib = _read(Path(root) if root is not None else default_content_path())
    if lib.problems or not cues:
        return list(lib.problems)
    return list(cue_report(lib).problems)


def cue_report(library: Library) -> checks.CueReport:
    """The test-wise cue figures of a library's knowledge checks and scenarios, and what fails
    (:func:`workbench.content.checks.measure_cues`)."""
    return checks.measure_cues(library.modules, library.scenarios)


def _read(root: Path) -> Library:
    """Every content type in :data:`~workbench.content.types.CONTENT_TYPES`, read from ``root``."""
    if not root.is_dir():
        raise ContentError([Problem(str(root), "", "content folder does not exist")])
    entries, problems = read_library(root)
    return Library(
        root=root, **entries,
        problems=tuple(sorted(set(problems), key=lambda p: (p.file, p.line or 0, p.field))),
    )
