"""The psychometrician's workflow on stored data: the bridge from the store and the content
library to the skill model (which itself knows neither). Used by
``notebooks/calibrate_assessment.ipynb``."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from ..content import Library
from ..skills.data import ResponseData, validate_responses
from ..store import repo


def items_csv_frame(library: Library) -> pd.DataFrame:
    """The library's item bank as an items CSV frame (dimensions in framework order)."""
    rows = [{"item_id": i.id, "dimension": i.competency, "reverse": i.reverse,
             "min_category": i.categories[0], "max_category": i.categories[-1]}
            for c in library.competency_ids for i in library.items_for(c)]
    return pd.DataFrame(rows)


def assessment_data(engine: Engine, library: Library, organization_id: str | None = None) -> ResponseData:
    """Every submitted answer sheet in the store, validated against the item bank."""
    wide = repo.responses_wide(engine, organization_id)
    items = items_csv_frame(library)
    order = [i for i in items.item_id if i in wide.columns]
    wide = wide[["respondent_id", "rater"] + order]
    return validate_responses(wide, items[items.item_id.isin(order)].reset_index(drop=True),
                              source="store", warn=False)


def leader_groups(engine: Engine, data: ResponseData, column: str = "first_time") -> np.ndarray:
    """A leader attribute per answer sheet (e.g. first-time vs experienced, for DIF)."""
    leaders = repo.leaders_frame(engine).set_index("leader_id")[column]
    ids = np.asarray(data.respondent_ids)[data.person]
    return leaders.reindex(ids).to_numpy()


def publish_calibration(engine: Engine, library: Library, model, organization_id: str | None = None,
                        published_by: str | None = None, note: str = ""):
    """Publish a :class:`~workbench.skills.model.GradedResponseModel` fitted on :func:`assessment_data`
    of this store: store it with its
    provenance (the store's data window, method, diagnostics, who and when), make it the active one
    and rescore every leader, in one transaction (:func:`workbench.services.calibration.publish`).

    Returns
    -------
    workbench.services.calibration.Published
    """
    from .calibration import data_window, publish

    doc = model.to_json()
    prov = {"source": "the store's submitted answer sheets (workbench.services.psychometrics.assessment_data)",
            "data_window": data_window(engine, organization_id), "note": note}
    return publish(engine, library, doc, method=model.method, provenance=prov, published_by=published_by,
                   organization_id=organization_id)
