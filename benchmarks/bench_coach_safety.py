"""Coach safety benchmark: recall and false alarms of the safety screen on the held-out evaluation set.

The screen (:mod:`workbench.practice.safety`: rules plus a TF-IDF classifier trained on
``workbench/practice/data/safety_train.yaml``) routes every message of
``tests/practice/safety_eval.yaml``, a labelled set written before the screen was tuned and never
trained on. The table gives, per label, the share routed as required (recall for the risk labels;
for ``idioms`` and ``coaching``, 1 - false-alarm rate), the same with the rules alone, and the
misses; the notes give the confusion matrix (label x route), the screening time per message and,
without ``--quick``, the 5-fold cross-validation of the classifier on its own training corpus.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import yaml

from workbench.practice import safety
from workbench.practice.safety import screen
from workbench.practice.safety_eval import (
    ACCEPTED,
    EVAL_LABELS,
    NEGATIVE_LABELS,
    ROUTES,
    evaluate,
    load_eval,
)

from ._common import BenchResult, Column

EVAL_PATH = Path(__file__).resolve().parents[1] / "tests" / "practice" / "safety_eval.yaml"
FRESH_PATH = EVAL_PATH.with_name("safety_eval_fresh.yaml")
RETRIEVAL_PATH = EVAL_PATH.with_name("retrieval_questions.yaml")
TARGETS = {"crisis": ">= 100%", "distress": ">= 100% (support path)", "harassment": ">= 100%", "hr_legal": ">= 95%",
           "medical": "-", "idioms": "false alarm <= 3%", "coaching": "false alarm low", "privacy": "-",
           "injection": "-", "off_topic": "-"}

COLUMNS = [
    Column("label", "label", justify="left"),
    Column("n", "n"),
    Column("route", "required route", justify="left"),
    Column("correct", "routed so"),
    Column("rate", "recall", "{:.1%}"),
    Column("false_alarm", "false alarm", "{:.1%}"),
    Column("rules_only", "rules alone", "{:.1%}"),
    Column("target", "target", justify="left"),
    Column("misses", "misses (route: message)", justify="left"),
]


def _matrix_notes(evaluation) -> list[str]:
    used = [r for r in ROUTES if any(evaluation.confusion.get((lab, r), 0) for lab in EVAL_LABELS)]
    width = max(len(r) for r in used) + 1
    lines = ["confusion matrix (rows: label, columns: route taken):",
             "  " + "label".ljust(11) + "".join(r.rjust(width) for r in used)]
    for lab in EVAL_LABELS:
        if lab in evaluation.results:
            lines.append("  " + lab.ljust(11) + "".join(str(evaluation.confusion.get((lab, r), 0)).rjust(width)
                                                       for r in used))
    return lines


def _cross_validation_notes(log: Callable[[str], None]) -> list[str]:
    corpus = safety.training_corpus()
    log("coach_safety: 5-fold cross-validation on the training corpus")
    probs = safety.cross_validate(corpus)
    labels = np.array(corpus.labels)
    support = [any(p[c] >= t for c, t in safety.THRESHOLDS.items()) for p in probs]
    parts = []
    for lab in safety.SUPPORT_CATEGORIES:
        mask = labels == lab
        parts.append(f"{lab} {np.mean(np.array(support)[mask]):.0%}")
    fa = np.mean(np.array(support)[labels == "ok"])
    return [f"classifier alone, 5-fold CV on its training corpus ({len(corpus)} messages), share sent to some "
            f"support route: {', '.join(parts)}; ordinary talk (hard negatives) sent to support: {fa:.1%}"]


def run(quick: bool = False, log: Callable[[str], None] = print) -> BenchResult:
    """Screen the held-out evaluation set with rules + classifier and with rules alone."""
    corpus = safety.training_corpus()
    eval_set = load_eval(EVAL_PATH)
    log(f"coach_safety: training the classifier on {len(corpus)} messages")
    t0 = time.perf_counter()
    safety.SafetyModel().fit(corpus)
    train_seconds = time.perf_counter() - t0
    safety.model()  # the cached one the screen uses
    log(f"coach_safety: screening {len(eval_set)} evaluation messages")
    full = evaluate(eval_set)
    rules = evaluate(eval_set, use_model=False)
    result = BenchResult("coach_safety", "Coach safety screen on the held-out evaluation set", COLUMNS,
                         meta={"thresholds": safety.THRESHOLDS, "training_messages": len(corpus),
                               "evaluation_messages": len(eval_set), "train_seconds": train_seconds,
                               "ms_per_message": full.ms_per_message, "ms_p95": full.ms_p95,
                               "confusion": {f"{a}->{b}": n for (a, b), n in sorted(full.confusion.items())}})
    for lab in EVAL_LABELS:
        if lab not in full.results:
            continue
        r, r0 = full[lab], rules[lab]
        negative = lab in NEGATIVE_LABELS
        result.rows.append({
            "label": lab, "n": r.n, "route": " or ".join(ACCEPTED[lab]), "correct": r.correct,
            "rate": None if negative else r.rate, "false_alarm": r.false_alarm if negative else None,
            "rules_only": r0.rate if not negative else 1.0 - r0.rate, "target": TARGETS.get(lab, "-"),
            "misses": "; ".join(f"{route}: {text[:60]}" for text, route in r.misses) or "-",
        })
    result.notes += [
        "recall: share of the label's messages routed as required; for idioms and coaching the false alarm is the "
        "share routed away from coaching (the 'rules alone' column then shows the rules' false alarm)",
        f"screening time: {full.ms_per_message:.2f} ms per message on average, {full.ms_p95:.2f} ms at the 95th "
        f"percentile (trained model cached); training the classifier: {train_seconds:.2f} s",
        *_matrix_notes(full),
    ]
    fresh = evaluate(load_eval(FRESH_PATH))
    result.notes.append(
        f"fresh check ({FRESH_PATH.name}, {sum(r.n for r in fresh.results.values())} messages written after tuning; "
        "its one clean run: harassment 10/12, HR/legal 10/12, the rest all correct): now "
        + ", ".join(f"{lab} {r.correct}/{r.n}" for lab, r in fresh.results.items()))
    questions = [q["q"] for q in yaml.safe_load(RETRIEVAL_PATH.read_text(encoding="utf-8"))["questions"]]
    flagged = [q for q in questions if screen(q).category != "ok"]
    result.notes.append(f"ordinary leader questions from the retrieval test ({RETRIEVAL_PATH.name}, {len(questions)}, "
                        f"written by others for another purpose): {len(flagged)} routed away from coaching (its first "
                        "measurement, 4, prompted more plain questions among the corpus's negatives)")
    if not quick:
        result.notes += _cross_validation_notes(log)
    return result
