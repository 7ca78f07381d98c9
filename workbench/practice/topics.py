"""Which competency a leader is talking about, read from their own words.

*The words.* A text classifier trained on an authored, labelled corpus of leader messages
(``workbench/practice/data/topic_corpus.yaml``: several hundred messages, all eight
competencies, messy phrasing, frontline and office settings): TF-IDF features of words (1-2
grams) and of characters (2-5 grams within words, which copes with typos and word forms) and a
multinomial logistic regression. scikit-learn is imported, and the model trained (well under a
second), on first use only; :func:`default_model` caches it for the process.

*The context.* The words give probabilities p(c). The moment the leader chose and their
development areas (from their profile) tilt them, as multipliers of p(c):

* the moment's first competency x :data:`MOMENT_BOOST` (its others x :data:`MOMENT_BOOST_OTHER`):
  a moment is something the leader said about *this* conversation, so it may decide between
  topics the words leave close, but words that clearly point elsewhere still win;
* the development areas x :data:`AREA_BOOSTS` (1.15, 1.10, 1.05 for the first three): a profile
  is about the leader in general, not about today's problem, so it only breaks near-ties (the top
  two within 15%) and decides messages that carry no topic words at all.

A message without a specific content word ("I want to be a better leader") is *uninformative*:
the reading falls back to the moment's first competency, else the first development area.

*Corrections.* :func:`named_topic` reads which competency a leader names when they correct the
coach ("no, it's more about giving feedback"), by the competency's name or a synonym from
``workbench/practice/data/topic_names.yaml``; :func:`correction` does the same only when the
message is clearly a correction ("it's more about ...", "can we focus on ..."), so that words
like "feedback" in an ordinary answer do not switch the topic.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from .reflection import content_words

DATA = Path(__file__).parent / "data"
CORPUS_PATH = DATA / "topic_corpus.yaml"
NAMES_PATH = DATA / "topic_names.yaml"

MOMENT_BOOST = 1.6
MOMENT_BOOST_OTHER = 1.3
AREA_BOOSTS = (1.15, 1.10, 1.05)
SEED = 0

GENERIC_WORDS = frozenset({
    "better", "best", "good", "great", "improve", "improving", "grow", "growing", "growth", "develop", "development",
    "leader", "leaders", "leadership", "lead", "leading", "manager", "managers", "management", "manage", "managing",
    "boss", "job", "jobs", "work", "working", "role", "career", "skills", "skill", "team", "teams", "people",
    "person", "problem", "problems", "issue", "issues", "hard", "difficult", "general", "generally", "something",
    "anything", "everything", "help", "advice", "today", "lately", "day", "week", "time", "stuff", "way", "ways",
    "hello", "hey", "thanks", "thank", "please", "sure", "okay", "yes", "start", "talk", "chat", "wondering",
    "happened", "happen", "happens", "happening", "situation", "thing", "things", "again", "going", "went",
    "someone", "somebody", "bit", "worse", "bad", "tough", "rough", "weird", "strange",
})
"""Words that say a leader wants to grow but not in what: a message whose content words are all
here ("I just want to be a better leader at work") carries no topic."""


# ------------------------------------------------------------------------------ corpus
@dataclass(frozen=True)
class LabelledMessage:
    """One corpus message and its competency."""

    text: str
    competency: str


def load_corpus(path: Path | str = CORPUS_PATH) -> list[LabelledMessage]:
    """The labelled messages of a topic corpus (``corpus: {competency: [message, ...]}``).

    Raises
    ------
    ValueError
        Naming the file (and the competency) when it is not in that shape or a message is empty.
    """
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise ValueError(f"{path}: cannot read the topic corpus ({e})") from None
    corpus = doc.get("corpus") if isinstance(doc, dict) else None
    if not isinstance(corpus, dict) or not corpus:
        raise ValueError(f"{path}: expected a mapping 'corpus: {{competency: [message, ...]}}'")
    out = []
    for comp, messages in corpus.items():
        if not isinstance(messages, list) or not messages:
            raise ValueError(f"{path}: corpus.{comp} must be a non-empty list of messages")
        for i, m in enumerate(messages):
            if not isinstance(m, str) or not m.strip():
                raise ValueError(f"{path}: corpus.{comp}[{i}] must be a non-empty string")
            out.append(LabelledMessage(" ".join(m.split()), str(comp)))
    return out


def load_names(path: Path | str = NAMES_PATH) -> dict[str, tuple[str, ...]]:
    """Competency -> the phrases leaders use for it (see the data file's header).

    Raises
    ------
    ValueError
        Naming the file when it is not a mapping of competency to a list of phrases.
    """
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise ValueError(f"{path}: cannot read the topic names ({e})") from None
    names = doc.get("names") if isinstance(doc, dict) else None
    if not isinstance(names, dict) or not all(isinstance(v, list) and v for v in names.values()):
        raise ValueError(f"{path}: expected 'names: {{competency: [phrase, ...]}}'")
    return {str(k): tuple(str(p).lower() for p in v) for k, v in names.items()}


# ------------------------------------------------------------------------------ model
class TopicModel:
    """TF-IDF (word 1-2 grams + character 2-5 grams) and multinomial logistic regression.

    Parameters
    ----------
    C:
        Inverse regularization strength of the logistic regression.
    seed:
        Random state of the solver (the fit is deterministic for a given corpus).

    Attributes
    ----------
    classes_ : tuple of str
        The competencies, in the order of the probability columns.
    pipeline_ : sklearn.pipeline.Pipeline
        The fitted features and classifier.
    """

    def __init__(self, C: float = 10.0, seed: int = SEED):
        self.C = C
        self.seed = seed

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> TopicModel:
        """Fit on messages and their competencies; returns self.

        Raises
        ------
        ValueError
            When the lengths differ or fewer than two competencies are present.
        """
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import FeatureUnion, make_pipeline

        if len(texts) != len(labels):
            raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
        if len(set(labels)) < 2:
            raise ValueError("a topic model needs messages of at least two competencies")
        features = FeatureUnion([
            ("words", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, strip_accents="unicode",
                                      token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z']+\b")),
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2,
                                      strip_accents="unicode")),
        ])
        self.pipeline_ = make_pipeline(features, LogisticRegression(C=self.C, max_iter=5000, random_state=self.seed))
        self.pipeline_.fit(list(texts), list(labels))
        self.classes_ = tuple(str(c) for c in self.pipeline_.classes_)
        return self

    @classmethod
    def from_corpus(cls, path: Path | str = CORPUS_PATH, **kw: Any) -> TopicModel:
        corpus = load_corpus(path)
        return cls(**kw).fit([m.text for m in corpus], [m.competency for m in corpus])

    def probabilities(self, text: str) -> dict[str, float]:
        """p(competency | words) for one message."""
        if not hasattr(self, "pipeline_"):
            raise RuntimeError("TopicModel is not fitted; call fit() or use default_model()")
        row = self.pipeline_.predict_proba([text])[0]
        return {c: float(p) for c, p in zip(self.classes_, row, strict=True)}


_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _cached_default() -> TopicModel:
    return TopicModel.from_corpus(CORPUS_PATH)


def default_model() -> TopicModel:
    """The model trained on the shipped corpus: trained on first call, then cached."""
    with _LOCK:
        return _cached_default()


@lru_cache(maxsize=1)
def default_names() -> dict[str, tuple[str, ...]]:
    return load_names(NAMES_PATH)


# ------------------------------------------------------------------------------ reading
@dataclass(frozen=True)
class TopicReading:
    """What the coach heard: the competency, the runner-up to offer, and why.

    ``source`` is ``words`` (the words decided, possibly confirmed by the context),
    ``moment`` (the moment tipped a close call, or the words carried no topic),
    ``development-area`` (the profile broke a near-tie, or the words carried no topic) or
    ``none`` (nothing to go on). ``scores`` are the combined probabilities, best first;
    ``words`` the probabilities from the words alone.
    """

    competency: str | None
    runner_up: str | None
    confidence: float
    source: str
    informative: bool
    scores: Mapping[str, float]
    words: Mapping[str, float]


def informative(text: str) -> bool:
    """Whether ``text`` has a content word that could name a topic (not only generic words)."""
    return any(w.lower() not in GENERIC_WORDS for w in content_words(text))


def context_weights(competencies: Iterable[str], moment_competencies: Sequence[str] = (),
                    development_areas: Sequence[str] = ()) -> dict[str, float]:
    """The multiplier of each competency from the moment and the development areas (see the module docstring)."""
    w = dict.fromkeys(competencies, 1.0)
    for i, c in enumerate(moment_competencies):
        if c in w:
            w[c] *= MOMENT_BOOST if i == 0 else MOMENT_BOOST_OTHER
    for i, c in enumerate(development_areas[:len(AREA_BOOSTS)]):
        if c in w:
            w[c] *= AREA_BOOSTS[i]
    return w


def read_topic(
    text: str,
    model: TopicModel,
    competencies: Sequence[str] | None = None,
    moment_competencies: Sequence[str] = (),
    development_areas: Sequence[str] = (),
) -> TopicReading:
    """Combine the words' probabilities with the moment and the development areas.

    Parameters
    ----------
    text:
        The leader's words (goal, or goal and reality together).
    model:
        A fitted :class:`TopicModel`.
    competencies:
        The competencies to choose from (the library's); the model's classes when None. Ones the
        model does not know get no probability from the words.
    moment_competencies:
        The competencies of the moment the leader is in, most relevant first.
    development_areas:
        The leader's development areas, most pressing first.
    """
    comps = list(competencies) if competencies is not None else list(model.classes_)
    moment_competencies = [c for c in moment_competencies if c in comps]
    development_areas = [c for c in development_areas if c in comps]
    if not comps:
        return TopicReading(None, None, 0.0, "none", False, {}, {})
    if not informative(text):
        fallback = ([(c, "moment") for c in moment_competencies[:1]] + [(c, "development-area") for c in development_areas]
                    + [(None, "none")])[0]
        comp, source = fallback
        runner = next((c for c in [*moment_competencies, *development_areas] if c != comp), None)
        return TopicReading(comp, runner, 0.0, source, False, {}, {})
    p = model.probabilities(text)
    words = {c: p.get(c, 0.0) for c in comps}
    total = sum(words.values()) or 1.0
    words = {c: v / total for c, v in words.items()}
    by_words = max(comps, key=lambda c: (words[c], -comps.index(c)))
    with_moment = {c: words[c] * w for c, w in context_weights(comps, moment_competencies).items()}
    weights = context_weights(comps, moment_competencies, development_areas)
    combined = {c: words[c] * weights[c] for c in comps}
    z = sum(combined.values()) or 1.0
    scores = dict(sorted(((c, v / z) for c, v in combined.items()), key=lambda t: -t[1]))
    ranked = list(scores)
    best = ranked[0]
    after_moment = max(comps, key=lambda c: (with_moment[c], -comps.index(c)))
    if best == by_words:
        source = "words"
    elif best == after_moment:
        source = "moment"
    else:
        source = "development-area"
    return TopicReading(best, ranked[1] if len(ranked) > 1 else None, scores[best], source, True, scores,
                        dict(sorted(words.items(), key=lambda t: -t[1])))


# ------------------------------------------------------------------------------ corrections
_NEGATED = re.compile(r"(?:\bnot|\bisn'?t|\bno|\bthan|\brather than|\binstead of|\bless)\s+(?:about\s+|really\s+|so\s+much\s+|"
                      r"a\s+|an\s+|the\s+|just\s+)*$")
_CUE = re.compile(
    r"\b(?:more (?:about|of an?|like|to do with)|(?:really|actually|mainly|mostly|rather|more) about|"
    r"it'?s about|it is about|this is about|that'?s about|its about|the (?:topic|question|issue) is|"
    r"(?:let'?s|can we|could we|i'?d (?:like|rather) to|i want to|rather) (?:focus on|talk about|look at|work on)|"
    r"switch (?:the )?topics? to|change the topic to|call it|"
    r"it'?s (?:really |more |actually |mainly )?(?:a |an )?\w+(?: \w+)? (?:thing|issue|question|problem|topic))",
    re.IGNORECASE)


def _pattern(phrase: str) -> str:
    star = phrase.endswith("*")
    body = re.escape(phrase.rstrip("*")).replace(r"\ ", r"\s+")
    return r"\b" + body + (r"\w*" if star else r"\b")


def mentions(text: str, names: Mapping[str, Sequence[str]] | None = None) -> list[tuple[int, str]]:
    """(position, competency) for every competency named in ``text`` and not negated
    ("not conflict", "rather than feedback"), in order of appearance."""
    names = names if names is not None else default_names()
    low = text.lower()
    found: dict[int, tuple[int, str]] = {}
    for comp, phrases in names.items():
        for phrase in sorted(phrases, key=len, reverse=True):
            for m in re.finditer(_pattern(phrase), low):
                if _NEGATED.search(low[max(0, m.start() - 30):m.start()]):
                    continue
                found.setdefault(m.start(), (m.start(), comp))
    return sorted(found.values())


def named_topic(text: str, names: Mapping[str, Sequence[str]] | None = None) -> str | None:
    """The competency a leader names in ``text`` (the first one not negated), or None."""
    found = mentions(text, names)
    return found[0][1] if found else None


def correction(text: str, names: Mapping[str, Sequence[str]] | None = None, within: int | None = None) -> str | None:
    """The competency named after a correction cue ("it's more about X", "can we focus on X"), else None.

    With ``within``, only a cue starting in the first ``within`` characters counts (a correction
    leads its message; "I'll tell them it's about trust" is a step, not a correction).
    """
    for cue in _CUE.finditer(text):
        if within is not None and cue.start() > within:
            break
        after = text[cue.start():]
        found = mentions(after, names)
        if found and found[0][0] <= len(cue.group(0)) + 40:
            return found[0][1]
    return None
