"""(Re)write notebooks/calibrate_assessment.ipynb without outputs (thin: logic is in workbench/)."""

from pathlib import Path

import nbformat as nbf

md, code = nbf.v4.new_markdown_cell, nbf.v4.new_code_cell
cells = [
    md("# Calibrating the leadership assessment\n\n"
       "Fits the graded response model to every submitted answer sheet in the store (the demo "
       "organization unless `db_url` points elsewhere), then checks it: convergence, item "
       "parameters, information, reliability, item fit and differential item functioning "
       "between first-time and experienced leaders. Run it with papermill to change the "
       "parameters below; `docs/skill-model.md` explains the model."),
    code("# parameters\ndb_url = None  # SQLAlchemy URL; None = $WORKBENCH_DB or .workbench/workbench.db (built if empty)\n"
         "method = \"map\"  # \"nuts\" for the full posterior (minutes), \"map\" for the Laplace approximation (seconds)\n"
         "draws, tune, chains, seed = 1000, 500, 2, 0\nfit_replications = 100"),
    code("import os\n\nos.environ.setdefault(\"OPENBLAS_NUM_THREADS\", \"1\")\n\nimport pandas as pd\n\n"
         "from workbench.content import Library\nfrom workbench.demo import ensure_demo\n"
         "from workbench.services.psychometrics import assessment_data, leader_groups\n"
         "from workbench.skills import analysis\nfrom workbench.skills.calibrate import calibrate\n\n"
         "library = Library.load()\nengine = ensure_demo(db_url, library)\ndata = assessment_data(engine, library)\n"
         "print(f\"{len(data.y)} answer sheets about {data.n_persons} leaders, {len(data.items.item_ids)} items, \"\n"
         "      f\"raters: {', '.join(data.rater_types)}\")"),
    md("## Fit and convergence"),
    code("cal = calibrate(data, method=method, draws=draws, tune=tune, chains=chains, seed=seed, progressbar=False)\n"
         "pd.Series(cal.diagnostics, name=\"diagnostics\").to_frame()"),
    code("assert set(cal.rater_effects) == set(data.rater_types)  # a shift per rater type was estimated"),
    code("pd.DataFrame(cal.rater_effects).T.rename_axis(\"rater\")"),
    code("pd.DataFrame(cal.correlation, index=cal.items.dimensions, columns=cal.items.dimensions).round(2)"),
    md("## Items"),
    code("analysis.item_table(cal).round(2)"),
    code("analysis.information_figure(cal.params(), show_items=False)"),
    code("analysis.marginal_reliability(cal.params(), data.y).round(3)"),
    md("## Item fit (posterior predictive checks)"),
    code("fit = analysis.item_fit(cal, data, n_rep=fit_replications, seed=seed)\n"
         "fit[[\"item_id\", \"dimension\", \"p_score_groups\", \"p_item_rest\", \"misfit\"]].round(3)"),
    code("analysis.item_fit_figure(fit)"),
    md("## Differential item functioning: first-time vs experienced leaders"),
    code("groups = leader_groups(engine, data, \"first_time\")\n"
         "dif = analysis.dif(data, cal, groups)\n"
         "dif[[\"item_id\", \"dimension\", \"b_shift\", \"esd\", \"p_adj\", \"dif\"]].round(3)"),
    code("analysis.dif_figure(dif)"),
]
nb = nbf.v4.new_notebook(cells=cells)
nb.cells[1].metadata["tags"] = ["parameters"]
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
path = Path(__file__).resolve().parents[1] / "notebooks" / "calibrate_assessment.ipynb"
nbf.write(nb, path)
print("wrote", path)
