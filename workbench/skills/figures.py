"""Figures of the item analysis: thin plotly layers over the tables :mod:`workbench.skills.analysis`
computes (information curves, item fit, DIF). Nothing here computes a statistic of its own."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .analysis import dif_curves, item_information, test_information


def information_figure(
    source: Any,
    theta_grid: Sequence[float] | np.ndarray | None = None,
    test_info: pd.DataFrame | None = None,
    show_items: bool = True,
) -> go.Figure:
    """Item and test information curves, one subplot per dimension.

    Parameters
    ----------
    source : ItemParams, GradedResponseModel or pandas.DataFrame
        Parameters (the tables are computed on ``theta_grid``) or an :func:`item_information` table.
    theta_grid : array-like, optional
        Used with ItemParams only.
    test_info : pandas.DataFrame, optional
        A :func:`test_information` table; default the sum of the item curves per dimension.
    show_items : bool
        Draw the item curves (thin) as well as the test curve (thick).
    """
    if not isinstance(source, pd.DataFrame):
        items = item_information(source, theta_grid)
        test_info = test_information(source, theta_grid) if test_info is None else test_info
    else:
        items = source
    if test_info is None:
        test_info = items.groupby(["dimension", "theta"], sort=False, as_index=False)["information"].sum()
    dims = list(dict.fromkeys(items["dimension"]))
    fig = make_subplots(rows=len(dims), cols=1, shared_xaxes=True, subplot_titles=[str(d) for d in dims],
                        vertical_spacing=min(0.12, 0.3 / max(len(dims), 1)))
    for i, dim in enumerate(dims, start=1):
        if show_items:
            for iid, part in items[items["dimension"] == dim].groupby("item_id", sort=False):
                fig.add_trace(go.Scatter(x=part["theta"], y=part["information"], mode="lines", name=str(iid),
                                         legendgroup=str(dim), legendgrouptitle_text=str(dim),
                                         line={"width": 1}, opacity=0.6), row=i, col=1)
        tot = test_info[test_info["dimension"] == dim]
        fig.add_trace(go.Scatter(x=tot["theta"], y=tot["information"], mode="lines", name=f"{dim}: test",
                                 legendgroup=str(dim), line={"width": 3, "color": "black"}), row=i, col=1)
        fig.update_yaxes(title_text="information", row=i, col=1)
    fig.update_xaxes(title_text="theta", row=len(dims), col=1)
    fig.update_layout(title="Item and test information", height=max(320, 280 * len(dims)))
    return fig


def item_fit_figure(fit: pd.DataFrame, alpha: float = 0.05) -> go.Figure:
    """Posterior predictive p-values per item, misfitting items highlighted, with the alpha band."""
    colors = np.where(fit["misfit"], "crimson", "steelblue")
    fig = go.Figure(go.Scatter(x=fit["item_id"], y=fit["p_value"], mode="markers", marker={"color": colors, "size": 9},
                               customdata=np.stack([fit["dimension"], fit["n"]], axis=1),
                               hovertemplate="%{x} (%{customdata[0]}, n=%{customdata[1]}): p=%{y:.3f}<extra></extra>"))
    fig.add_hrect(y0=alpha, y1=1 - alpha, fillcolor="lightgrey", opacity=0.3, line_width=0)
    fig.update_layout(title=f"Item fit: posterior predictive p-values ({fit.attrs.get('statistic', 'p_value')})",
                      xaxis_title="item", yaxis_title="p-value", yaxis_range=[0, 1])
    return fig


def dif_figure(table: pd.DataFrame, items: Sequence[str] | None = None,
               theta_grid: Sequence[float] | np.ndarray | None = None) -> go.Figure:
    """Expected item score curves per group, one subplot per item.

    Parameters
    ----------
    table : pandas.DataFrame
        A :func:`dif` result.
    items : sequence of str, optional
        Items to draw; default the flagged ones, or the three largest likelihood ratios if none is.
    theta_grid : array-like, optional
        Default 81 points from -4 to 4.
    """
    curves = dif_curves(table, items, theta_grid)
    ref, focal = table.attrs.get("groups", ("reference", "focal"))
    rows = table.set_index("item_id").loc[list(dict.fromkeys(curves["item_id"]))]
    n = len(rows)
    cols = min(3, max(n, 1))
    nrows = max(1, -(-n // cols))
    titles = [f"{iid} (adj. p={r.p_adj:.2g}, ESD={r.esd:+.2f})" for iid, r in rows.iterrows()]
    fig = make_subplots(rows=nrows, cols=cols, subplot_titles=titles or None)
    for i, iid in enumerate(rows.index):
        rr, cc = i // cols + 1, i % cols + 1
        for label, color in ((ref, "steelblue"), (focal, "darkorange")):
            part = curves[(curves["item_id"] == iid) & (curves["group"] == label)]
            fig.add_trace(go.Scatter(x=part["theta"], y=part["expected_score"], mode="lines",
                                     name=str(label), legendgroup=str(label), showlegend=i == 0,
                                     line={"color": color}), row=rr, col=cc)
        fig.update_xaxes(title_text="theta", row=rr, col=cc)
        fig.update_yaxes(title_text="expected score", row=rr, col=cc)
    fig.update_layout(title="DIF: expected item score by group", height=max(320, 300 * nrows))
    return fig
