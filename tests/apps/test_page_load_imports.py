"""A dashboard page load must not import PyMC/PyTensor (seconds of import and compile), nor scipy.stats."""

import os
import subprocess
import sys

HEAVY = ("pymc", "pytensor")


def test_app_modules_do_not_import_pymc():
    code = ("import sys, workbench.apps.leader, workbench.apps.cohort, workbench.apps.rater, workbench.services.cohorts, "
            "workbench.services.plans, workbench.services.progress, workbench.analytics.figures; "
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_opening_every_section_of_every_app_imports_no_pymc(demo_copy):
    """Build each page and open every tab, as a leader and a facilitator clicking through would."""
    code = f"""
import sys
from workbench.apps.leader import LeaderPage
from workbench.apps.cohort import CohortPage, SECTIONS
from workbench.apps.rater import rater_app
from workbench.content import Library
from workbench.services.identity import make_token
from workbench.services.invitations import invite
from workbench.store import make_engine, repo
eng, lib = make_engine({demo_copy!r}), Library.load()
def failed(box):  # a section that failed early would import nothing and prove nothing
    return any("wb-section-error" in c._dom_classes for c in box.children)
page = LeaderPage(eng, lib, repo.get_leader(eng, "L0002"))
assert not any(failed(page.open(name)) for name in page.sections)
cohort = CohortPage(eng, lib, repo.get_cohort(eng, "C02"))
assert not any(failed(cohort.open(name)) for name in SECTIONS)
rater_app(make_token("rater", invite(eng, "L0002", "peer", email="x@example.org").id), lib, eng)
print(sorted(m for m in {HEAVY!r} if m in sys.modules))
"""
    env = {**os.environ, "WORKBENCH_SECRET": "imports"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_first_content_of_each_page_imports_no_scipy_stats(demo_copy):
    """What a page shows first (its header and first tab) avoids scipy.stats and scikit-learn too:
    each is about a second of imports (the library search in Explore and Practice may use them)."""
    code = """
import sys
from workbench.apps.leader import leader_parts
from workbench.apps.cohort import cohort_parts
from workbench.services.identity import make_token
for parts in (leader_parts(make_token("leader", "L0002")), cohort_parts(make_token("facilitator", "C02"))):
    parts[1]()
print(sorted(m for m in ("pymc", "pytensor", "scipy.stats", "sklearn") if m in sys.modules))
"""
    env = {**os.environ, "WORKBENCH_SECRET": "imports", "WORKBENCH_DB": demo_copy}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"
