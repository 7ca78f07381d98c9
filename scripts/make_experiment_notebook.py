"""(Re)write experiments/ab_strategies.ipynb without outputs (thin: logic is in workbench/)."""

from pathlib import Path

import nbformat as nbf

md, code = nbf.v4.new_markdown_cell, nbf.v4.new_code_cell
cells = [
    md("# A/B test of recommendation strategies: one run\n\n"
       "Simulates one seed of an experiment config (`workbench.sim.run_seed`) and analyses the outcome "
       "twice: Welch's test (frequentist) and the Bayesian model of the arm means (PyMC, or the conjugate "
       "Normal-Inverse-Gamma model). "
       "Writes `<out_dir>/<run_name>.json`. `workbench.services.experiments.run_config` executes this "
       "notebook once per seed with papermill and aggregates the runs; `docs/simulation.md` explains the model."),
    code("# parameters\nconfig_path = \"experiments/configs/aa_check.yaml\"  # relative to the repository root\n"
         "seed = 0\nrun_name = \"\"  # empty: config name and seed\nout_dir = \"reports/experiments/runs\"\n"
         "method = \"pymc\"  # Bayesian analysis: \"pymc\" (NUTS) or \"conjugate\" (Normal-Inverse-Gamma, exact)\n"
         "draws = 1000  # PyMC draws per chain (2 chains)\ntune = 1000  # PyMC tuning steps per chain"),
    code("import os\n\nos.environ.setdefault(\"OPENBLAS_NUM_THREADS\", \"1\")\n\n"
         "from workbench.services import experiments as er\nfrom workbench.sim import figures, load_config\n\n"
         "config = load_config(config_path)\nlibrary, item_params = er.sim_inputs()\n"
         "print(f\"{config.name}: {len(config.arms)} arms, {config.population} leaders, {config.weeks} weeks, \"\n"
         "      f\"outcome {config.outcome}, seed {seed}\")"),
    md("## Simulate and analyse"),
    code("record = er.analyse_seed(config, seed, library=library, item_params=item_params, method=method,\n"
         "                         draws=draws, tune=tune, run_name=run_name or None)\n"
         "import pandas as pd\n\npd.DataFrame(record[\"arms\"]).drop(columns=\"outcomes\").set_index(\"arm\").round(4)"),
    code("pd.DataFrame({a[\"arm\"]: a[\"outcomes\"] for a in record[\"arms\"]}).round(3)"),
    code("figures.outcome_figure(record)"),
    md("## Effect against the control: posterior beside Welch"),
    code("er.effect_table(record).round(4)"),
    code("figures.effect_figure(record)"),
    md("## What the experiment pools: this run's contrasts\n\n"
       "For measured outcomes the effect is adjusted for the pre-assessment (ANCOVA); the true-skill effect is "
       "what the simulator knows. The decision of the experiment pools these over all seeds (`results.json`, "
       "`report.html`); the per-run winners below only feed a secondary table."),
    code("er.contrast_table(record).round(4)"),
    code("{\"per_run_rules\": record[\"decision\"], \"sampler_checks\": record[\"diagnostics\"] or \"conjugate: exact, no sampler\"}"),
    code("path = er.write_record(record, out_dir)\nprint(\"wrote\", path)"),
]
nb = nbf.v4.new_notebook(cells=cells)
nb.cells[1].metadata["tags"] = ["parameters"]
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
path = Path(__file__).resolve().parents[1] / "experiments" / "ab_strategies.ipynb"
nbf.write(nb, path)
print("wrote", path)
