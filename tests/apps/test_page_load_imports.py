"""A dashboard page load must not import PyMC/PyTensor (seconds of import and compile)."""

import subprocess
import sys


def test_app_modules_do_not_import_pymc():
    code = ("import sys, workbench.apps.leader, workbench.apps.cohort, workbench.cohort_log, workbench.plans; "
            "print(sorted(m for m in ('pymc', 'pytensor') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
