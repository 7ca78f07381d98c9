"""(Re)write the thin Voilà entry-point notebooks in notebooks/apps/ without outputs."""

from pathlib import Path

import nbformat as nbf

APPS = {
    "leader": ("Leader app", "from workbench.apps.leader import leader_app\n\nleader_app(token)"),
    "cohort": ("Cohort app", "from workbench.apps.cohort import cohort_app\n\ncohort_app(token)"),
    "rater": ("Rater form", "from workbench.apps.rater import rater_app\n\nrater_app(token)"),
}

for name, (title, call) in APPS.items():
    nb = nbf.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbf.v4.new_code_cell(f"# {title}: served by `workbench serve`, opened through a link from `workbench link`.\n"
        "# The signed link's token arrives in the page's query string; papermill may pass it here.\ntoken = None")
    params.metadata["tags"] = ["parameters"]
    app = nbf.v4.new_code_cell(call)
    app.metadata["tags"] = ["nbval-ignore-output"]
    params.id, app.id = f"{name}-parameters", f"{name}-app"  # stable ids: regenerating changes nothing
    nb.cells = [params, app]
    path = Path(__file__).resolve().parents[1] / "notebooks" / "apps" / f"{name}.ipynb"
    nbf.write(nb, path)
    print("wrote", path)
