"""The notebooks written by ``scripts/make_*_notebook*.py`` are what their generators write.

Each generator runs in a scratch copy of the tree (so the repository's notebooks are never
touched) and its notebooks are compared with the committed ones, cell by cell (type, source,
tags). An edit made in JupyterLab without the generator, or the other way round, fails here:
regenerate with ``python scripts/<generator>.py``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
GENERATORS = sorted(p.name for p in (ROOT / "scripts").glob("make_*notebook*.py"))


def _cells(path: Path) -> list[tuple[str, str, tuple[str, ...]]]:
    nb = nbformat.read(path, as_version=4)
    return [(c.cell_type, c.source, tuple(c.metadata.get("tags", ()))) for c in nb.cells]


def test_every_generator_is_checked():
    assert len(GENERATORS) >= 4


@pytest.mark.parametrize("script", GENERATORS)
def test_committed_notebooks_match_their_generator(script, tmp_path):
    (tmp_path / "scripts").mkdir()
    for folder in ("notebooks/apps", "experiments"):
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "scripts" / script, tmp_path / "scripts" / script)
    res = subprocess.run([sys.executable, str(tmp_path / "scripts" / script)], capture_output=True, text=True,
                         cwd=tmp_path, timeout=300)
    assert res.returncode == 0, res.stderr
    written = [p for p in tmp_path.rglob("*.ipynb")]
    assert written, f"{script} wrote no notebook"
    for path in written:
        committed = ROOT / path.relative_to(tmp_path)
        assert committed.is_file(), f"{script} writes {committed.relative_to(ROOT)}, which is not committed"
        assert _cells(path) == _cells(committed), (
            f"{committed.relative_to(ROOT)} differs from what scripts/{script} writes; regenerate it or edit the script")
