"""plotly's chart code: a loader under ``workbench serve``, plotly's own bundle anywhere else."""

from __future__ import annotations

import plotly.graph_objects as go
import pytest

from workbench.apps import assets, common
from workbench.apps._kernel import KERNEL_KEY_ENV


@pytest.fixture
def fresh_chart_class(monkeypatch):
    """Charts made as in a new kernel (the widget class is made once per process)."""
    monkeypatch.setattr(common, "_chart_widget_class", None)
    yield
    common._chart_widget_class = None


def test_the_bundle_route_names_plotlys_version_and_the_file_exists():
    route = assets.bundle_route()
    assert route == f"voila/workbench-assets/plotly-{assets.plotly_version()}/widgetbundle.js"
    assert (assets.bundle_dir() / assets.BUNDLE).stat().st_size > 1_000_000
    loader = assets.loader()
    assert route in loader and "http" not in loader and "export default" in loader


def test_a_chart_in_a_served_kernel_carries_the_loader_not_the_bundle(fresh_chart_class, monkeypatch):
    monkeypatch.setenv(KERNEL_KEY_ENV, "k")
    chart = common.figure_widget(go.Figure(go.Bar(x=[1, 2], y=[3, 4])))
    try:
        assert chart._esm == assets.loader() and len(chart._esm) < 2_000
        assert chart.data[0].type == "bar" and chart._config["responsive"] is True
    finally:
        chart.close()


def test_a_chart_anywhere_else_keeps_plotlys_own_code(fresh_chart_class, monkeypatch):
    monkeypatch.delenv(KERNEL_KEY_ENV, raising=False)
    chart = common.figure_widget(go.Figure())
    try:
        assert len(chart._esm) > 1_000_000 and "workbench-assets" not in chart._esm
    finally:
        chart.close()
