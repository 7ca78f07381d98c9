"""Shared pieces of the Voilà apps: identity from the page's link, the store, page chrome."""

from __future__ import annotations

import html
import os
from urllib.parse import parse_qs

import ipywidgets as w

from ..services.identity import Identity, InvalidLink, verify_token

STYLE = """
<style>
.wb-page {max-width: 980px; margin: 0 auto; font-family: system-ui, sans-serif;}
.wb-card {border: 1px solid #e3e6ea; border-radius: 8px; padding: 10px 16px; margin: 6px 0;}
.wb-muted {color: #5f6b7a;}
.wb-error {border-left: 4px solid #b3261e; background: #fbeaea; padding: 12px 16px;}
.wb-leader-tabs .lm-TabBar-tab, .wb-cohort-tabs .lm-TabBar-tab {flex: 0 1 auto !important; max-width: none !important;
  min-width: 90px !important; padding: 0 14px !important;}
.wb-card table {border-collapse: collapse; width: 100%;}
.wb-card th, .wb-card td {padding: 4px 10px; border-bottom: 1px solid #eef0f3; text-align: left;}
.wb-card th.wb-num, .wb-card td.wb-num {text-align: right;}
</style>
"""

def text_html(text: object) -> str:
    """``text`` for an HTML fragment: escaped, with every run of whitespace (newlines too) as one
    space, which is how a browser shows it outside ``<pre>`` anyway."""
    return html.escape(" ".join(str(text).split()))



def query_token() -> str | None:
    """The ``token`` query parameter of the Voilà page, if any."""
    qs = ""
    try:  # preheated kernels do not see QUERY_STRING; Voilà offers a helper for that case
        from voila.utils import get_query_string

        qs = get_query_string() or ""
    except Exception:  # noqa: BLE001 - outside Voilà there is no query string at all
        qs = ""
    qs = qs or os.environ.get("QUERY_STRING", "")
    values = parse_qs(qs).get("token")
    return values[0] if values else None


def identify(token: str | None, kind: str) -> Identity:
    ident = verify_token(token if token is not None else query_token())
    if ident.kind != kind:
        raise InvalidLink(f"this link is not for the {kind} app")
    return ident


def error_page(message: str) -> w.Widget:
    box = w.HTML(f"{STYLE}<div class='wb-page'><div class='wb-error'><b>Cannot open this page.</b> "
                 f"{html.escape(message)}</div></div>")
    box.add_class("wb-error-page")
    return box


def engine():
    """The store, without running migrations (page loads stay fast; ``workbench serve`` migrates)."""
    from ..store.db import make_engine

    return make_engine()


class LazyTabs:
    """Tabs whose sections are built when first opened (and the ``live`` ones on every opening).

    ``builders`` maps a section title to a function returning its widgets. A builder that raises
    shows its error in its own tab (class ``wb-section-error``); the rest of the page goes on.
    Each section's box has the class ``wb-section-<title in lower case, dashes for spaces>``.
    """

    def __init__(self, builders: dict, live: frozenset[str] | set[str] = frozenset(), css_class: str = ""):
        self.builders, self.live = dict(builders), frozenset(live)
        self.boxes = {name: w.VBox([]) for name in self.builders}
        for name, box in self.boxes.items():
            box.add_class("wb-section-" + name.lower().replace(" ", "-"))
        self.built: set[str] = set()
        self.tabs = w.Tab(children=list(self.boxes.values()))
        self.tabs.titles = tuple(self.boxes)
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

    def open(self, name: str, select: bool = True) -> w.VBox:
        """Build (or rebuild) a section and, by default, switch the tabs to it."""
        box = self.boxes[name]
        if name not in self.built or name in self.live:
            try:
                box.children = tuple(self.builders[name]())
            except Exception as exc:  # noqa: BLE001 - one broken section must not take the page down
                msg = w.HTML(f"<div class='wb-error'>This section could not be shown: {html.escape(str(exc))}</div>")
                msg.add_class("wb-section-error")
                box.children = (msg,)
            self.built.add(name)
        if select:
            self.tabs.selected_index = self.sections.index(name)
        return box
