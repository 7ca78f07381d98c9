"""The one table of content types, read by the loader, the cross-reference checks and the search.

Each :class:`ContentType` says where one kind of authored content lives (a file or a folder of
files), how one file is read and parsed (``load``), what it must agree with once everything is
loaded (``link``) and which search documents it gives (``docs``). :func:`workbench.content.library`
walks :data:`CONTENT_TYPES` in order to build a :class:`~workbench.content.library.Library`, and
:func:`workbench.content.search.library_docs` walks it to index the library. Adding a kind of
content means a pydantic model in :mod:`~workbench.content.schema`, a field on ``Library`` and one
row here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import checks
from .loader import parse, read_markdown, read_yaml
from .problems import Problem
from .schema import (
    CoachingGuide,
    CompetencyFramework,
    Item,
    ItemBankFile,
    Module,
    MomentsFile,
    Organization,
    Scenario,
)

if TYPE_CHECKING:
    from .library import Library

_TAGS = re.compile(r"[#*_`>|]+")


@dataclass(frozen=True)
class Doc:
    """One searchable piece of the library (see :mod:`workbench.content.search`)."""

    kind: str
    id: str  # module / moment / scenario id, or "<competency>/tip/<n>", "<competency>/framework/<n>"
    title: str
    text: str
    competencies: tuple[str, ...]


@dataclass
class Build:
    """What has been read so far: entries per content type, the file each came from, problems."""

    root: Path
    entries: dict[str, Any] = field(default_factory=dict)
    files: dict[str, dict[str, str]] = field(default_factory=dict)
    #: the dotted field path of an entry inside its file, for entries that share a file ("moments.3")
    bases: dict[str, dict[str, str]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def add(self, kind: str, key: str, value: Any, file: str, field_name: str, what: str,
            base: str = "", also: bool = True) -> bool:
        """Register ``value`` under ``key``; a duplicate is a problem (naming the other file when ``also``)."""
        table, files = self.entries.setdefault(kind, {}), self.files.setdefault(kind, {})
        if key in table:
            tail = f" (also in {files[key]})" if also else ""
            self.problems.append(Problem(file, field_name, f"duplicate {what} id {key!r}{tail}"))
            return False
        table[key] = value
        files[key] = file
        self.bases.setdefault(kind, {})[key] = base
        return True

    @property
    def competency_ids(self) -> set[str]:
        return set(self.entries.get("competencies", {}))


@dataclass(frozen=True)
class ContentType:
    """One kind of authored content.

    ``path`` is a file (``moments.yaml``) or, when ``folder``, a folder whose files with one of
    ``suffixes`` each hold one or more entries. ``load(build, data, file, path)`` parses what
    ``read`` returned for one file and registers its entries; ``link(build)`` checks references to
    other content once every type is loaded; ``docs(library)`` gives the search documents, of the
    kinds listed in ``doc_kinds``. ``single`` types hold one object (or None) instead of a mapping.
    """

    name: str
    path: str
    load: Callable[[Build, Any, str, Path], None]
    folder: bool = False
    suffixes: tuple[str, ...] = (".yaml", ".yml")
    markdown: bool = False
    required: bool = False
    single: bool = False
    link: Callable[[Build], None] | None = None
    docs: Callable[[Library], Iterable[Doc]] | None = None
    doc_kinds: tuple[str, ...] = ()

    def files(self, root: Path) -> list[Path]:
        where = root / self.path
        if not self.folder:
            return [where] if where.exists() else []
        if not where.is_dir():
            return []
        return sorted(p for p in where.iterdir() if p.is_file() and p.suffix in self.suffixes)

    def read(self, path: Path, root: Path) -> tuple[Any, list[Problem]]:
        if not self.markdown:
            return read_yaml(path, root)
        meta, body, problems = read_markdown(path, root)
        return (None if meta is None else {**meta, "body": body}), problems


# ------------------------------------------------------------------------------ competencies
def _load_competencies(b: Build, data: Any, file: str, path: Path) -> None:
    fw, ps = parse(CompetencyFramework, data, file)
    b.problems.extend(ps)
    for i, c in enumerate(fw.competencies if fw else ()):
        if c.id in b.entries.setdefault("competencies", {}):
            b.problems.append(Problem(file, f"competencies.{i}.id", f"duplicate competency id {c.id!r}"))
        b.entries["competencies"][c.id] = c
        b.files.setdefault("competencies", {})[c.id] = file


# ------------------------------------------------------------------------------ item bank
def _load_items(b: Build, data: Any, file: str, path: Path) -> None:
    bank, ps = parse(ItemBankFile, data, file)
    b.problems.extend(ps)
    if bank is None:
        return
    if bank.competency not in b.competency_ids:
        b.problems.append(Problem(file, "competency", f"unknown competency id {bank.competency!r}"))
    for i, entry in enumerate(bank.items):
        item = Item(id=entry.id, competency=bank.competency, scale=bank.scale,
                    reverse=entry.reverse, behavior=entry.behavior, wording=entry.wording, raters=entry.raters)
        b.add("items", entry.id, item, file, f"items.{i}.id", "item")


# ------------------------------------------------------------------------------ modules
def _load_module(b: Build, data: Any, file: str, path: Path) -> None:
    module, ps = parse(Module, data, file)
    b.problems.extend(ps)
    if module is None:
        return
    if module.id != path.stem:
        b.problems.append(Problem(file, "id", f"id {module.id!r} does not match the file name {path.stem!r}"))
    if not b.add("modules", module.id, module, file, "id", "module"):
        return
    b.problems.extend(checks.check_module_minutes(module.minutes, file))
    b.problems.extend(checks.check_ids(module.competencies, b.competency_ids, file, "competencies", "competency"))


def _link_modules(b: Build) -> None:
    modules, files = b.entries.get("modules", {}), b.files.get("modules", {})
    moments = b.entries.get("moments", {})
    for mid, module in modules.items():
        b.problems.extend(checks.check_ids(module.prerequisites, modules, files[mid], "prerequisites", "module"))
        b.problems.extend(checks.check_ids(module.moments, moments, files[mid], "moments", "moment"))
    cycle = checks.find_cycle({m.id: m.prerequisites for m in modules.values()})
    if cycle:
        b.problems.append(Problem(files[cycle[0]], "prerequisites", "prerequisite cycle: " + " -> ".join(cycle)))


def _module_docs(library: Library) -> Iterable[Doc]:
    for m in library.modules.values():
        body = _TAGS.sub(" ", m.body)
        yield Doc("module", m.id, m.title, f"{m.title}. {m.title}. {m.summary}\n{body}", m.competencies)


# ------------------------------------------------------------------------------ moments
def _load_moments(b: Build, data: Any, file: str, path: Path) -> None:
    mf, ps = parse(MomentsFile, data, file)
    b.problems.extend(ps)
    b.entries.setdefault("moments", {})
    for i, m in enumerate(mf.moments if mf else ()):
        b.add("moments", m.id, m, file, f"moments.{i}.id", "moment", base=f"moments.{i}", also=False)


def _link_moments(b: Build) -> None:
    modules, scenarios = b.entries.get("modules", {}), b.entries.get("scenarios", {})
    files, bases = b.files.get("moments", {}), b.bases.get("moments", {})
    for mid, m in b.entries.get("moments", {}).items():
        file, base = files[mid], bases[mid]
        b.problems.extend(checks.check_ids(m.competencies, b.competency_ids, file, f"{base}.competencies",
                                           "competency"))
        b.problems.extend(checks.check_ids(m.modules, modules, file, f"{base}.modules", "module"))
        b.problems.extend(checks.check_ids(m.scenarios, scenarios, file, f"{base}.scenarios", "scenario"))


def _moment_docs(library: Library) -> Iterable[Doc]:
    for mo in library.moments.values():
        yield Doc("moment", mo.id, mo.name, f"{mo.name}. {mo.name}. {mo.description}\n" + "\n".join(mo.checklist),
                  mo.competencies)


# ------------------------------------------------------------------------------ scenarios
def _load_scenario(b: Build, data: Any, file: str, path: Path) -> None:
    sc, ps = parse(Scenario, data, file)
    b.problems.extend(ps)
    if sc is None or not b.add("scenarios", sc.id, sc, file, "id", "scenario"):
        return
    b.problems.extend(checks.check_ids(sc.competencies, b.competency_ids, file, "competencies", "competency"))
    b.problems.extend(checks.check_scenario_graph(sc, file, b.competency_ids))


def _link_scenarios(b: Build) -> None:
    moments, files = b.entries.get("moments", {}), b.files.get("scenarios", {})
    for sid, sc in b.entries.get("scenarios", {}).items():
        b.problems.extend(checks.check_ids(sc.moments, moments, files[sid], "moments", "moment"))
        b.problems.extend(checks.check_scenario_debrief(sc, files[sid], b.entries.get("modules", {})))


def _scenario_docs(library: Library) -> Iterable[Doc]:
    for s in library.scenarios.values():
        yield Doc("scenario", s.id, s.title, f"{s.title}. {s.summary}", s.competencies)


# ------------------------------------------------------------------------------ organization
def _load_organization(b: Build, data: Any, file: str, path: Path) -> None:
    org, ps = parse(Organization, data, file)
    b.problems.extend(ps)
    b.entries["organization"] = org
    if org is None:
        return
    known = b.competency_ids
    for i, v in enumerate(org.values):
        b.problems.extend(checks.check_ids(v.competencies, known, file, f"values.{i}.competencies", "competency"))
    b.problems.extend(checks.check_ids([p.competency for p in org.priorities], known, file, "priorities",
                                       "competency"))
    for level, exp in org.expectations.items():
        b.problems.extend(checks.check_ids(list(exp), known, file, f"expectations.{level}", "competency"))
    if org.transformation is not None:  # the organization's own moment joins the others
        b.add("moments", org.transformation.id, org.transformation, file, "transformation.id", "moment",
              base="transformation")


def _link_organization(b: Build) -> None:
    org = b.entries.get("organization")
    if org is None:
        return
    file = b.files.get("organization", {}).get("", "organization.yaml")
    b.problems.extend(checks.check_organization_notes(org, b.competency_ids, b.entries.get("modules", {}), file))


# ------------------------------------------------------------------------------ coaching knowledge
def _load_coaching(b: Build, data: Any, file: str, path: Path) -> None:
    guide, ps = parse(CoachingGuide, data, file)
    b.problems.extend(ps)
    if guide is None:
        return
    if guide.competency not in b.competency_ids:
        b.problems.append(Problem(file, "competency", f"unknown competency id {guide.competency!r}"))
    b.entries.setdefault("coaching", {})[guide.competency] = guide
    b.files.setdefault("coaching", {})[guide.competency] = file


def _link_coaching(b: Build) -> None:
    modules, files = b.entries.get("modules", {}), b.files.get("coaching", {})
    for cid, guide in b.entries.get("coaching", {}).items():
        for i, tip in enumerate(guide.tips):
            b.problems.extend(checks.check_ids(tip.modules, modules, files[cid], f"tips.{i}.modules", "module"))


def _coaching_docs(library: Library) -> Iterable[Doc]:
    for cid, guide in library.coaching.items():
        name = library.competencies[cid].name if cid in library.competencies else cid
        for i, tip in enumerate(guide.tips):
            yield Doc("tip", f"{cid}/tip/{i}", f"{name}: tip", f"{name}. {tip.text}", (cid,))
        for i, fw in enumerate(guide.frameworks):
            yield Doc("framework", f"{cid}/framework/{i}", fw.name,
                      f"{fw.name}. {name}. {fw.summary}\n" + "\n".join(fw.steps), (cid,))


#: Every kind of content, in the order it is loaded (a type's ``load`` may use the ones above it;
#: ``link`` runs after all are loaded) and indexed for search.
CONTENT_TYPES: tuple[ContentType, ...] = (
    ContentType("competencies", "competencies.yaml", _load_competencies, required=True),
    ContentType("items", "items", _load_items, folder=True),
    ContentType("modules", "modules", _load_module, folder=True, suffixes=(".md",), markdown=True,
                link=_link_modules, docs=_module_docs, doc_kinds=("module",)),
    ContentType("moments", "moments.yaml", _load_moments, link=_link_moments, docs=_moment_docs,
                doc_kinds=("moment",)),
    ContentType("scenarios", "scenarios", _load_scenario, folder=True, link=_link_scenarios,
                docs=_scenario_docs, doc_kinds=("scenario",)),
    ContentType("organization", "organization.yaml", _load_organization, single=True, link=_link_organization),
    ContentType("coaching", "coaching", _load_coaching, folder=True, link=_link_coaching, docs=_coaching_docs,
                doc_kinds=("tip", "framework")),
)

#: The kinds of search document, in index order.
DOC_KINDS: tuple[str, ...] = tuple(k for t in CONTENT_TYPES for k in t.doc_kinds)


def read_library(root: Path) -> tuple[dict[str, Any], list[Problem]]:
    """Every content type under ``root``: ``{type name: entries}`` and the problems found."""
    b = Build(root)
    for t in CONTENT_TYPES:
        paths = t.files(root)
        if t.required and not paths:
            b.problems.append(Problem(t.path, "", "file is missing"))
        for path in paths:
            file = path.relative_to(root).as_posix()
            if t.single:
                b.files.setdefault(t.name, {})[""] = file
            data, ps = t.read(path, root)
            b.problems.extend(ps)
            if data is not None:
                t.load(b, data, file, path)
    for t in CONTENT_TYPES:
        if t.link is not None:
            t.link(b)
    out = {t.name: (b.entries.get(t.name) if t.single else dict(b.entries.get(t.name, {}))) for t in CONTENT_TYPES}
    return out, b.problems
