"""Personalized recommendations: strategies, constraints, moment packs, exploration, OPE.

Pure functions and frozen dataclasses over the content :class:`~workbench.content.Library`
and plain leader data (:class:`LeaderContext`); nothing here reads or writes the store.
"""

from .catalog import Catalog, ContextBatch, catalog_for
from .context import LeaderContext
from .effectiveness import EffectivenessModel
from .engine import (
    MAX_ACTIVE,
    MAX_MODULE_MINUTES,
    BatchSelection,
    Recommendation,
    choice_probabilities,
    recommend,
    recommend_batch,
    select_batch,
)
from .moment_pack import MomentPack, PackItem, moment_pack
from .strategies import STRATEGIES, ScoredCandidate, Strategy, get_strategy

__all__ = [
    "MAX_ACTIVE", "MAX_MODULE_MINUTES", "STRATEGIES", "BatchSelection", "Catalog", "ContextBatch",
    "EffectivenessModel", "LeaderContext", "MomentPack", "PackItem", "Recommendation", "ScoredCandidate",
    "Strategy", "catalog_for", "choice_probabilities", "get_strategy", "moment_pack", "recommend",
    "recommend_batch", "select_batch",
]
