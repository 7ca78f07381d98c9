"""Reading and writing the parameters JSON contract (``workbench calibrate`` output).

:func:`params_from_json` is the one reader and :func:`params_to_json` the one writer; the fitted
:class:`~workbench.skills.model.GradedResponseModel` holds what the reader returns as its learned
attributes (``items_``, ``correlation_``, ``rater_effects_``, ``diagnostics_``, ``reliability_``,
``a_sd_``, ``b_sd_``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..limits import PARAMS_FILE, InputTooLarge
from .data import DataError
from .grm import ItemParams

#: Largest discrimination and threshold magnitude a parameters file may hold (fitted ones are within +-10).
PARAM_BOUND = 1e3


def rater_shifts(effects: dict[str, Any] | None) -> dict[str, float]:
    """``{type: mean}`` from rater effects in the contract's shape (plain numbers pass through)."""
    return {str(k): float(v["mean"] if isinstance(v, dict) else v) for k, v in (effects or {}).items()}


def _effects_doc(effects: dict[str, Any] | None) -> dict[str, dict[str, float | None]]:
    out = {}
    for k, v in (effects or {}).items():
        mean, sd = (v.get("mean"), v.get("sd")) if isinstance(v, dict) else (v, None)
        out[str(k)] = {"mean": float(mean), "sd": None if sd is None else float(sd)}
    return out


def params_from_json(doc: dict[str, Any], source: str = "parameters") -> dict[str, Any]:
    """The contract's fields, checked: ``items`` (:class:`ItemParams`), ``correlation`` (D, D),
    ``rater_effects`` in the contract's one shape ``{rater type: {"mean": float, "sd": float or None}}``,
    ``diagnostics``, ``reliability``, and the posterior SDs ``a_sd`` (J,) and ``b_sd`` (J, Kmax-1),
    NaN where the document has none. Raises ``DataError`` naming ``source`` and what is wrong."""
    if not isinstance(doc, dict):
        raise DataError(f"{source}: expected a JSON object with 'model', 'dimensions' and 'items'")
    if doc.get("model") != "grm":
        raise DataError(f"{source}: 'model' must be 'grm'")
    try:
        dims = tuple(doc["dimensions"])
        items = doc["items"]
        J = len(items)
        Kmax = max(len(it["categories"]) for it in items)
        b = np.full((J, Kmax - 1), np.nan)
        for j, it in enumerate(items):
            cats = list(it["categories"])
            if cats != list(range(cats[0], cats[0] + len(cats))) or len(cats) < 2:
                raise DataError(f"{source}: item {it['item_id']}: categories must be 2 or more consecutive integers")
            bm = [float(x) for x in it["b"]["mean"]]
            if not all(np.isfinite(x) and abs(x) <= PARAM_BOUND for x in bm):
                raise DataError(f"{source}: item {it['item_id']}: thresholds must be finite numbers within "
                                f"+-{PARAM_BOUND:g}")
            if len(bm) != len(cats) - 1:
                raise DataError(f"{source}: item {it['item_id']}: {len(cats)} categories need {len(cats) - 1} thresholds")
            if any(np.diff(bm) <= 0):
                raise DataError(f"{source}: item {it['item_id']}: thresholds must increase")
            b[j, : len(bm)] = bm
            if it["dimension"] not in dims:
                raise DataError(f"{source}: item {it['item_id']}: unknown dimension {it['dimension']!r}")
        p = ItemParams(
            item_ids=tuple(it["item_id"] for it in items),
            dimension=np.array([dims.index(it["dimension"]) for it in items]),
            dimensions=dims,
            a=np.array([float(it["a"]["mean"]) for it in items]),
            b=b,
            n_categories=np.array([len(it["categories"]) for it in items]),
            first_category=np.array([int(it["categories"][0]) for it in items]),
            reverse=np.array([bool(it.get("reverse", False)) for it in items]),
        )
    except (KeyError, TypeError, IndexError, ValueError) as exc:
        if isinstance(exc, DataError):
            raise
        raise DataError(f"{source}: not a parameters file ({type(exc).__name__}: {exc})") from None
    if (p.a <= 0).any():
        raise DataError(f"{source}: discriminations must be positive")
    bad = np.flatnonzero(~np.isfinite(p.a) | (p.a > PARAM_BOUND))
    if bad.size:
        raise DataError(f"{source}: item {p.item_ids[bad[0]]}: discrimination must be a finite number up to {PARAM_BOUND:g}")
    corr = np.asarray(doc.get("correlation") or np.eye(len(dims)), dtype=float)
    if corr.shape != (len(dims), len(dims)):
        raise DataError(f"{source}: correlation must be {len(dims)} x {len(dims)}")
    try:
        effects = _effects_doc(doc.get("rater_effects"))
    except (TypeError, ValueError, AttributeError):
        raise DataError(f"{source}: rater_effects must map a rater type to {{\"mean\": number, \"sd\": number}}") from None
    a_sd = np.array([_sd(it["a"].get("sd")) for it in items])
    b_sd = np.full(p.b.shape, np.nan)
    for j, it in enumerate(items):
        sds = it["b"].get("sd") or []
        b_sd[j, : len(sds)] = [_sd(x) for x in sds]
    return {"items": p, "correlation": corr, "rater_effects": effects, "diagnostics": dict(doc.get("diagnostics") or {}),
            "reliability": dict(doc.get("reliability") or {}), "a_sd": a_sd, "b_sd": b_sd}


def _sd(x) -> float:
    return float("nan") if x is None else float(x)


def load_params(path: str | Path) -> dict[str, Any]:
    """:func:`params_from_json` of a file (size-checked; errors name the file)."""
    path = Path(path)
    try:
        PARAMS_FILE.check(path)
    except InputTooLarge as exc:
        raise DataError(str(exc)) from None
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    except UnicodeDecodeError:
        raise DataError(f"{path}: not UTF-8 text") from None
    return params_from_json(doc, str(path))


def params_to_json(items: ItemParams, correlation: np.ndarray | None = None,
                   rater_effects: dict[str, Any] | None = None, diagnostics: dict | None = None,
                   reliability: dict[str, float] | None = None, a_sd: np.ndarray | None = None,
                   b_sd: np.ndarray | None = None) -> dict[str, Any]:
    """The parameters JSON contract's document: the one writer (calibrations and generated values).

    ``rater_effects`` may be ``{type: {"mean", "sd"}}`` or ``{type: shift}``; it is written in the
    contract's one shape. Without ``a_sd``/``b_sd`` (point values, e.g. generating ones) the SDs
    are ``null``.
    """
    def sd(arr, *idx):
        if arr is None:
            return None
        v = float(np.asarray(arr)[idx])
        return None if np.isnan(v) else v

    out_items = []
    for j, iid in enumerate(items.item_ids):
        K, first = int(items.n_categories[j]), int(items.first_category[j])
        out_items.append({
            "item_id": iid, "dimension": items.dimensions[items.dimension[j]],
            "categories": list(range(first, first + K)), "reverse": bool(items.reverse[j]),
            "a": {"mean": float(items.a[j]), "sd": sd(a_sd, j)},
            "b": {"mean": [float(x) for x in items.thresholds(j)], "sd": [sd(b_sd, j, k) for k in range(K - 1)]},
        })
    D = len(items.dimensions)
    doc = {"model": "grm", "dimensions": list(items.dimensions), "items": out_items,
           "correlation": (np.eye(D) if correlation is None else np.asarray(correlation)).tolist(),
           "diagnostics": diagnostics or {}, "reliability": {k: float(v) for k, v in (reliability or {}).items()}}
    if rater_effects:
        doc["rater_effects"] = _effects_doc(rater_effects)
    return doc
