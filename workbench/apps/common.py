"""Shared pieces of the Voilà apps: identity from the page's link, the store, page chrome."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Hashable, Mapping
from pathlib import Path
from urllib.parse import parse_qs

import ipywidgets as w
import pandas as pd

from ..services.identity import Identity, InvalidLink, verify_token

#: the apps' stylesheet, served with the page by the workbench's Voilà template (``workbench serve``)
STYLESHEET = Path(__file__).resolve().parent / "share" / "voila" / "templates" / "workbench" / "static" / "workbench.css"
#: chart options: no toolbar (its unlabelled buttons were the first keyboard stops), sized to its container
CHART_CONFIG = {"displayModeBar": False, "responsive": True, "displaylogo": False}

def text_html(text: object) -> str:
    """``text`` for an HTML fragment: escaped, with every run of whitespace (newlines too) as one
    space, which is how a browser shows it outside ``<pre>`` anyway."""
    return html.escape(" ".join(str(text).split()))



def query_token() -> str | None:
    """The ``token`` query parameter of the Voilà page, if any (a preheated kernel waits for its request)."""
    from ._kernel import query_string

    try:
        qs = query_string()
    except Exception:  # noqa: BLE001 - no server to ask (outside Voilà) or it went away: no link
        qs = ""
    values = parse_qs(qs).get("token")
    return values[0] if values else None


def identify(token: str | None, kind: str) -> Identity:
    ident = verify_token(token if token is not None else query_token())
    if ident.kind != kind:
        raise InvalidLink(f"this link is not for the {kind} app")
    return ident


def error_page(message: str) -> w.Widget:
    box = w.HTML(f"<div class='wb-page'><h1>Cannot open this page</h1><div class='wb-error'>"
                 f"{html.escape(message)} Ask whoever sent you the link (for a leader, your facilitator) "
                 "for a new one.</div></div>")
    box.add_class("wb-error-page")
    return box


#: what a preheated kernel prepared before any request (:func:`preheated`): the store's engine (its
#: connection and compiled statements) and the content library. Nothing in it names a person.
PREHEATED: dict[str, object] = {}


def preheated(library: object | None = None, eng: object | None = None) -> None:
    """Keep ``library`` and ``eng`` for the page this kernel will serve (called by an app's
    ``preheat()`` in a waiting kernel: :mod:`workbench.apps.server`). :func:`engine` then returns
    that engine while ``WORKBENCH_DB`` still names its database, and :func:`page_library` that library."""
    from ..store.db import default_url

    if library is not None:
        PREHEATED["library"] = library
    if eng is not None:
        PREHEATED["engine"], PREHEATED["url"] = eng, default_url()


def engine():
    """The store, without running migrations (page loads stay fast; ``workbench serve`` migrates).

    In a preheated kernel, the engine the preheat opened (its connection pool and its compiled
    statements are reused); elsewhere a new one."""
    from ..store.db import default_url, make_engine

    if "engine" in PREHEATED and PREHEATED.get("url") == default_url():
        return PREHEATED["engine"]
    return make_engine()


def page_library():
    """The content library for a page: the one a preheated kernel loaded, else read now."""
    from ..content import Library

    return PREHEATED.get("library") or Library.load()


def page_header(title: str, subtitle: str, css_class: str, extra: str = "") -> w.HTML:
    """The heading of an app: its ``<h1>`` (one per page) and a line under it."""
    header = w.HTML(f"<div class='wb-page'><h1>{html.escape(title)}</h1>"
                    f"<div class='wb-muted'>{html.escape(subtitle)}</div>{extra}</div>")
    header.add_class(css_class)
    return header


def loading(title: str) -> w.HTML:
    """What an opened tab shows at once while it is being built: a line and a progress bar."""
    box = w.HTML(f"<div class='wb-loading' role='status' aria-live='polite'><progress aria-label='Loading "
                 f"{html.escape(title)}'></progress><span>Loading {html.escape(title)}…</span></div>")
    box.add_class("wb-section-loading")
    return box


#: pandas' Styler with the apps' table template (``share/table/wb_table.tpl``): column headings
#: with ``scope="col"`` and an optional class on every body row
_TABLE_TEMPLATE = Path(__file__).resolve().parent / "share" / "table"
_styler_class = None


def _styler(frame: pd.DataFrame):
    global _styler_class
    if _styler_class is None:
        from pandas.io.formats.style import Styler

        _styler_class = Styler.from_custom_template(str(_TABLE_TEMPLATE), html_table="wb_table.tpl")
    return _styler_class(frame)


def table_html(frame: pd.DataFrame, caption: str | None = None, css_class: str = "",
               formats: Mapping[str, str] | None = None, numeric: tuple[str, ...] = (),
               markup: Mapping[str, Callable[[object], str]] | None = None, row_class: str = "",
               na_rep: str = "-") -> str:
    """An HTML table of ``frame`` (pandas Styler: cells escaped, no index, column headings with
    ``scope="col"``), in a box that scrolls sideways inside its card when the screen is narrower
    than the table (focusable, so that a keyboard can scroll it, and named by the caption).

    ``formats``: format strings per column; ``numeric``: columns aligned as numbers (``wb-num``);
    ``markup``: columns whose cells are HTML made by the app, ``{column: value -> html}`` (the
    function escapes whatever text it puts in; missing values show ``na_rep``); ``row_class``: a
    class on every body row (a stable selector for tests).
    """
    styler = _styler(frame).hide(axis="index").format(formats or {}, na_rep=na_rep, escape="html")
    for column, make in (markup or {}).items():
        styler = styler.format(make, subset=[column], na_rep=na_rep, escape=None)
    styler = styler.format_index(escape="html", axis=1)
    if numeric:
        styler = styler.set_td_classes(pd.DataFrame(
            [["wb-num" if c in numeric else "" for c in frame.columns]] * len(frame),
            index=frame.index, columns=frame.columns))
    if caption:
        styler = styler.set_caption(html.escape(caption))
    classes = " ".join(c for c in ("wb-table", css_class) if c)
    body = styler.set_table_attributes(f'class="{classes}"').to_html(row_class=row_class, numeric=tuple(numeric))
    body = re.sub(r'<style type="text/css">\s*</style>\s*', "", body)  # no cell styles: no empty style block
    body = re.sub(r"\n\s*\n", "\n", body).strip()
    # the box scrolls sideways on a phone, so it takes keyboard focus (arrow keys scroll it) and is
    # named for screen readers by the table's caption
    label = f" aria-label='{html.escape(caption, quote=True)}'" if caption else ""
    return f"<div class='wb-table-scroll' tabindex='0' role='region'{label}>{body}</div>"


def figure_table(fig) -> pd.DataFrame:
    """The numbers a plotly figure draws, one row per point: ``series``, ``label``, ``value`` (and the
    interval when it has error bars); the text alternative of a chart."""
    import numpy as np

    rows = []
    for trace in fig.data:
        if getattr(trace, "hoverinfo", None) == "skip" or getattr(trace, "showlegend", None) is False and \
                getattr(trace, "fill", None) == "toself":
            continue
        series = trace.name or ""
        if trace.type == "heatmap":
            z = np.asarray(trace.z, dtype=object)
            xs, ys = list(trace.x if trace.x is not None else range(z.shape[1])), \
                list(trace.y if trace.y is not None else range(z.shape[0]))
            rows += [dict(series=str(y), label=str(x), value=z[i][j]) for i, y in enumerate(ys)
                     for j, x in enumerate(xs)]
            continue
        x, y = getattr(trace, "x", None), getattr(trace, "y", None)
        if x is None or y is None:
            continue
        ex, ey = getattr(trace, "error_x", None), getattr(trace, "error_y", None)
        has_ex = ex is not None and ex.array is not None
        horizontal = (getattr(trace, "orientation", None) == "h" or has_ex
                      or (len(y) and isinstance(y[0], str) and not isinstance(x[0], str)))
        labels, values = (y, x) if horizontal else (x, y)
        err = ex if horizontal else ey
        plus = list(err.array) if err is not None and err.array is not None else None
        minus = list(err.arrayminus) if err is not None and err.arrayminus is not None else plus
        for k, (lab, val) in enumerate(zip(labels, values, strict=False)):
            row = dict(series=series, label=lab.strftime("%d %b %Y") if hasattr(lab, "strftime") else str(lab),
                       value=val)
            if plus is not None and val is not None:
                row["low"], row["high"] = val - minus[k], val + plus[k]
            rows.append(row)
    table = pd.DataFrame(rows)
    if not table.empty and (table["series"] == "").all():
        table = table.drop(columns="series")
    return table


#: the longest chart title and axis title lines that fit a 360 px phone (a chart there is about 290 px wide;
#: at 40 characters a 17 px title ran past its right edge and was cut)
TITLE_CHARS, AXIS_CHARS = 30, 28


def _wrap(text: str, width: int) -> str:
    """``text`` broken at spaces into lines of at most ``width`` characters (plotly's ``<br>``)."""
    import textwrap

    if not text or len(text) <= width or "<br>" in text:
        return text
    return "<br>".join(textwrap.wrap(text, width))


_chart_widget_class = None


def figure_widget(fig):
    """A plotly ``FigureWidget`` of ``fig`` (its data, layout and :data:`CHART_CONFIG`) whose first
    message to the browser already holds all of it.

    A ``FigureWidget`` opens its comm before it sets its data and layout, and plotly's front end
    ignores later changes of the whole figure (it applies only edits such as a relayout). When those
    first updates reached the browser while it was still creating the widget's model, the chart was
    drawn empty: 700 px wide, untitled, without the responsive option, so it never followed its box
    (seen on Progress for three or four of its four charts on a loaded machine). Here the comm is
    opened only once the figure is complete. Under ``workbench serve`` the widget's front-end code is a
    loader of plotly's code from the server rather than the code itself (:mod:`workbench.apps.assets`).
    """
    global _chart_widget_class
    if _chart_widget_class is None:
        import plotly.graph_objects as go

        from . import assets

        class ChartWidget(go.FigureWidget):
            _hold_comm = True
            if assets.served_by_workbench():  # the server serves plotly's code: send a loader, not 4.9 MB
                _esm = assets.loader()

            def open(self):
                if not self._hold_comm:
                    super().open()

        _chart_widget_class = ChartWidget
    widget = _chart_widget_class(fig)
    widget._config = {**(widget._config or {}), **CHART_CONFIG}
    widget._hold_comm = False
    widget.open()
    return widget


def chart(fig, css_class: str = "") -> w.VBox:
    """A plotly figure for a page: no toolbar, sized to its container, and its numbers as a table
    under a "Show the numbers" toggle (the chart's text alternative). The figure keeps its title.

    ``fig`` (a ``Figure``, or a ``FigureWidget``, which is copied) is completed first and then shown
    as a new :func:`figure_widget`; pass a plain ``Figure`` (the ``figures`` modules' ``widget=False``)
    so that no widget is made only to be copied."""
    import plotly.graph_objects as go

    if isinstance(fig, go.FigureWidget):
        fig = go.Figure(fig)  # (closing the widget passed in raced the browser's creation of its model)
    fig.update_layout(autosize=True, width=None)
    title = fig.layout.title.text or "Chart"
    # SVG text does not wrap: long titles are broken into lines that fit a 360 px phone
    lines = _wrap(title, TITLE_CHARS)
    if lines != title:
        fig.update_layout(title_text=lines, margin_t=max(fig.layout.margin.t or 50, 34 + 19 * lines.count("<br>")))
    for axis in [k for k in fig.layout if k.startswith(("xaxis", "yaxis"))]:
        ax = fig.layout[axis]
        ax.automargin = True  # tick labels get the room they need
        if ax.title.text:
            ax.title.text = _wrap(ax.title.text, AXIS_CHARS)
    table = figure_table(fig)
    parts = [figure_widget(fig)]
    if not table.empty:
        cols = {c: c.capitalize() for c in table.columns}
        formats = {cols[c]: "{:.2f}" for c in ("value", "low", "high") if c in cols
                   and pd.api.types.is_float_dtype(table[c])}
        alt = w.HTML(f"<details class='wb-chart-table'><summary>Show the numbers: {html.escape(title)}</summary>"
                     f"{table_html(table.rename(columns=cols), caption=title, formats=formats)}</details>")
        alt.add_class("wb-chart-alt")
        parts.append(alt)
    box = w.VBox(parts)
    box.add_class("wb-chart")
    if css_class:
        box.add_class(css_class)
    return box


class LazyTabs:
    """Tabs whose sections are built when first opened, and rebuilt only when they may have changed.

    ``builders`` maps a section title to a function returning its widgets. A builder that raises
    shows its error in its own tab (class ``wb-section-error``); the rest of the page goes on.
    Each section's box has the class ``wb-section-<title in lower case, dashes for spaces>``.
    While a section is built it shows :func:`loading` (class ``wb-section-loading``).

    ``versions`` maps a section to a cheap function whose value changes whenever something the
    section shows has changed: the section is rebuilt on an opening only when that value differs
    from the one it was built with. Sections in ``live`` without a version are rebuilt on every
    opening.
    """

    def __init__(self, builders: dict, live: frozenset[str] | set[str] = frozenset(), css_class: str = "",
                 versions: Mapping[str, Callable[[], Hashable]] | None = None):
        self.builders, self.live = dict(builders), frozenset(live)
        self.versions = dict(versions or {})
        self.built_with: dict[str, Hashable] = {}
        self.boxes = {name: w.VBox([]) for name in self.builders}
        for name, box in self.boxes.items():
            box.add_class("wb-section-" + name.lower().replace(" ", "-"))
        self.built: set[str] = set()
        self.builds = 0
        self.tabs = w.Tab(children=list(self.boxes.values()))
        self.tabs.titles = tuple(self.boxes)
        self.tabs.add_class("wb-tabs")
        if css_class:
            self.tabs.add_class(css_class)
        self.tabs.observe(self._opened, names="selected_index")
        self.open(next(iter(self.boxes)))

    @property
    def sections(self) -> tuple[str, ...]:
        return tuple(self.boxes)

    def _opened(self, change) -> None:
        if change["new"] is not None:
            self.open(self.sections[change["new"]], select=False)

    def _version(self, name: str) -> Hashable:
        try:
            return self.versions[name]()
        except Exception:  # noqa: BLE001 - a version that cannot be read never matches: the section is rebuilt
            return object()

    def _stale(self, name: str) -> tuple[bool, Hashable]:
        if name in self.versions:
            version = self._version(name)
            return name not in self.built or version != self.built_with.get(name), version
        return name not in self.built or name in self.live, None

    def open(self, name: str, select: bool = True) -> w.VBox:
        """Build (or rebuild, when it may have changed) a section and, by default, switch the tabs to it."""
        box = self.boxes[name]
        index = self.sections.index(name)
        if select and self.tabs.selected_index != index:
            self.tabs.selected_index = index  # the observer opens it: built once, not twice
            return box
        stale, version = self._stale(name)
        if stale:
            if not box.children:  # first opening: something shows at once while the section is built
                box.children = (loading(name),)
            try:
                box.children = tuple(self.builders[name]())
                self.built_with[name] = version
            except Exception as exc:  # noqa: BLE001 - one broken section must not take the page down
                msg = w.HTML(f"<div class='wb-error'>This section could not be shown: {html.escape(str(exc))}</div>")
                msg.add_class("wb-section-error")
                box.children = (msg,)
                self.built_with.pop(name, None)
            self.built.add(name)
            self.builds += 1
        return box
