"""The organization in the content: notes, values and the transformation moment, all from organization.yaml."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from workbench.content import ContentError, Library, check
from workbench.content.organization import organization_section, value_sentence
from workbench.content.search import KINDS, LibraryIndex, library_docs
from workbench.content.types import CONTENT_TYPES

MINI = Path(__file__).parent / "fixtures" / "mini"

OTHER_ORG = """\
name: Harbour Health Trust
mission: Care close to home.
values:
  - name: Open doors
    description: We tell patients and colleagues what we know, when we know it.
    competencies: [delegating, feedback]
priorities:
  - competency: delegating
    weight: 0.9
    rationale: Ward leaders must free time for the new rostering system.
settings: [wards, community clinics]
notes:
  competencies:
    delegating: On a ward, handing over a task means handing over at shift change.
  modules:
    check-ins: Check-ins on the ward happen at the nurses' station, not in an office.
transformation:
  id: new-rostering
  name: Moving my ward to the new rostering system
  kind: big
  description: Your ward is switching to e-rostering this quarter.
  competencies: [delegating]
  modules: [handing-over]
  scenarios: [the-launch]
  checklist:
    - Find out your go-live date
    - Brief every shift
"""


def mini(tmp_path: Path, organization: str | None = OTHER_ORG) -> Path:
    root = tmp_path / "content"
    shutil.copytree(MINI, root)
    if organization is None:
        (root / "organization.yaml").unlink()
    else:
        (root / "organization.yaml").write_text(organization)
    return root


# ------------------------------------------------------------------------------ the shipped organization
def test_every_module_has_an_organization_section_naming_a_value(library):
    org = library.organization
    for module in library.modules.values():
        section = organization_section(library, module)
        assert section is not None, module.id
        assert section.heading == f"In {org.name}"
        assert section.values, f"{module.id}: no value tied to {module.competencies}"
        assert section.markdown.startswith(f"## In {org.name}\n")
        assert section.note, module.id


def test_section_uses_the_module_note_before_the_competency_note(library):
    notes = library.organization.notes
    peers = organization_section(library, "leading-former-peers")
    assert peers.note == " ".join(notes.modules["leading-former-peers"].split())
    sbi = organization_section(library, "feedback-sbi")
    assert "feedback-sbi" not in notes.modules
    assert sbi.note == " ".join(notes.competencies["feedback"].split())
    assert [v.name for v in sbi.values] == ["Candor with care"]
    assert sbi.priority.startswith("New systems and ways of working only settle")
    assert "*Candor with care*" in sbi.markdown and "**Why it matters now.**" in sbi.markdown
    with pytest.raises(ValueError, match="unknown module 'nope'"):
        organization_section(library, "nope")


def test_the_organizations_transformation_is_a_big_moment_with_its_modules(library):
    t = library.organization.transformation
    assert t is not None and library.moments[t.id] is t and t.kind == "big"
    assert {"leading-dispersed-teams", "why-change-stalls"} <= set(t.modules)
    hits = LibraryIndex(library).search("switching my depot to the new digital supply chain system", k=5,
                                        kinds=("moment",))
    assert hits and hits[0].doc.id == t.id


def test_new_modules_are_in_the_moments_that_lead_to_them(library):
    for mid in ("leading-former-peers", "your-wellbeing-and-workload", "handling-a-misconduct-report",
                "leading-dispersed-teams", "inclusion-in-people-decisions", "adapting-to-development-level"):
        module = library.modules[mid]
        assert module.moments, mid
        for moment in module.moments:
            assert mid in library.moments[moment].modules, (mid, moment)


def test_every_module_ends_with_where_this_comes_from(library):
    for module in library.modules.values():
        headings = [ln for ln in module.body.splitlines() if ln.startswith("## ")]
        assert headings[-1] == "## Where this comes from", module.id
        tail = module.body.split("## Where this comes from", 1)[1]
        assert len(tail.split()) >= 40, f"{module.id}: the sources section is too thin"
        assert "research has found" not in module.body.lower(), module.id
        assert "studies show" not in module.body.lower(), module.id


# ------------------------------------------------------------------------------ another organization swapped in
def test_another_organization_speaks_in_its_own_words(tmp_path):
    lib = Library.load(mini(tmp_path))
    section = organization_section(lib, "check-ins")
    assert section.heading == "In Harbour Health Trust"
    assert section.note.startswith("Check-ins on the ward")  # the module's own note
    assert [v.name for v in section.values] == ["Open doors"]
    handing = organization_section(lib, "handing-over")
    assert handing.note.startswith("On a ward, handing over")  # its competency's note
    assert handing.priority == "Ward leaders must free time for the new rostering system."
    assert "new-rostering" in lib.moments and lib.moments["new-rostering"].kind == "big"
    assert value_sentence(lib.organization.name, section.values[0]) == (
        "Harbour Health Trust's value \u201cOpen doors\u201d: We tell patients and colleagues what we know, "
        "when we know it.")


def test_without_an_organization_there_is_no_section(tmp_path):
    lib = Library.load(mini(tmp_path, organization=None))
    assert organization_section(lib, "check-ins") is None


@pytest.mark.parametrize(("change", "field", "reason"), [
    (("  modules:\n    check-ins:", "  modules:\n    check-inz:"), "notes.modules.check-inz", "unknown module id 'check-inz'"),
    (("    delegating: On a ward", "    listening: On a ward"), "notes.competencies.listening",
     "unknown competency id 'listening'"),
    (("  modules: [handing-over]\n  scenarios", "  modules: [handing-off]\n  scenarios"), "transformation.modules.0",
     "unknown module id 'handing-off'"),
    (("  id: new-rostering", "  id: big-task"), "transformation.id", "duplicate moment id 'big-task'"),
    (("  kind: big\n", ""), "transformation.kind", "required field is missing"),
    (("    check-ins: Check-ins on the ward happen at the nurses' station, not in an office.", "    check-ins: ' '"),
     "notes.modules", "empty"),
    (("settings: [wards, community clinics]", "setting: [wards]"), "setting", "unknown field"),
])
def test_bad_organization_fields_are_named(tmp_path, change, field, reason):
    old, new = change
    assert old in OTHER_ORG
    root = mini(tmp_path, OTHER_ORG.replace(old, new))
    problems = check(root)
    assert any(p.file == "organization.yaml" and p.field == field and reason in p.reason for p in problems), \
        [str(p) for p in problems]
    with pytest.raises(ContentError):
        Library.load(root)


# ------------------------------------------------------------------------------ the content type table
def test_one_table_names_every_kind_of_content(library):
    names = [t.name for t in CONTENT_TYPES]
    fields = [f for f in Library.__dataclass_fields__ if f not in ("root", "problems")]
    assert sorted(names) == sorted(fields)
    assert KINDS == ("module", "moment", "scenario", "tip", "framework")
    docs = library_docs(library)
    assert {d.kind for d in docs} == set(KINDS)
    assert sum(d.kind == "module" for d in docs) == len(library.modules)
    assert sum(d.kind == "moment" for d in docs) == len(library.moments)
