"""(Re)write notebooks/calibrate_assessment.ipynb without outputs (thin: logic is in workbench/)."""

from pathlib import Path

import nbformat as nbf

md, code = nbf.v4.new_markdown_cell, nbf.v4.new_code_cell
cells = [
    md('# Calibrating the leadership assessment\n'
       '\n'
       'Fits the graded response model to every submitted answer sheet in the store (the demo organization unless `db_url` points elsewhere), then checks it: convergence, item parameters, information, reliability, item fit and differential item functioning between first-time and experienced leaders. Run it with papermill to change the parameters below; `docs/skill-model.md` explains the model.'),
    code('# parameters\n'
       'db_url = None  # SQLAlchemy URL; None = $WORKBENCH_DB or .workbench/workbench.db (built if empty)\n'
       'method = "map"  # "nuts" for the full posterior (minutes), "map" for the Laplace approximation (seconds)\n'
       'draws, tune, chains, seed = 1800, None, 2, 0  # tune None: 200 with the Laplace mass matrix\n'
       'fit_replications = 100\n'
       'publish = False  # True: store this calibration, make it the active one and rescore every leader\n'),
    code('import os\n'
       '\n'
       'os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")\n'
       '\n'
       'import pandas as pd\n'
       '\n'
       'from workbench.content import Library\n'
       'from workbench.demo import ensure_demo\n'
       'from workbench.services.psychometrics import assessment_data, leader_groups\n'
       'from workbench.skills import analysis, figures\n'
       'from workbench.skills.model import GradedResponseModel\n'
       '\n'
       'library = Library.load()\n'
       'engine = ensure_demo(db_url, library)\n'
       'data = assessment_data(engine, library)\n'
       'print(f"{len(data.y)} answer sheets about {data.n_persons} leaders, {len(data.items.item_ids)} items, "\n'
       '      f"raters: {\', \'.join(data.rater_types)}")'),
    md('## Fit and convergence'),
    code('model = GradedResponseModel(method, draws=draws, tune=tune, chains=chains, seed=seed, progressbar=True).fit(data)\n'
       '# learned, read-only: items_, a_sd_, b_sd_, rater_effects_, correlation_, reliability_, idata_\n'
       'pd.Series(model.diagnostics_, name="diagnostics").to_frame()'),
    code('assert set(model.rater_effects_) == set(data.rater_types)  # a shift per rater type was estimated'),
    code('pd.DataFrame(model.rater_effects_).T.rename_axis("rater")'),
    code('dims = model.items_.dimensions\n'
       'pd.DataFrame(model.correlation_, index=dims, columns=dims).round(2)'),
    md('## Items'),
    code('model.item_table().round(2)  # a, b and their posterior SDs'),
    code('figures.information_figure(analysis.item_information(model), show_items=False)'),
    code('analysis.marginal_reliability(model.items_, data.y).round(3)'),
    md('## Item fit (posterior predictive checks)'),
    code('fit = analysis.item_fit(model, data, n_rep=fit_replications, seed=seed)\n'
       'fit[["item_id", "dimension", "p_score_groups", "p_item_rest", "misfit"]].round(3)'),
    code('figures.item_fit_figure(fit)'),
    md('## Differential item functioning: first-time vs experienced leaders'),
    code('groups = leader_groups(engine, data, "first_time")\n'
       'dif = analysis.dif(data, model, groups)\n'
       'dif[["item_id", "dimension", "b_shift", "esd", "p_adj", "dif"]].round(3)'),
    code('figures.dif_figure(dif)'),
    md('## Publish\n'
       '\n'
       "With `publish = True`, the calibration is stored with its provenance and becomes the one leaders' estimates are scored with; everyone is rescored in one transaction, the old estimates stay as history, and `workbench calibrations rollback` undoes it."),
    code('if publish:\n'
       '    from workbench.services.psychometrics import publish_calibration\n'
       '\n'
       '    print(publish_calibration(engine, library, model))'),
]
nb = nbf.v4.new_notebook(cells=cells)
nb.cells[1].metadata["tags"] = ["parameters"]
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
path = Path(__file__).resolve().parents[1] / "notebooks" / "calibrate_assessment.ipynb"
nbf.write(nb, path)
print("wrote", path)
