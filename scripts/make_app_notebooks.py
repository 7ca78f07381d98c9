"""(Re)write the thin Voilà entry-point notebooks in notebooks/apps/ without outputs."""

from pathlib import Path

import nbformat as nbf

# each app: a title and its code cells after the parameters cell (the leader and cohort apps show
# their header in one cell and build the rest in the next, so the page starts showing sooner)
APPS = {
    "leader": ("Leader app", ["from workbench.apps.leader import leader_parts\n\nheader, build_rest = leader_parts(token)\n"
                              "header", "build_rest()"]),
    "cohort": ("Cohort app", ["from workbench.apps.cohort import cohort_parts\n\nheader, build_rest = cohort_parts(token)\n"
                              "header", "build_rest()"]),
    "rater": ("Rater form", ["from workbench.apps.rater import rater_app\n\nrater_app(token)"]),
}

for name, (title, calls) in APPS.items():
    nb = nbf.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbf.v4.new_code_cell(f"# {title}: served by `workbench serve`, opened through a link from `workbench link`.\n"
        "# The signed link's token arrives in the page's query string; papermill may pass it here.\ntoken = None")
    params.metadata["tags"] = ["parameters"]
    params.id = f"{name}-parameters"  # stable ids: regenerating changes nothing
    cells = [params]
    for i, call in enumerate(calls):
        cell = nbf.v4.new_code_cell(call)
        cell.metadata["tags"] = ["nbval-ignore-output"]
        cell.id = f"{name}-app" + (f"-{i + 1}" if i else "")
        cells.append(cell)
    nb.cells = cells
    path = Path(__file__).resolve().parents[1] / "notebooks" / "apps" / f"{name}.ipynb"
    nbf.write(nb, path)
    print("wrote", path)
