"""``workbench content check``: each broken fixture is reported with its file, field and reason.

Each folder under ``fixtures/broken/`` holds one or two files that replace their
counterparts in the valid ``fixtures/mini/`` library.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.content import ContentError, Library, check

FIXTURES = Path(__file__).parent / "fixtures"

# case: (file, field, words in the reason, line or None)
EXPECTED = {
    "unknown-competency": ("modules/handing-over.md", "competencies.1", "unknown competency id 'listening'", None),
    "broken-module-link": ("modules/check-ins.md", "prerequisites.0", "unknown module id 'handing-off'", None),
    "broken-scenario-link": ("moments.yaml", "moments.0.scenarios.0", "unknown scenario id 'the-lunch'", None),
    "broken-moment-link": ("scenarios/the-launch.yaml", "moments.0", "unknown moment id 'huge-task'", None),
    "broken-tip-link": ("coaching/delegating.yaml", "tips.0.modules.0", "unknown module id 'hand-over'", None),
    "unreachable-node": ("scenarios/the-launch.yaml", "nodes.orphan", "unreachable", None),
    "dangling-next": ("scenarios/the-launch.yaml", "nodes.two.choices.0.next", "undefined node 'tree'", None),
    "no-ending": ("scenarios/the-launch.yaml", "nodes", "no reachable ending", None),
    "trap-cycle": ("scenarios/the-launch.yaml", "nodes.loop", "no ending can be reached", None),
    "short-path": ("scenarios/the-launch.yaml", "nodes", "after 1 decision(s)", None),
    "unknown-quality-competency": ("scenarios/the-launch.yaml", "nodes.three.choices.1.quality.listening",
                                   "unknown competency id 'listening'", None),
    "module-too-long": ("modules/handing-over.md", "minutes", "at most 30", None),
    "duplicate-module-id": ("modules/handing-over.md", "id", "duplicate module id 'handing-over'", None),
    "duplicate-item-id": ("items/feedback.yaml", "items.1.id", "duplicate item id 'fbk-01'", None),
    "yaml-syntax": ("scenarios/the-launch.yaml", "", "YAML syntax error", 15),
    "front-matter-syntax": ("modules/check-ins.md", "", "YAML syntax error", 6),
    "missing-field": ("modules/handing-over.md", "title", "required field is missing", None),
    "unknown-field": ("modules/handing-over.md", "minuts", "unknown field", None),
    "answer-out-of-range": ("modules/check-ins.md", "knowledge_check.0", "out of range", None),
    "prerequisite-cycle": ("modules/", "prerequisites", "prerequisite cycle", None),
    "bad-level": ("modules/handing-over.md", "level", "first-time", None),
    "unknown-item-competency": ("items/feedback.yaml", "competency", "unknown competency id 'feedbak'", None),
    "duplicate-key": ("scenarios/the-launch.yaml", "text", "duplicated key 'text' (first on line 14)", 15),
    "duplicate-front-matter-key": ("modules/handing-over.md", "minutes", "duplicated key 'minutes' (first on line 8)",
                                   11),
}


def build(case: str, tmp_path: Path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(FIXTURES / "mini", root)
    for f in (FIXTURES / "broken" / case).rglob("*"):
        if f.is_file():
            target = root / f.relative_to(FIXTURES / "broken" / case)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(f, target)
    return root


def test_every_broken_fixture_has_an_expectation():
    assert sorted(p.name for p in (FIXTURES / "broken").iterdir()) == sorted(EXPECTED)


def test_mini_library_is_clean():
    assert check(FIXTURES / "mini") == []


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_broken_fixture_is_named(case, tmp_path):
    file, field, reason, line = EXPECTED[case]
    problems = check(build(case, tmp_path))
    assert problems, f"{case}: no problem reported"
    matches = [p for p in problems if p.file.startswith(file) and p.field == field and reason in p.reason]
    assert matches, f"{case}: expected {file} {field} '{reason}', got {[str(p) for p in problems]}"
    if line is not None:
        assert matches[0].line == line, str(matches[0])
    with pytest.raises(ContentError):
        Library.load(build(case, tmp_path / "again"))


@pytest.mark.parametrize("case", ["module-too-long", "yaml-syntax", "broken-scenario-link", "duplicate-key"])
def test_cli_exits_1_and_names_file_and_field(case, tmp_path):
    root = build(case, tmp_path)
    out = subprocess.run([sys.executable, "-m", "workbench.cli", "content", "check", str(root)],
                         capture_output=True, text=True)
    assert out.returncode == 1
    file, field, reason, _ = EXPECTED[case]
    assert any(file in ln and field in ln and reason in ln for ln in out.stdout.splitlines()), out.stdout
    assert "Traceback" not in out.stderr


def test_missing_folder_is_a_clean_error(tmp_path):
    out = subprocess.run([sys.executable, "-m", "workbench.cli", "content", "check", str(tmp_path / "nope")],
                         capture_output=True, text=True)
    assert out.returncode == 1 and out.stderr.startswith("error:") and "Traceback" not in out.stderr


def test_every_duplicated_key_is_reported_once_and_merge_keys_are_not(tmp_path):
    from workbench.content.loader import read_yaml

    p = tmp_path / "x.yaml"
    p.write_text("base: &b {a: 1}\nuse:\n  <<: *b\n  a: 2\nlist:\n  - {k: 1, k: 2}\nlist: []\n")
    data, problems = read_yaml(p, tmp_path)
    assert data == {"base": {"a": 1}, "use": {"a": 2}, "list": []}
    assert [str(x) for x in problems] == [
        "x.yaml:6: k: duplicated key 'k' (first on line 6); YAML keeps only the last",
        "x.yaml:7: list: duplicated key 'list' (first on line 5); YAML keeps only the last",
    ]


def test_a_content_file_over_the_size_limit_is_a_problem(tmp_path, monkeypatch):
    root = build("duplicate-key", tmp_path)
    monkeypatch.setenv("WORKBENCH_MAX_CONTENT_FILE_MB", "0.001")
    problems = check(root)
    big = [p for p in problems if p.file == "scenarios/the-launch.yaml"]
    assert big and "content file is" in big[0].reason and "WORKBENCH_MAX_CONTENT_FILE_MB" in big[0].reason
