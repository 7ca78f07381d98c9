"""Personalized recommendations: strategies, constraints, moment packs, exploration, OPE.

Pure functions and frozen dataclasses over the content :class:`~workbench.content.Library`
and plain leader data (:class:`LeaderContext`); nothing here reads or writes the store.

| module | what |
| --- | --- |
| ``context`` | :class:`LeaderContext`, the validated input about one leader |
| ``catalog`` | the library's modules and organization as arrays (:func:`catalog_for`), contexts as arrays |
| ``needs`` | development need: gap to the role's expectation scaled by certainty |
| ``strategies`` | gap, priority, thompson, moment, popular, random behind one :class:`Strategy` interface |
| ``effectiveness`` | :class:`EffectivenessModel`, Beta/Normal posteriors of module effectiveness |
| ``engine`` | :func:`recommend`, :func:`recommend_batch`, constraints, propensities, :func:`choice_probabilities` |
| ``moment_pack`` | :func:`moment_pack` |
| ``explore`` | :func:`search_library`, :func:`explore_next` |
| ``ope`` | off-policy evaluation: IPS, SNIPS, DR with intervals (import ``workbench.recommend.ope``) |
| ``synthetic`` | a bandit with exactly known policy values, for testing OPE |
| ``tuning`` | strategy comparison and weight tuning on simulated or real leaders (``notebooks/tune_recommender.ipynb``) |
| ``paths`` | learning-path prototyping, recommendation previews and content-gap reports (``notebooks/author_paths.ipynb``) |
"""

from .catalog import Catalog, ContextBatch, catalog_for
from .context import LeaderContext
from .effectiveness import EffectivenessModel
from .engine import (
    MAX_ACTIVE,
    MAX_MODULE_MINUTES,
    BatchSelection,
    EngineOptions,
    Recommendation,
    choice_probabilities,
    recommend,
    recommend_batch,
    select_batch,
)
from .explore import SearchResult, Suggestion, explore_next, search_library
from .moment_pack import MomentPack, PackItem, moment_pack
from .strategies import STRATEGIES, ScoredCandidate, Strategy, get_strategy

__all__ = [
    "MAX_ACTIVE", "MAX_MODULE_MINUTES", "STRATEGIES", "BatchSelection", "Catalog", "ContextBatch",
    "EffectivenessModel", "EngineOptions", "LeaderContext", "MomentPack", "PackItem", "Recommendation", "ScoredCandidate",
    "Strategy", "catalog_for", "choice_probabilities", "get_strategy", "moment_pack", "recommend",
    "recommend_batch", "select_batch", "SearchResult", "Suggestion", "explore_next", "search_library",
]
