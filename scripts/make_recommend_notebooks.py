"""(Re)write notebooks/tune_recommender.ipynb and notebooks/author_paths.ipynb without outputs.

Thin notebooks: one call per cell, the logic is in ``workbench/recommend/tuning.py`` and
``workbench/recommend/paths.py``, the figures in ``workbench/recommend/figures.py``. Each has a papermill ``parameters`` cell and runs top to
bottom on the demo organization (built on first use when ``db_url`` is None).
"""

from pathlib import Path

import nbformat as nbf

md, code = nbf.v4.new_markdown_cell, nbf.v4.new_code_cell
ROOT = Path(__file__).resolve().parents[1]

SETUP = ("import os\n\nos.environ.setdefault(\"OPENBLAS_NUM_THREADS\", \"1\")\n\n")

tune_cells = [
    md("# Comparing and tuning the recommender\n\n"
       "Compares the recommendation strategies (gap, priority, Thompson sampling, popular, random) on the demo "
       "organization's leaders and on simulated leaders whose truth is known, then tunes the priority strategy's "
       "weights and exploration with a small grid search. The outcome model and every metric are documented in "
       "`workbench/recommend/tuning.py`: the expected benefit of a plan is the sum over its modules of the "
       "leader's shortfall in the module's competencies times the module's effectiveness, reduced when the plan "
       "needs more minutes than the leader really has. For the demo leaders the truth is unknown, so the benefit "
       "is expected under their skill posteriors; the *oracle* row is greedy on the outcome model itself, a "
       "ceiling. Run it with papermill to change the parameters below."),
    code("# parameters\n"
         "db_url = None  # SQLAlchemy URL; None = $WORKBENCH_DB or .workbench/workbench.db (built if empty)\n"
         "seed = 0\n"
         "strategies = [\"gap\", \"priority\", \"thompson\", \"popular\", \"random\"]\n"
         "k = 3  # modules per plan\n"
         "n_simulated = 2000  # simulated leaders\n"
         "observations_per_module = 20  # starts of each module Thompson sampling has learned from\n"
         "level_fit = False  # True: content at the wrong level is worth less in the outcome model\n"
         "priority_weights = [0.0, 0.5, 1.0, 2.0, 4.0, 8.0]  # 2 is the shipped priority strategy\n"
         "temperatures = [0.0, 0.02, 0.05, 0.1]  # softmax exploration; 0 = greedy\n"
         "objective = \"benefit\""),
    code(SETUP + "from workbench.content import Library\nfrom workbench.demo import ensure_demo\n"
         "from workbench.services.plans import leader_context\nfrom workbench.recommend import figures, tuning\n"
         "from workbench.sim.population import simulate_comparison\nfrom workbench.store import repo\n\n"
         "library = Library.load()\nengine = ensure_demo(db_url, library)"),
    md("## The demo organization\n\nEach leader's context comes from the store (latest skill estimates, "
       "completions, this week's minutes), exactly as the leader app would build it."),
    code("contexts = [leader_context(engine, library, leader_id) for leader_id in repo.leaders_frame(engine).leader_id]\n"
         "len(contexts)"),
    code("demo = tuning.comparison_from_contexts(contexts, library, popularity=repo.module_popularity(engine),\n"
         "                                       level_fit=level_fit, name=\"the demo organization\")"),
    code("demo_table = tuning.compare_strategies(demo, strategies, k=k, seed=seed, oracle=True)\ndemo_table.round(3)"),
    code("assert demo_table.strategy.tolist() == [*strategies, \"oracle\"]  # one row per strategy, and the ceiling"),
    code("figures.comparison_figure(demo_table)"),
    md("## Simulated leaders: the truth is known\n\nRole levels, skill profiles, estimates with honest "
       "uncertainty, budgets and the minutes leaders really have are drawn from a seed; so is every module's "
       "true effectiveness. Thompson sampling starts from what it would have learned after "
       "`observations_per_module` starts of each module."),
    code("sim = simulate_comparison(library, n_simulated, seed, level_fit=level_fit)\n"
         "effectiveness = tuning.learned_effectiveness(sim.outcome, observations_per_module, seed)"),
    code("sim_table = tuning.compare_strategies(sim, strategies, k=k, seed=seed, effectiveness=effectiveness, oracle=True)\n"
         "sim_table.round(3)"),
    code("assert len(sim_table) == len(strategies) + 1\n"
         "assert sim_table.benefit.idxmax() == len(strategies)  # the oracle knows the truth: nobody beats it"),
    code("figures.comparison_figure(sim_table)"),
    md("## Tuning the priority strategy\n\n`priority_weight` multiplies the organization's priority weights "
       "against need (0 = need only); `temperature` turns greedy choice into a softmax over scores. Every grid "
       "point sees the same simulated leaders and the same random numbers."),
    code("grid = tuning.tune(sim, {\"priority_weight\": priority_weights, \"temperature\": temperatures},\n"
         "                   objective=objective, k=k, seed=seed)\ngrid.round(3)"),
    code("assert len(grid) == len(priority_weights) * len(temperatures) and grid.best.sum() == 1"),
    code("figures.tuning_figure(grid, metrics=(objective, \"priority_alignment\", \"development_coverage\"))"),
    code("best = tuning.best_setting(grid)\nbest"),
    md("## Check the choice on fresh leaders\n\nThe best grid point could be the luck of one population: "
       "compare it with the shipped setting on new leaders from another seed (same module truth)."),
    code("fresh = simulate_comparison(library, n_simulated, seed + 1, outcome=sim.outcome)\n"
         "settings = {\"shipped\": {\"priority_weight\": 2.0, \"temperature\": 0.0}, \"tuned\": best}\n"
         "check = tuning.evaluate_settings(fresh, settings, k=k, seed=seed)\ncheck.round(3)"),
    md("## Off-policy evaluation on the demo organization's logged plans\n\n"
       "Every Monday the demo organization served each leader a plan of three modules with its logging policy "
       "(the priority strategy, epsilon-greedy with epsilon 0.3: `workbench.sim.logs.LOGGING_POLICY`) and "
       "stored each recommendation with its propensity and the context the engine saw. The reward is what "
       "happened: `top_pick`, was the plan's first module completed that week; `plan`, how many of its modules "
       "were. `ips` and `snips` re-weight the logged plans by how likely each candidate was to serve them "
       "(`workbench/recommend/ope.py`); `ess` is how many plans the estimate really rests on. A greedy candidate "
       "rests only on the plans that happened to be its own choice, so its whole-plan `ess` is small: read those "
       "rows as a direction. The logging policy's own row must reproduce the observed mean exactly: the stored "
       "contexts and propensities agree with the engine."),
    code("from workbench.demo import DEMO_ORG\nfrom workbench.recommend.ope import LoggedPlans, evaluate_plans\n"
         "from workbench.sim.logs import LOGGING_POLICY\n\n"
         "logged = LoggedPlans.from_frame(repo.logged_plans(engine, DEMO_ORG))\n"
         "candidates = {name: {\"strategy\": name} for name in strategies}\n"
         "if \"popular\" in candidates:\n"
         "    candidates[\"popular\"][\"popularity\"] = repo.module_popularity(engine, DEMO_ORG)\n"
         "candidates[\"logging policy\"] = dict(LOGGING_POLICY)\n"
         "demo_ope = evaluate_plans(logged, library, candidates, rng=seed)\n"
         "print(f\"{len(logged)} logged plans\")\ndemo_ope.round(3)"),
    code("observed = demo_ope.query(\"policy == 'logged'\").set_index(\"unit\").value\n"
         "own = demo_ope.query(\"policy == 'logging policy' and estimator == 'ips'\").set_index(\"unit\").value\n"
         "assert (abs(own - observed) < 1e-9).all()  # the log replays: weights of exactly 1"),
    md("## Off-policy evaluation on simulated logs, where the truth is known\n\n"
       "The same logging policy serves one week of plans to simulated leaders "
       "(`workbench.sim.logs.log_week`). The simulator knows each leader's engagement and free minutes, so "
       "`policy_value` gives every candidate's true value on those same leaders: the top pick's exactly, the "
       "whole plan's by simulation. Each estimate should land near its truth, within its interval about 95% of "
       "the time."),
    code("from workbench.sim import demo_item_params, generate_population\n"
         "from workbench.sim.logs import log_week, policy_value\nfrom workbench.recommend.ope import PLAN_UNITS\n\n"
         "week = log_week(generate_population(library, n_simulated, seed), library, demo_item_params(library, 7), seed)\n"
         "sim_candidates = {name: spec for name, spec in candidates.items() if name != \"popular\"}\n"
         "sim_ope = evaluate_plans(week.plans, library, sim_candidates, rng=seed)\n"
         "truth = {name: policy_value(week, library, seed=seed, **spec) for name, spec in sim_candidates.items()}\n"
         "sim_ope[\"truth\"] = [truth[p][u] if p in truth else float(\"nan\") for p, u in zip(sim_ope.policy, "
         "sim_ope.unit)]\n"
         "sim_ope[\"covered\"] = (sim_ope.ci_low <= sim_ope.truth) & (sim_ope.truth <= sim_ope.ci_high)\n"
         "sim_ope.round(3)"),
    code("assert set(sim_ope.unit) == set(PLAN_UNITS)"),
]

PATH = ["delegation-basics", "levels-of-delegation", "handing-over-the-launch", "feedback-sbi",
        "receiving-feedback-well", "missed-deadline"]

path_cells = [
    md("# Prototyping a learning path\n\n"
       "For a persona (role level, focus competencies, weekly time), check a draft learning path against the "
       "library: unknown ids, prerequisite order, level and focus, total minutes and pacing under the weekly "
       "budget. Then preview what the recommender would give three leaders from the demo organization who fit "
       "the persona, next to the path, and find the competency x level (and format) cells of the library with "
       "too few modules. The logic is in `workbench/recommend/paths.py`; run with papermill to change the "
       "parameters below."),
    code("# parameters\n"
         "db_url = None  # SQLAlchemy URL; None = $WORKBENCH_DB or .workbench/workbench.db (built if empty)\n"
         "seed = 0\n"
         "role_level = \"first-time\"\n"
         "focus = [\"delegating\", \"feedback\"]\n"
         "weekly_minutes = 30\n"
         "path = [  # module or scenario ids, in order\n" + "".join(f"    \"{p}\",\n" for p in PATH) + "]\n"
         "assumed_completed = []  # module ids the persona has already done\n"
         "strategy = \"priority\"\n"
         "n_examples = 3\n"
         "gap_threshold = 2  # a competency x level cell with fewer modules is a gap"),
    code(SETUP + "import pandas as pd\n\n"
         "from workbench.content import Library\nfrom workbench.demo import ensure_demo\n"
         "from workbench.services.plans import leader_context\nfrom workbench.recommend import figures, paths\n"
         "from workbench.store import repo\n\n"
         "library = Library.load()\npersona = paths.Persona(role_level, tuple(focus), weekly_minutes)\npersona"),
    md("## The path"),
    code("report = paths.validate_path(library, persona, path, assumed_completed=assumed_completed)\n"
         "pd.Series(report.summary()).to_frame(\"path\")"),
    code("report.table()"),
    code("report.issues_table()"),
    code("assert report.ok and report.week_minutes().sum() == report.total_minutes  # valid, and every minute paced"),
    code("figures.pacing_figure(report)"),
    md("For comparison, a draft with the usual mistakes: a module before its prerequisite, a typo, a repeat and "
       "content for another level."),
    code("draft = paths.validate_path(library, persona, [\"levels-of-delegation\", \"delegation-basics\", "
         "\"feedbak-sbi\",\n"
         "                                             \"delegation-basics\", \"leading-a-transformation\"])\n"
         "draft.issues_table()"),
    code("assert not draft.ok and draft.unknown_ids == (\"feedbak-sbi\",)"),
    md("## What the recommender would give leaders like this\n\nThree leaders of the persona's level from the "
       "demo organization: the one who most needs the focus competencies, a typical one and the one who needs "
       "them least."),
    code("engine = ensure_demo(db_url, library)\n"
         "contexts = [leader_context(engine, library, leader_id) for leader_id in repo.leaders_frame(engine).leader_id]\n"
         "examples = paths.example_leaders(contexts, library, persona, n_examples)\n"
         "[c.leader_id for c in examples]"),
    code("preview = paths.preview_recommendations(library, report, examples, strategy, seed=seed)\n"
         "preview[[\"leader_id\", \"focus_need\", \"rank\", \"module_id\", \"competency\", \"minutes\", \"in_path\", "
         "\"reason\"]]"),
    code("paths.side_by_side(report, preview)"),
    code("assert preview.leader_id.nunique() == n_examples"),
    md("## Content gaps"),
    code("gaps = paths.content_gaps(library, gap_threshold)\ngaps[gaps.gap]"),
    code("assert len(gaps) == len(library.competencies) * 3 and gaps.n_modules.sum() == len(library.modules)"),
    code("figures.content_gap_figure(gaps)"),
    code("figures.content_gap_figure(paths.content_gaps(library, 1, by=(\"level\", \"format\")))"),
]


def write(cells: list, name: str) -> None:
    nb = nbf.v4.new_notebook(cells=cells)
    nb.cells[1].metadata["tags"] = ["parameters"]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = ROOT / "notebooks" / name
    nbf.write(nb, path)
    print("wrote", path)


write(tune_cells, "tune_recommender.ipynb")
write(path_cells, "author_paths.ipynb")
