"""The apps' shared pieces: tabs that show a placeholder and rebuild only when changed, tables and
charts with a text alternative, the stylesheet and page template served with every page."""

from __future__ import annotations

import html
from datetime import UTC, datetime

import ipywidgets as w
import pandas as pd
import plotly.graph_objects as go
import pytest

from workbench.apps.common import (
    CHART_CONFIG,
    STYLESHEET,
    LazyTabs,
    chart,
    figure_table,
    loading,
    table_html,
)


def _html(widget) -> str:
    out = [widget.value] if isinstance(getattr(widget, "value", None), str) else []
    for c in getattr(widget, "children", ()):
        out.append(_html(c))
    return "\n".join(out)


def test_a_tab_shows_a_placeholder_while_it_is_built():
    seen = []
    tabs = LazyTabs({"One": lambda: [w.HTML("one")], "Slow part": lambda: seen.append(
        [c._dom_classes for c in tabs.boxes["Slow part"].children]) or [w.HTML("done")]})
    tabs.open("Slow part")
    assert seen == [[("wb-section-loading",)]]  # what the browser had while the builder ran
    assert _html(tabs.boxes["Slow part"]) == "done"
    assert "Loading Slow part" in loading("Slow part").value and "<progress" in loading("Slow part").value


def test_a_versioned_tab_is_rebuilt_only_when_its_version_changes():
    version, builds = [1], []

    def build():
        builds.append(version[0])
        return [w.HTML(f"v{version[0]}")]

    tabs = LazyTabs({"Home": lambda: [w.HTML("home")], "Progress": build}, live={"Progress"},
                    versions={"Progress": lambda: version[0]})
    tabs.open("Progress")
    tabs.open("Home")
    tabs.open("Progress")
    assert builds == [1]  # opened twice, nothing changed: computed once
    version[0] = 2
    tabs.open("Progress")
    assert builds == [1, 2] and _html(tabs.boxes["Progress"]) == "v2"
    tabs.open("Progress")
    assert builds == [1, 2]


def test_a_live_tab_without_a_version_and_a_failing_version_are_rebuilt_each_time():
    builds = []

    def broken():
        raise RuntimeError("no store")

    tabs = LazyTabs({"Home": lambda: builds.append("home") or [w.HTML("h")],
                     "P": lambda: builds.append("p") or [w.HTML("p")]},
                    live={"Home"}, versions={"P": broken})
    tabs.open("Home")
    tabs.open("P")
    tabs.open("P")
    assert builds == ["home", "home", "p", "p"]


def test_a_failing_section_shows_its_error_and_is_tried_again():
    calls = []

    def build():
        calls.append(1)
        raise ValueError("boom <b>")

    tabs = LazyTabs({"Home": lambda: [w.HTML("h")], "Bad": build}, versions={"Bad": lambda: 1})
    box = tabs.open("Bad")
    assert "wb-section-error" in box.children[0]._dom_classes and "boom &lt;b&gt;" in box.children[0].value
    tabs.open("Bad")
    assert len(calls) == 2  # an error is never kept as the section's content
    assert "wb-tabs" in tabs.tabs._dom_classes


def test_table_html_escapes_and_marks_numbers():
    frame = pd.DataFrame({"Name": ["<Ann>", "Bo & Co"], "Minutes": [12.4, None]})
    out = table_html(frame, caption="Roster", numeric=("Minutes",), formats={"Minutes": "{:.0f}"})
    assert "&lt;Ann&gt;" in out and "Bo &amp; Co" in out and "<Ann>" not in out
    assert "<caption>Roster</caption>" in out and 'class="wb-table"' in out
    # the box that scrolls on a phone takes keyboard focus and is named by the caption
    assert out.startswith("<div class='wb-table-scroll' tabindex='0' role='region' aria-label='Roster'>")
    assert ">12<" in out and ">-<" in out  # formatted, missing shown as a dash
    assert out.count("wb-num") == 3 and "<style" not in out  # the heading and both cells of Minutes
    assert out.count('scope="col"') == 2 and "<th" in out


def test_table_html_markup_columns_and_row_class():
    frame = pd.DataFrame({"Who": ["<Ann>", "Bo"], "Link": ["https://x.example/?a=1&b=2", ""]})
    out = table_html(frame, row_class="wb-person", markup={
        "Link": lambda v: f"<button data-copy='{html.escape(v)}'>Copy</button>" if v else "<i>closed</i>"})
    assert out.count('<tr class="wb-person">') == 2 and "&lt;Ann&gt;" in out
    assert "<button data-copy='https://x.example/?a=1&amp;b=2'>Copy</button>" in out  # made by the app, not escaped
    assert "<i>closed</i>" in out and "<caption>" not in out


def test_figure_table_reads_bars_points_with_intervals_and_heatmaps():
    bars = go.Figure([go.Bar(y=["A", "B"], x=[3.0, 5.0], orientation="h", name="minutes")])
    t = figure_table(bars)
    assert t.to_dict("records") == [dict(series="minutes", label="A", value=3.0),
                                    dict(series="minutes", label="B", value=5.0)]
    pts = go.Figure([go.Scatter(x=[0.5, -1.0], y=["X", "Y"], mode="markers",
                                error_x=dict(type="data", array=[0.2, 0.3], arrayminus=[0.1, 0.4]))])
    t = figure_table(pts)
    assert list(t.columns) == ["label", "value", "low", "high"]
    assert t.loc[1, "low"] == pytest.approx(-1.4) and t.loc[1, "high"] == pytest.approx(-0.7)
    heat = go.Figure([go.Heatmap(z=[[1, 2], [3, 4]], x=["c1", "c2"], y=["r1", "r2"])])
    assert figure_table(heat)[["series", "label", "value"]].values.tolist() == [
        ["r1", "c1", 1], ["r1", "c2", 2], ["r2", "c1", 3], ["r2", "c2", 4]]
    band = go.Figure([go.Scatter(x=[1, 2], y=[1, 2], fill="toself", hoverinfo="skip", showlegend=False)])
    assert figure_table(band).empty  # a shaded interval is drawn, not data


def test_chart_has_no_toolbar_fits_its_box_and_a_table_alternative():
    when = datetime(2026, 3, 4, tzinfo=UTC)
    fig = go.FigureWidget([go.Scatter(x=[when], y=[0.25], name="Coaching")],
                          layout=go.Layout(title="My skills", width=700))
    box = chart(fig)
    shown = box.children[0]
    assert shown._config == {**shown._config, **CHART_CONFIG} and shown._config["displayModeBar"] is False
    assert shown.layout.width is None and shown.layout.autosize is True
    assert shown is not fig  # the widget shown holds the completed copy
    alt = box.children[1]
    assert "wb-chart-alt" in alt._dom_classes and "<details" in alt.value and "My skills" in alt.value
    assert "04 Mar 2026" in alt.value and "0.25" in alt.value and "Coaching" in alt.value


def test_chart_titles_are_broken_into_lines_that_fit_a_phone():
    long = "Where my time went (last 28 days) vs where I need it most of all"
    fig = go.FigureWidget([go.Bar(x=[1], y=[2])],
                          layout=go.Layout(title=long, xaxis_title="skill (0 = organization average)"))
    box = chart(fig)
    fig = box.children[0]
    lines = fig.layout.title.text.split("<br>")
    assert len(lines) >= 2 and all(len(x) <= 30 for x in lines) and " ".join(lines) == long
    assert fig.layout.margin.t >= 34 + 19 * (len(lines) - 1) and fig.layout.xaxis.automargin is True
    assert all(len(x) <= 28 for x in fig.layout.xaxis.title.text.split("<br>"))
    assert long in box.children[1].value  # the table's caption keeps the title whole


def test_a_chart_widget_opens_with_its_whole_figure(monkeypatch):
    """The browser's first message about a chart holds its data, layout and config: later whole-figure
    changes are ignored by plotly's front end, and racing them drew empty charts."""
    from ipywidgets.widgets import widget as widget_module

    opened = []
    real = widget_module.comm.create_comm

    def spy(*args, **kwargs):
        opened.append(kwargs.get("data", {}).get("state", {}))
        return real(*args, **kwargs)

    monkeypatch.setattr(widget_module.comm, "create_comm", spy)
    box = chart(go.FigureWidget([go.Bar(x=[1, 2], y=[3, 4], name="minutes")], layout=go.Layout(title="Time")))
    plain, first = (st for st in opened if "_widget_data" in st)
    assert plain["_widget_data"] == []  # plotly's own FigureWidget opens empty and sends its figure after
    assert first["_anywidget_id"].endswith("ChartWidget") and list(first["_widget_data"][0]["y"]) == [3, 4]
    assert first["_widget_layout"]["title"]["text"] == "Time" and first["_config"]["responsive"] is True
    assert box.children[0].comm is not None


def test_the_stylesheet_and_template_are_shipped_and_load_nothing_from_elsewhere():
    css = STYLESHEET.read_text()
    template = (STYLESHEET.parents[1] / "index.html.j2").read_text()
    assert ".wb-tabs" in css and "@media (max-width: 600px)" in css and ".wb-assessment-options" in css
    assert "http" not in css and "//" not in template.replace("{#", "").split("-#}")[-1]
    assert "static/workbench.css" in template and "font-awesome" in template
    script = (STYLESHEET.parent / "workbench.js").read_text()  # keeps charts as wide as their box
    assert "static/workbench.js" in template and "ResizeObserver" in script and "http" not in script
    fonts = STYLESHEET.parent / "font-awesome"
    assert (fonts / "fonts" / "fontawesome-webfont.woff2").stat().st_size > 50_000
    assert "MIT" in (fonts / "LICENSE.md").read_text() and "OFL" in (fonts / "LICENSE.md").read_text()
