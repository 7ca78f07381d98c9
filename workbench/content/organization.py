"""The organization in the content: what ``organization.yaml`` says about a module, a competency, a value.

Everything here is read from the organization profile, so another organization that swaps in its
own ``organization.yaml`` (values, priorities, notes, settings, transformation) gets its own words
in every module, recommendation reason and coaching citation without touching the modules.
"""

from __future__ import annotations

from dataclasses import dataclass

from .library import Library
from .schema import Module, Value


@dataclass(frozen=True)
class OrganizationSection:
    """The "In <organization>" section shown with one module.

    ``note`` is the organization's note for the module (or, failing that, for its primary
    competency), ``values`` the values tied to the module's competencies and ``priority`` the
    organization's rationale for prioritizing the primary competency ("" when it is not a priority).
    """

    organization: str
    module_id: str
    note: str
    values: tuple[Value, ...]
    priority: str

    @property
    def heading(self) -> str:
        return f"In {self.organization}"

    @property
    def markdown(self) -> str:
        """The section as Markdown, headed "In <organization>"."""
        parts = [f"## {self.heading}"]
        if self.note:
            parts.append(" ".join(self.note.split()))
        if self.values:
            said = "; ".join(f"*{v.name}*: {' '.join(v.description.split())}" for v in self.values)
            label = "Our value" if len(self.values) == 1 else "Our values"
            parts.append(f"**{label}.** {said}")
        if self.priority:
            parts.append(f"**Why it matters now.** {self.priority}")
        return "\n\n".join(parts) + "\n"


def organization_section(library: Library, module: Module | str) -> OrganizationSection | None:
    """What the organization says about ``module``; None without an organization or anything to say."""
    org = library.organization
    if org is None:
        return None
    if isinstance(module, str):
        if module not in library.modules:
            raise ValueError(f"unknown module {module!r}")
        module = library.modules[module]
    note = org.notes.modules.get(module.id) or org.notes.competencies.get(module.primary_competency, "")
    values = org.values_for(module.competencies)
    priority = org.priority_rationale(module.primary_competency)
    if not (note or values or priority):
        return None
    return OrganizationSection(org.name, module.id, " ".join(note.split()), values, priority)


def value_sentence(organization: str, value: Value) -> str:
    """A value quoted with its owner: ``Northwind Cooperative's value "Candor with care": We say ...``."""
    return f"{organization}'s value \u201c{value.name}\u201d: {' '.join(value.description.split())}"
