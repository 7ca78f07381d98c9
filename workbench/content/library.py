"""The :class:`Library`: the whole authored content folder, loaded, checked and queryable."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from . import checks
from .loader import parse, read_markdown, read_yaml
from .problems import ContentError, Problem
from .schema import (
    CoachingGuide,
    Competency,
    CompetencyFramework,
    Item,
    ItemBankFile,
    Module,
    Moment,
    MomentsFile,
    Organization,
    Scenario,
)

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
    """Everything in ``content/``, cross-referenced.

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
    def item_table(self):
        """Items as a pandas frame: ``item_id, dimension, reverse, scale``."""
        import pandas as pd

        return pd.DataFrame(
            [
                {"item_id": i.id, "dimension": i.competency, "reverse": i.reverse, "scale": i.scale}
                for i in self.items.values()
            ]
        )


def check(root: str | os.PathLike[str] | None = None) -> list[Problem]:
    """Every problem in the library at ``root``; an empty list when it is clean."""
    return list(_read(Path(root) if root is not None else default_content_path()).problems)


def _files(folder: Path, suffixes: Iterable[str]) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in tuple(suffixes))


def _read(root: Path) -> Library:
    problems: list[Problem] = []
    if not root.is_dir():
        raise ContentError([Problem(str(root), "", "content folder does not exist")])

    # competencies -------------------------------------------------------
    competencies: dict[str, Competency] = {}
    cpath = root / "competencies.yaml"
    if not cpath.exists():
        problems.append(Problem("competencies.yaml", "", "file is missing"))
    else:
        data, ps = read_yaml(cpath, root)
        problems += ps
        if data is not None:
            fw, ps = parse(CompetencyFramework, data, "competencies.yaml")
            problems += ps
            for i, c in enumerate(fw.competencies if fw else ()):
                if c.id in competencies:
                    problems.append(Problem("competencies.yaml", f"competencies.{i}.id", f"duplicate competency id {c.id!r}"))
                competencies[c.id] = c
    known = set(competencies)

    # item bank ------------------------------------------------------------
    items: dict[str, Item] = {}
    item_files: dict[str, str] = {}
    for path in _files(root / "items", (".yaml", ".yml")):
        file = path.relative_to(root).as_posix()
        data, ps = read_yaml(path, root)
        problems += ps
        bank, ps = parse(ItemBankFile, data, file) if data is not None else (None, [])
        problems += ps
        if bank is None:
            continue
        if bank.competency not in known:
            problems.append(Problem(file, "competency", f"unknown competency id {bank.competency!r}"))
        for i, entry in enumerate(bank.items):
            if entry.id in items:
                problems.append(Problem(file, f"items.{i}.id", f"duplicate item id {entry.id!r} (also in {item_files[entry.id]})"))
                continue
            items[entry.id] = Item(
                id=entry.id, competency=bank.competency, scale=bank.scale,
                reverse=entry.reverse, behavior=entry.behavior, wording=entry.wording, raters=entry.raters,
            )
            item_files[entry.id] = file

    # modules ----------------------------------------------------------------
    modules: dict[str, Module] = {}
    module_files: dict[str, str] = {}
    for path in _files(root / "modules", (".md",)):
        file = path.relative_to(root).as_posix()
        meta, body, ps = read_markdown(path, root)
        problems += ps
        if meta is None:
            continue
        module, ps = parse(Module, {**meta, "body": body}, file)
        problems += ps
        if module is None:
            continue
        if module.id != path.stem:
            problems.append(Problem(file, "id", f"id {module.id!r} does not match the file name {path.stem!r}"))
        if module.id in modules:
            problems.append(Problem(file, "id", f"duplicate module id {module.id!r} (also in {module_files[module.id]})"))
            continue
        problems += checks.check_module_minutes(module.minutes, file)
        problems += checks.check_ids(module.competencies, known, file, "competencies", "competency")
        modules[module.id] = module
        module_files[module.id] = file

    # scenarios --------------------------------------------------------------
    scenarios: dict[str, Scenario] = {}
    scenario_files: dict[str, str] = {}
    for path in _files(root / "scenarios", (".yaml", ".yml")):
        file = path.relative_to(root).as_posix()
        data, ps = read_yaml(path, root)
        problems += ps
        sc, ps = parse(Scenario, data, file) if data is not None else (None, [])
        problems += ps
        if sc is None:
            continue
        if sc.id in scenarios:
            problems.append(Problem(file, "id", f"duplicate scenario id {sc.id!r} (also in {scenario_files[sc.id]})"))
            continue
        problems += checks.check_ids(sc.competencies, known, file, "competencies", "competency")
        problems += checks.check_scenario_graph(sc, file, known)
        scenarios[sc.id] = sc
        scenario_files[sc.id] = file

    # moments ----------------------------------------------------------------
    moments: dict[str, Moment] = {}
    mpath = root / "moments.yaml"
    if mpath.exists():
        data, ps = read_yaml(mpath, root)
        problems += ps
        mf, ps = parse(MomentsFile, data, "moments.yaml") if data is not None else (None, [])
        problems += ps
        for i, m in enumerate(mf.moments if mf else ()):
            base = f"moments.{i}"
            if m.id in moments:
                problems.append(Problem("moments.yaml", f"{base}.id", f"duplicate moment id {m.id!r}"))
                continue
            problems += checks.check_ids(m.competencies, known, "moments.yaml", f"{base}.competencies", "competency")
            problems += checks.check_ids(m.modules, modules, "moments.yaml", f"{base}.modules", "module")
            problems += checks.check_ids(m.scenarios, scenarios, "moments.yaml", f"{base}.scenarios", "scenario")
            moments[m.id] = m

    # links from modules and scenarios to others ---------------------------------
    for mid, module in modules.items():
        file = module_files[mid]
        problems += checks.check_ids(module.prerequisites, modules, file, "prerequisites", "module")
        problems += checks.check_ids(module.moments, moments, file, "moments", "moment")
    cycle = checks.find_cycle({m.id: m.prerequisites for m in modules.values()})
    if cycle:
        problems.append(Problem(module_files[cycle[0]], "prerequisites", "prerequisite cycle: " + " -> ".join(cycle)))
    for sid, sc in scenarios.items():
        problems += checks.check_ids(sc.moments, moments, scenario_files[sid], "moments", "moment")

    # organization -----------------------------------------------------------
    organization = None
    opath = root / "organization.yaml"
    if opath.exists():
        data, ps = read_yaml(opath, root)
        problems += ps
        organization, ps = parse(Organization, data, "organization.yaml") if data is not None else (None, [])
        problems += ps
        if organization is not None:
            for i, v in enumerate(organization.values):
                problems += checks.check_ids(v.competencies, known, "organization.yaml", f"values.{i}.competencies", "competency")
            problems += checks.check_ids([p.competency for p in organization.priorities], known,
                                         "organization.yaml", "priorities", "competency")
            for level, exp in organization.expectations.items():
                problems += checks.check_ids(list(exp), known, "organization.yaml", f"expectations.{level}", "competency")

    # coaching knowledge ---------------------------------------------------------
    coaching: dict[str, CoachingGuide] = {}
    for path in _files(root / "coaching", (".yaml", ".yml")):
        file = path.relative_to(root).as_posix()
        data, ps = read_yaml(path, root)
        problems += ps
        guide, ps = parse(CoachingGuide, data, file) if data is not None else (None, [])
        problems += ps
        if guide is None:
            continue
        if guide.competency not in known:
            problems.append(Problem(file, "competency", f"unknown competency id {guide.competency!r}"))
        for i, tip in enumerate(guide.tips):
            problems += checks.check_ids(tip.modules, modules, file, f"tips.{i}.modules", "module")
        coaching[guide.competency] = guide

    return Library(
        root=root, competencies=competencies, items=items, modules=modules, scenarios=scenarios,
        moments=moments, organization=organization, coaching=coaching,
        problems=tuple(sorted(set(problems), key=lambda p: (p.file, p.line or 0, p.field))),
    )
