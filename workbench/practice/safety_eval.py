"""Measuring the safety screen on a labelled evaluation set: recall, false alarms, confusion.

The evaluation set is a YAML mapping ``{label: [message, ...]}`` kept apart from the training
corpus (the shipped one is ``tests/practice/safety_eval.yaml``). Each label names the route its
messages must take (:data:`ACCEPTED`); ``idioms`` and ``coaching`` must stay ``ok``, so for them
the share routed elsewhere is the false-alarm rate.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import yaml

from .safety import CATEGORIES, Corpus, load_corpus, screen

#: The routes each evaluation label accepts.
ACCEPTED: dict[str, tuple[str, ...]] = {
    "crisis": ("crisis",),
    "distress": ("crisis", "distress"),  # the support path, either tier
    "harassment": ("harassment",),
    "hr_legal": ("hr_legal",),
    "medical": ("medical",),
    "idioms": ("ok",),
    "coaching": ("ok",),
    "privacy": ("privacy",),
    "injection": ("injection",),
    "off_topic": ("off_topic",),
}
EVAL_LABELS = tuple(ACCEPTED)
NEGATIVE_LABELS = ("idioms", "coaching")
ROUTES = tuple(c for c in CATEGORIES if c != "empty")


@dataclass(frozen=True)
class LabelResult:
    """How one label's messages were routed."""

    label: str
    n: int
    correct: int
    misses: tuple[tuple[str, str], ...]  # (message, route taken)

    @property
    def rate(self) -> float:
        """Share routed as required: recall for risk labels, 1 - false-alarm rate for negatives."""
        return self.correct / self.n if self.n else float("nan")

    @property
    def false_alarm(self) -> float:
        """Share of a negative label (idioms, coaching) routed away from coaching."""
        return 1.0 - self.rate


@dataclass(frozen=True)
class SafetyEvaluation:
    """Per-label results, the confusion counts (label, route) and the screening time."""

    results: dict[str, LabelResult]
    confusion: dict[tuple[str, str], int]
    ms_per_message: float
    ms_p95: float

    def __getitem__(self, label: str) -> LabelResult:
        return self.results[label]

    def matrix(self) -> list[list[int]]:
        """The confusion matrix: one row per label present (in :data:`EVAL_LABELS` order), one
        column per route (:data:`ROUTES`)."""
        return [[self.confusion.get((lab, r), 0) for r in ROUTES] for lab in EVAL_LABELS if lab in self.results]


def load_eval(path: str | Path) -> Corpus:
    """An evaluation set from YAML; a clear error naming the file for anything malformed."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: cannot read the evaluation set ({exc})") from exc
    return load_corpus(data, str(path), EVAL_LABELS)


def evaluate(corpus: Corpus, use_model: bool = True) -> SafetyEvaluation:
    """Screen every message of ``corpus`` and compare its route with :data:`ACCEPTED`."""
    routed: list[str] = []
    times: list[float] = []
    for text in corpus.texts:
        t0 = time.perf_counter()
        routed.append(screen(text, use_model=use_model).category)
        times.append((time.perf_counter() - t0) * 1000)
    confusion = Counter(zip(corpus.labels, routed, strict=True))
    results = {}
    for label in dict.fromkeys(corpus.labels):
        pairs = [(t, r) for t, lab, r in zip(corpus.texts, corpus.labels, routed, strict=True) if lab == label]
        ok = [r in ACCEPTED[label] for _, r in pairs]
        results[label] = LabelResult(label, len(pairs), sum(ok),
                                     tuple(p for p, good in zip(pairs, ok, strict=True) if not good))
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] if ordered else float("nan")
    return SafetyEvaluation(results, dict(confusion), sum(times) / max(len(times), 1), p95)
