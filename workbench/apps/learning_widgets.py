"""Widgets for learning: the leader's plan, exploring the library, and moment packs.

Plain ipywidgets that take data and callbacks and never touch the store; the page that hosts
them persists what the callbacks hand over (usually through :mod:`workbench.services.learning`):

* :class:`PlanPanel` ("My plan") shows the open recommendations with their reasons and the
  weekly time budget, and calls ``on_start(module_id)``, ``on_log_time(module_id, minutes)``,
  ``on_complete(module_id)``, ``on_dismiss(module_id)`` and ``on_refresh()``. Each returns the
  plan afterwards as ``(items, budget)``, and the panel redraws from it; a callback may return
  ``None`` instead when the page calls :meth:`PlanPanel.update` itself. ``on_change()`` is
  called after every action that succeeded, so the page can refresh progress elsewhere.
* :class:`ExplorePanel` ("Explore") searches and filters the library, shows "Suggested next
  for you" before any search, and opens a module in a :class:`ModuleReader`: the module's text,
  "Apply this week" and its knowledge check. Opening calls ``on_open(module_id)``; checking
  calls ``on_check(module_id, answers)`` (each answer the chosen option's index as authored,
  whatever order it was shown in), which returns the scored result
  (:class:`workbench.services.learning.CheckResult` or anything with the same attributes). The
  options are shown in a new random order on every attempt; after a wrong first try the reader
  says which questions are wrong, with the question's hint, and shows the best answers and
  their feedback only once the result is ``revealed`` (from the second attempt on).
* :class:`MomentsPanel` ("Moments") lists the big and small leadership moments; picking one
  calls ``on_pick(moment_id)``, which returns the leader's
  :class:`~workbench.recommend.MomentPack`, and shows it.

A callback that raises does not break a widget and leaves its state as it was (the reader
still opens when ``on_open`` fails: reading needs nothing saved). The message is shown in an
element with class ``wb-learning-error`` and kept in ``.errors``.

Module text is Markdown, rendered by :func:`render_markdown` with markdown-it-py and sanitized
with nh3.

Stable CSS classes
------------------
``wb-plan``, ``wb-plan-item``, ``wb-plan-title``, ``wb-plan-reason``, ``wb-plan-status``,
``wb-plan-start``, ``wb-plan-minutes``, ``wb-plan-log``, ``wb-plan-complete``,
``wb-plan-dismiss``, ``wb-plan-open``, ``wb-plan-budget``, ``wb-plan-budget-text``,
``wb-plan-refresh``, ``wb-plan-empty``, ``wb-plan-notice``;
``wb-explore``, ``wb-explore-search``, ``wb-explore-competency``, ``wb-explore-format``,
``wb-explore-minutes``, ``wb-explore-level``, ``wb-explore-heading``, ``wb-explore-results``,
``wb-explore-result``, ``wb-explore-suggestion``, ``wb-explore-reason``, ``wb-explore-open``;
``wb-reader``, ``wb-reader-title``, ``wb-reader-meta``, ``wb-reader-body``, ``wb-reader-org``, ``wb-reader-apply``,
``wb-reader-close``, ``wb-check``, ``wb-check-question``, ``wb-check-submit``,
``wb-check-result``; ``wb-moments``, ``wb-moments-select``, ``wb-moments-description``,
``wb-moment-pack``, ``wb-moment-checklist``, ``wb-moment-module``, ``wb-moment-scenario``,
``wb-moment-coaching``, ``wb-moment-open``, ``wb-moment-practice``; ``wb-learning-error``.
"""

from __future__ import annotations

import html
import random
import time
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import ipywidgets as w
import nh3
from markdown_it import MarkdownIt

from ..content.library import Library
from ..content.organization import organization_section
from ..content.schema import Module
from ..recommend.explore import SearchResult, Suggestion, index_for, search_library
from .common import text_html

if TYPE_CHECKING:  # the plan's rows come from the store edge; the widgets only read their fields
    from ..recommend import MomentPack
    from ..services.learning import CheckResult
    from ..services.plans import PlanItem

Budget = tuple[float, int]

#: Largest number of open plan items; "Suggest more" is offered only below it.
PLAN_LIMIT = 3
MAX_LOG_MINUTES = 240
FORMAT_NAMES = {"article": "Article", "video-script": "Video script", "practice": "Practice",
                "podcast-script": "Podcast script", "tool": "Tool"}
LEVEL_NAMES = {"first-time": "First-time leaders", "experienced": "Experienced leaders",
               "senior": "Senior leaders"}
MINUTE_CHOICES = (5, 10, 15, 20, 30)
STATUS_NAMES = {"active": "Not started yet", "started": "In progress"}
#: The value of "any" in a filter list and of "choose…" in the moments list (a None value would show blank).
ANY = ""
_KEEP = object()

LEARNING_STYLE = """
<style>
.wb-plan-item, .wb-explore-result, .wb-explore-suggestion, .wb-moment-module, .wb-moment-scenario
  {border: 1px solid #e3e6ea; border-radius: 8px; padding: 8px 14px; margin: 6px 0;}
.wb-plan-reason, .wb-explore-reason {color: #33414f; font-style: italic;}
.wb-plan-status {font-size: 0.9em; color: #5f6b7a;}
.wb-plan-status-started {color: #1e6b35;}
.wb-reader-body {line-height: 1.5;}
.wb-reader-body table {border-collapse: collapse; margin: 8px 0;}
.wb-reader-body th, .wb-reader-body td {border: 1px solid #d5d9de; padding: 4px 8px; text-align: left;
  vertical-align: top;}
.wb-reader-body blockquote {border-left: 3px solid #d5d9de; margin: 8px 0; padding: 2px 12px; color: #33414f;}
.wb-reader-org {border-left: 3px solid #9bb8d3; padding: 2px 14px; margin: 10px 0;}
.wb-reader-apply {background: #f3f7f1; border-radius: 8px; padding: 8px 14px; margin: 10px 0;}
.wb-check-question .widget-radio-box label {white-space: normal; line-height: 1.3;}
.wb-check-right {color: #1e6b35;}
.wb-check-wrong {color: #b3261e;}
.wb-learning-error, .wb-notice-refused {color: #b3261e;}
.wb-notice-ok {color: #1e6b35;}
</style>
"""


class _Callbacks:
    """Runs the page's callbacks, turning their failures into a visible message."""

    def __init__(self, prefix: str = "Could not save") -> None:
        self.prefix = prefix
        self.errors: list[str] = []
        self.error = w.HTML("")
        self.error.add_class("wb-learning-error")

    def call(self, fn: Callable[..., Any] | None, *args: Any, **kwargs: Any) -> tuple[bool, Any]:
        """``(ok, result)``; ``ok`` is False when ``fn`` raised (the message is then shown)."""
        if fn is None:
            return True, None
        try:
            result = fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - show the failure; the page goes on
            msg = f"{self.prefix}: {exc}"
            self.errors.append(msg)
            self.error.value = f"<div>{html.escape(msg)}</div>"
            return False, None
        self.error.value = ""
        return True, result

    def fail(self, msg: str) -> None:
        self.errors.append(msg)
        self.error.value = f"<div>{html.escape(msg)}</div>"


def _notice(widget: w.HTML, text: str, ok: bool = True) -> None:
    widget.value = f"<div class='{'wb-notice-ok' if ok else 'wb-notice-refused'}'>{html.escape(text)}</div>"


def _show(widget: w.Widget, visible: bool) -> None:
    widget.layout.display = None if visible else "none"


# ------------------------------------------------------------------------------ Markdown
#: CommonMark with pipe tables; raw HTML in the text is shown as text, soft line breaks join lines
_MD = MarkdownIt("commonmark", {"html": False}).enable("table")
_MD.add_render_rule("softbreak", lambda self, tokens, idx, options, env: " ")
#: What the sanitizer lets through: the tags the renderer makes, links only to the web and e-mail
_SAFE_TAGS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "strong", "em", "code",
                        "pre", "blockquote", "table", "thead", "tbody", "tr", "th", "td", "hr", "br", "a"})
_SAFE_ATTRIBUTES = {"a": {"href"}, "ol": {"start"}}


def render_markdown(text: str, *, shift: int = 0, drop_title: bool = False) -> str:
    """Markdown to safe HTML: markdown-it-py (CommonMark and pipe tables), then the nh3 sanitizer.

    Raw HTML in the text is shown as text, links keep only ``http(s)`` and ``mailto`` targets and
    open in a new tab, and the sanitizer drops any tag or attribute outside a short list.

    Parameters
    ----------
    text
        The Markdown source.
    shift
        Added to every heading level (capped at 6), to fit the text under a page's own heading.
    drop_title
        Leave out a first-level heading that opens the text (the reader shows the title itself).
    """
    return _render_markdown(str(text), int(shift), bool(drop_title))


@lru_cache(maxsize=256)
def _render_markdown(text: str, shift: int, drop_title: bool) -> str:
    """:func:`render_markdown`, kept for repeated opens (markdown-it-py parses in pure Python)."""
    tokens = _MD.parse(text)
    if drop_title and len(tokens) >= 3 and tokens[0].type == "heading_open" and tokens[0].tag == "h1":
        tokens = tokens[3:]
    for tok in tokens:
        if tok.type in ("heading_open", "heading_close") and shift:
            tok.tag = f"h{min(6, int(tok.tag[1]) + shift)}"
    out = _MD.renderer.render(tokens, _MD.options, {})
    return nh3.clean(out, tags=set(_SAFE_TAGS), attributes=_SAFE_ATTRIBUTES, url_schemes={"http", "https", "mailto"},
                     link_rel="noopener", set_tag_attribute_values={"a": {"target": "_blank"}}).strip()


# ------------------------------------------------------------------------------ my plan
class _PlanCard:
    """One plan item: what it is, why, its status and the buttons to act on it."""

    def __init__(self, panel: PlanPanel, item: PlanItem, library: Library):
        self.item = item
        comp = library.competencies.get(item.competency)
        comp_name = comp.name if comp else item.competency
        self.title = w.HTML(f"<b>{text_html(item.title)}</b> <span class='wb-muted'>· {item.minutes} min · "
                            f"{text_html(comp_name)}</span>")
        self.title.add_class("wb-plan-title")
        self.reason = w.HTML(f"<div>{text_html(item.reason)}</div>")
        self.reason.add_class("wb-plan-reason")
        self.status = w.HTML(f"<span>{STATUS_NAMES.get(item.status, item.status.capitalize())}</span>")
        self.status.add_class("wb-plan-status")
        self.status.add_class(f"wb-plan-status-{item.status}")
        started = item.status == "started"
        self.start_button = w.Button(description="Continue" if started else "Start",
                                     button_style="" if started else "primary", icon="play")
        self.start_button.add_class("wb-plan-start")
        # continuous_update: every keystroke reaches the kernel before a later button click does
        self.minutes = w.BoundedIntText(value=max(1, min(item.minutes or 10, MAX_LOG_MINUTES)), min=1,
                                        max=MAX_LOG_MINUTES, description="Minutes", layout=w.Layout(width="150px"),
                                        continuous_update=True,
                                        style={"description_width": "58px"})
        self.minutes.add_class("wb-plan-minutes")
        self.log_button = w.Button(description="Log time", icon="clock-o")
        self.log_button.add_class("wb-plan-log")
        self.complete_button = w.Button(description="Complete", button_style="success", icon="check")
        self.complete_button.add_class("wb-plan-complete")
        self.dismiss_button = w.Button(description="Not now", icon="times")
        self.dismiss_button.add_class("wb-plan-dismiss")
        self.open_button = w.Button(description="Read", icon="book")
        self.open_button.add_class("wb-plan-open")
        for widgets, fn in (((self.start_button,), panel.on_start), ((self.minutes, self.log_button), panel.on_log_time),
                            ((self.complete_button,), panel.on_complete), ((self.dismiss_button,), panel.on_dismiss),
                            ((self.open_button,), panel.on_open)):
            for b in widgets:
                _show(b, fn is not None)  # no callback, no button
        # only the actions that fit the state: a module not started yet can be started (which opens
        # it) or put aside; time, completion and Continue come once it is started. Start and
        # Continue open the module, so a separate Read shows only when there is no Start.
        if not started:
            for b in (self.minutes, self.log_button, self.complete_button):
                _show(b, False)
        if panel.on_start is not None:
            _show(self.open_button, False)
        mid = item.module_id
        self.start_button.on_click(lambda _b: panel.start(mid))
        self.log_button.on_click(lambda _b: panel.log_time(mid))
        self.complete_button.on_click(lambda _b: panel.complete(mid))
        self.dismiss_button.on_click(lambda _b: panel.dismiss(mid))
        self.open_button.on_click(lambda _b: panel.open(mid))
        buttons = w.HBox([self.start_button, self.open_button, self.minutes, self.log_button, self.complete_button,
                          self.dismiss_button], layout=w.Layout(flex_flow="row wrap", align_items="center"))
        self.widget = w.VBox([self.title, self.reason, self.status, buttons])
        self.widget.add_class("wb-plan-item")
        self.widget.add_class(f"wb-plan-item-{mid}")


class PlanPanel:
    """The leader's plan: up to three modules with reasons, actions on each, and the weekly budget.

    Parameters
    ----------
    items
        The open plan items (:class:`workbench.services.plans.PlanItem`), as :func:`workbench.services.plans.current_plan` returns.
    library
        For competency names.
    budget
        ``(used_minutes, budget_minutes)`` for this week (:func:`workbench.services.learning.week_budget`).
    on_start, on_complete, on_dismiss
        Called with the module id; return ``(items, budget)`` after the change (or ``None``).
    on_log_time
        ``on_log_time(module_id, minutes)``; returns ``(items, budget)`` (or ``None``).
    on_refresh
        ``on_refresh()`` for "Suggest more"; returns ``(items, budget)`` (or ``None``).
    on_open
        ``on_open(module_id)`` for the "Read" button (hidden when not given), e.g. to open the reader.
    on_change
        ``on_change()`` after any action that succeeded (start, log time, complete, not now, suggest more).

    A button whose callback is not given is hidden, so the panel without callbacks is a read-only view.
    """

    def __init__(
        self,
        items: Sequence[PlanItem],
        library: Library,
        budget: Budget = (0.0, 60),
        on_start: Callable[[str], Any] | None = None,
        on_log_time: Callable[[str, int], Any] | None = None,
        on_complete: Callable[[str], Any] | None = None,
        on_dismiss: Callable[[str], Any] | None = None,
        on_refresh: Callable[[], Any] | None = None,
        on_open: Callable[[str], Any] | None = None,
        on_change: Callable[[], Any] | None = None,
    ):
        self.library = library
        self.on_start, self.on_log_time, self.on_complete = on_start, on_log_time, on_complete
        self.on_dismiss, self.on_refresh, self.on_open, self.on_change = on_dismiss, on_refresh, on_open, on_change
        self._cb = _Callbacks()
        self.items: list[PlanItem] = []
        self.budget: Budget = (0.0, 60)
        self.cards: dict[str, _PlanCard] = {}

        self.header = w.HTML(f"{LEARNING_STYLE}<h3>My plan</h3><div class='wb-muted'>Up to three short modules "
                             "picked for you, each with the reason it was chosen.</div>")
        self.budget_text = w.HTML("")
        self.budget_text.add_class("wb-plan-budget-text")
        self.budget_bar = w.FloatProgress(value=0.0, min=0.0, max=1.0, layout=w.Layout(width="60%"))
        self.budget_box = w.VBox([self.budget_text, self.budget_bar])
        self.budget_box.add_class("wb-plan-budget")
        self.list = w.VBox([])
        self.list.add_class("wb-plan-items")
        self.empty = w.HTML("<div class='wb-card'>Nothing in your plan right now. Press <b>Suggest more</b> "
                            "for up to three short modules chosen for where you want to grow.</div>")
        self.empty.add_class("wb-plan-empty")
        self.refresh_button = w.Button(description="Suggest more", icon="plus")
        self.refresh_button.add_class("wb-plan-refresh")
        self.refresh_button.on_click(lambda _b: self.refresh())
        self.notice = w.HTML("")
        self.notice.add_class("wb-plan-notice")
        self.widget = w.VBox([self.header, self.budget_box, self.notice, self.empty, self.list, self.refresh_button,
                              self._cb.error])
        self.widget.add_class("wb-plan")
        self.update(items, budget)

    @property
    def errors(self) -> list[str]:
        return self._cb.errors

    def card(self, module_id: str) -> _PlanCard:
        """The card of a plan item (``KeyError`` when it is not in the plan)."""
        return self.cards[module_id]

    def update(self, items: Sequence[PlanItem], budget: Budget | None = None) -> None:
        """Redraw from the plan's items (and budget, when given)."""
        self.items = list(items)
        if budget is not None:
            self.budget = (float(budget[0]), int(budget[1]))
        self.cards = {it.module_id: _PlanCard(self, it, self.library) for it in self.items}
        self.list.children = tuple(c.widget for c in self.cards.values())
        _show(self.empty, not self.items)
        _show(self.refresh_button, len(self.items) < PLAN_LIMIT and self.on_refresh is not None)
        used, total = self.budget
        over = used > total
        self.budget_text.value = (f"<b>{used:.0f} of {total} minutes this week</b>"
                                  + (" <span class='wb-muted'>(over your weekly budget)</span>" if over else ""))
        self.budget_bar.max = float(max(total, 1))
        self.budget_bar.value = float(min(used, self.budget_bar.max))
        self.budget_bar.bar_style = "warning" if over else "info"

    # ------------------------------------------------------------------ actions
    def _title(self, module_id: str) -> str:
        item = next((it for it in self.items if it.module_id == module_id), None)
        return item.title if item else module_id

    def _act(self, fn: Callable[..., Any] | None, args: tuple, done: str) -> bool:
        ok, result = self._cb.call(fn, *args)
        if not ok:
            self.notice.value = ""
            return False
        if result is not None:
            if not (isinstance(result, tuple) and len(result) == 2):
                self._cb.fail(f"the page's callback returned {type(result).__name__}, not (items, budget)")
                return False
            self.update(*result)
        _notice(self.notice, done)
        self._cb.call(self.on_change)
        return True

    def start(self, module_id: str) -> bool:
        """Start (or continue) a module and open it (``on_open``), as its Start button does.
        True when it was saved."""
        if not self._act(self.on_start, (module_id,), f"Started \u201c{self._title(module_id)}\u201d."):
            return False
        if self.on_open is not None:
            self.open(module_id)
        return True

    def log_time(self, module_id: str, minutes: int | None = None) -> bool:
        """Log minutes on a module (default: the card's minutes box), as its Log time button does."""
        if minutes is None:
            minutes = self.card(module_id).minutes.value
        if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= MAX_LOG_MINUTES:
            _notice(self.notice, f"Log between 1 and {MAX_LOG_MINUTES} minutes at a time.", ok=False)
            return False
        title = self._title(module_id)
        return self._act(self.on_log_time, (module_id, minutes), f"Logged {minutes} min on \u201c{title}\u201d.")

    def complete(self, module_id: str) -> bool:
        """Mark a module completed, as its Complete button does."""
        return self._act(self.on_complete, (module_id,), f"Well done: \u201c{self._title(module_id)}\u201d is complete.")

    def dismiss(self, module_id: str) -> bool:
        """Take a module out of the plan for now, as its Not now button does."""
        return self._act(self.on_dismiss, (module_id,),
                         f"\u201c{self._title(module_id)}\u201d is out of your plan for now.")

    def refresh(self) -> bool:
        """Ask for more suggestions, as "Suggest more" does."""
        before = {it.module_id for it in self.items}
        if not self._act(self.on_refresh, (), ""):
            return False
        new = [it for it in self.items if it.module_id not in before]
        if new:
            _notice(self.notice, f"Added {len(new)} module{'s' if len(new) > 1 else ''} to your plan.")
        else:
            _notice(self.notice, "Nothing new fits right now: your plan is full or this week's time "
                                 "budget is used up. Try again next week.", ok=False)
        return True

    def open(self, module_id: str) -> bool:
        """Open a module to read it (calls ``on_open``; the plan itself does not change)."""
        ok, _ = self._cb.call(self.on_open, module_id)
        return ok


# ------------------------------------------------------------------------------ module reader
class ModuleReader:
    """One module to read: title, meta, text, "Apply this week" and its knowledge check.

    Parameters
    ----------
    module
        The module.
    library
        For competency names.
    on_check
        ``on_check(module_id, answers)`` with one 0-based option index per question; returns the
        scored result (attributes ``score``, ``passed``, ``questions`` with ``correct``,
        ``answer_text`` and ``feedback`` each). Without it there is no Check button.
    on_close
        ``on_close()`` when "Back to the library" is pressed (hidden when not given).
    seed
        Seeds the option order (a fresh random order per attempt; None draws from the system).
    """

    def __init__(self, module: Module, library: Library, on_check: Callable[[str, list[int]], Any] | None = None,
                 on_close: Callable[[], Any] | None = None, seed: int | None = None):
        self.module = module
        self._rng = random.Random(seed)
        self.on_check, self.on_close = on_check, on_close
        self._cb = _Callbacks()
        self.result: CheckResult | None = None
        comps = ", ".join(library.competencies[c].name if c in library.competencies else c for c in module.competencies)
        self.close_button = w.Button(description="Back to the library", icon="arrow-left")
        self.close_button.add_class("wb-reader-close")
        self.close_button.on_click(lambda _b: self.close())
        _show(self.close_button, on_close is not None)
        self.title = w.HTML(f"<h2>{text_html(module.title)}</h2>")
        self.title.add_class("wb-reader-title")
        self.meta = w.HTML(
            f"<div class='wb-muted'>{module.minutes} min · {FORMAT_NAMES.get(module.format, module.format)} · "
            f"for {LEVEL_NAMES.get(module.level, module.level).lower()} · {text_html(comps)}</div>"
            f"<p><i>{text_html(module.summary)}</i></p>")
        self.meta.add_class("wb-reader-meta")
        self.body = w.HTML(render_markdown(module.body, shift=1, drop_title=True))
        self.body.add_class("wb-reader-body")
        section = organization_section(library, module)
        self.organization = w.HTML(render_markdown(section.markdown, shift=1) if section else "")
        self.organization.add_class("wb-reader-org")
        _show(self.organization, section is not None)
        self.apply = w.HTML(f"<b>Apply this week</b><div>{text_html(module.apply_this_week)}</div>")
        self.apply.add_class("wb-reader-apply")
        self.questions: list[w.RadioButtons] = []
        boxes = []
        for i, q in enumerate(module.knowledge_check, start=1):
            radios = w.RadioButtons(options=self._options(q), value=None, layout=w.Layout(width="100%"))
            self.questions.append(radios)
            box = w.VBox([w.HTML(f"<b>{i}. {text_html(q.question)}</b>"), radios])
            box.add_class("wb-check-question")
            boxes.append(box)
        self.submit = w.Button(description="Check my answers", button_style="primary", icon="check")
        self.submit.add_class("wb-check-submit")
        self.submit.on_click(lambda _b: self.check())
        _show(self.submit, on_check is not None)
        self.result_view = w.HTML("")
        self.result_view.add_class("wb-check-result")
        self.check_box = w.VBox([w.HTML("<h3>Check your understanding</h3>"), *boxes, self.submit, self.result_view])
        self.check_box.add_class("wb-check")
        self.widget = w.VBox([self.close_button, self.title, self.meta, self.body, self.organization, self.apply,
                              self.check_box, self._cb.error])
        self.widget.add_class("wb-reader")

    @property
    def errors(self) -> list[str]:
        return self._cb.errors

    def _options(self, q) -> list[tuple[str, int]]:
        """(label, authored index) pairs in a fresh random order: the value is the option's identity."""
        return [(" ".join(q.options[k].split()), k) for k in q.order(self._rng)]

    def shown_order(self) -> list[tuple[int, ...]]:
        """The authored option indexes of each question in the order they are shown now."""
        return [tuple(v for _, v in r.options) for r in self.questions]

    def reshuffle(self) -> None:
        """Show every question's options in a new order, keeping what was chosen (by identity)."""
        for r, q in zip(self.questions, self.module.knowledge_check, strict=True):
            chosen = r.value
            r.options = self._options(q)
            r.value = chosen

    def answers(self) -> list[int | None]:
        """The chosen option per question, as its authored index (None where nothing is chosen yet)."""
        return [r.value for r in self.questions]

    def check(self, answers: Sequence[int] | None = None) -> CheckResult | None:
        """Score the check through ``on_check`` and show the feedback; None when not scored.

        ``answers`` (authored option indexes, whatever the order shown) are put into the radio
        buttons first, as if chosen. Until the result is ``revealed`` a wrong answer shows only
        the question's hint. The options are shuffled again for the next try.
        """
        if answers is not None:
            if len(answers) != len(self.questions):
                raise ValueError(f"this check has {len(self.questions)} questions; got {len(answers)} answers")
            for r, a in zip(self.questions, answers, strict=True):
                r.value = a
        chosen = self.answers()
        missing = [i for i, a in enumerate(chosen, start=1) if a is None]
        if missing:
            self.result_view.value = ("<div class='wb-notice-refused'>Answer every question first (still open: "
                                      f"{', '.join(map(str, missing))}).</div>")
            return None
        if self.on_check is None:
            return None
        ok, result = self._cb.call(self.on_check, self.module.id, [int(a) for a in chosen])
        if not ok or result is None:
            return None
        self.result = result
        revealed = bool(getattr(result, "revealed", True))
        rows = []
        for i, q in enumerate(result.questions, start=1):
            mark = "wb-check-right" if q.correct else "wb-check-wrong"
            if q.correct:
                verdict, note = "Right.", q.feedback
            elif revealed:
                verdict, note = f"Not quite. The best answer: {text_html(q.answer_text)}.", q.feedback
            else:
                verdict = "Not yet."
                note = getattr(q, "hint", None) or "Reread the part of the module this question is about."
            rows.append(f"<li class='{mark}'><b>Question {i}: {verdict}</b> "
                        f"<span style='color:#33414f'>{text_html(note)}</span></li>")
        right = sum(q.correct for q in result.questions)
        outcome = "Passed" if result.passed else "Not passed yet"
        if not revealed:
            outcome += (". Have another go: the options are in a new order, and the best answers are shown "
                        "after your second try")
        elif not result.passed:
            outcome += ": read the feedback and try again"
        self.reshuffle()  # every attempt sees a new order
        self.result_view.value = (f"<div class='wb-card'><b>{right} of {len(result.questions)} right "
                                  f"({result.score:.0%}). {outcome}.</b><ul>{''.join(rows)}</ul></div>")
        return result

    def close(self) -> None:
        self._cb.call(self.on_close)


# ------------------------------------------------------------------------------ explore
class ExplorePanel:
    """Search and filter the library, see what to explore next, and read a module.

    Parameters
    ----------
    library
        The content library.
    suggestions
        "Suggested next for you" (:func:`workbench.recommend.explore_next`), shown until the
        leader searches or filters.
    on_open
        ``on_open(module_id)`` when a module is opened (the page records "launched").
    on_check
        ``on_check(module_id, answers)`` for a knowledge check; see :class:`ModuleReader`.
    search
        ``search(library, query, k, competency=, format=, max_minutes=, level=)`` returning
        :class:`~workbench.recommend.SearchResult` items (default :func:`~workbench.recommend.search_library`).
    k
        Most results shown.
    """

    def __init__(
        self,
        library: Library,
        suggestions: Sequence[Suggestion] = (),
        on_open: Callable[[str], Any] | None = None,
        on_check: Callable[[str, list[int]], Any] | None = None,
        search: Callable[..., list[SearchResult]] = search_library,
        k: int = 20,
    ):
        self.library = library
        self.suggestions = list(suggestions)
        self.on_open, self.on_check, self._search, self.k = on_open, on_check, search, k
        self._cb = _Callbacks("Something went wrong")
        self._quiet = False
        self.results: list[SearchResult] = []
        self.last_search_ms: float | None = None
        self.reader: ModuleReader | None = None

        self.header = w.HTML(f"{LEARNING_STYLE}<h3>Explore the library</h3><div class='wb-muted'>Search by topic, "
                             "or filter by competency, format, length and level.</div>")
        self.query = w.Text(placeholder="Search, e.g. delegation, giving feedback, first weeks in a new role",
                            continuous_update=True, layout=w.Layout(width="100%"))
        self.query.add_class("wb-explore-search")
        comps = sorted(library.competencies.values(), key=lambda c: c.name)
        self.competency = w.Dropdown(options=[("Any competency", ANY)] + [(c.name, c.id) for c in comps], value=ANY,
                                     description="Competency", style={"description_width": "initial"})
        self.competency.add_class("wb-explore-competency")
        formats = sorted({m.format for m in library.modules.values()})
        self.format = w.Dropdown(options=[("Any format", ANY)] + [(FORMAT_NAMES.get(f, f), f) for f in formats],
                                 value=ANY, description="Format", style={"description_width": "initial"})
        self.format.add_class("wb-explore-format")
        self.max_minutes = w.Dropdown(options=[("Any length", ANY)] + [(f"Up to {x} min", x) for x in MINUTE_CHOICES],
                                      value=ANY, description="Length", style={"description_width": "initial"})
        self.max_minutes.add_class("wb-explore-minutes")
        self.level = w.Dropdown(options=[("Any level", ANY)] + [(v, k_) for k_, v in LEVEL_NAMES.items()], value=ANY,
                                description="Level", style={"description_width": "initial"})
        self.level.add_class("wb-explore-level")
        for d in (self.competency, self.format, self.max_minutes, self.level):
            d.layout = w.Layout(width="auto")
        for c in (self.query, self.competency, self.format, self.max_minutes, self.level):
            c.observe(lambda _ch: None if self._quiet else self._run(), names="value")
        self.heading = w.HTML("")
        self.heading.add_class("wb-explore-heading")
        self.list = w.VBox([])
        self.list.add_class("wb-explore-results")
        self.browse = w.VBox([self.query, w.HBox([self.competency, self.format, self.max_minutes, self.level],
                                                 layout=w.Layout(flex_flow="row wrap")), self.heading, self.list])
        self.reader_box = w.VBox([])
        _show(self.reader_box, False)
        self.widget = w.VBox([self.header, self.browse, self.reader_box, self._cb.error])
        self.widget.add_class("wb-explore")
        self._run()

    @property
    def errors(self) -> list[str]:
        return self._cb.errors

    def prepare(self) -> None:
        """Build the library's search index now (about a second, once per library) so that the first
        search is as quick as the rest; a page can call this in the background after it has shown."""
        if self._search is search_library:
            index_for(self.library)

    @property
    def filters(self) -> dict[str, Any]:
        """The filters as :func:`~workbench.recommend.search_library` takes them (None = any)."""
        values = {"competency": self.competency.value, "format": self.format.value,
                  "max_minutes": self.max_minutes.value, "level": self.level.value}
        return {k: (None if v == ANY else v) for k, v in values.items()}

    @property
    def showing_suggestions(self) -> bool:
        """True while the list shows "Suggested next for you" (no search text, no filter, some suggestions)."""
        return bool(self.suggestions) and not self.query.value.strip() and all(v is None for v in self.filters.values())

    def search(self, query: Any = _KEEP, *, competency: Any = _KEEP, format: Any = _KEEP,  # noqa: A002
               max_minutes: Any = _KEEP, level: Any = _KEEP) -> list[SearchResult]:
        """Set the search text and filters (those given) and show the results, as typing and choosing do."""
        self._quiet = True
        try:
            for widget, value in ((self.query, query), (self.competency, competency), (self.format, format),
                                  (self.max_minutes, max_minutes), (self.level, level)):
                if value is not _KEEP:
                    widget.value = ANY if value is None else value
        finally:
            self._quiet = False
        self._run()
        return self.results

    def _run(self) -> None:
        if self.showing_suggestions:
            self.results = []
            self.heading.value = "<h4>Suggested next for you</h4>"
            self.list.children = tuple(self._suggestion_card(s) for s in self.suggestions)
            return
        t0 = time.perf_counter()
        ok, results = self._cb.call(self._search, self.library, self.query.value, self.k, **self.filters)
        self.last_search_ms = (time.perf_counter() - t0) * 1000
        if not ok:
            return
        self.results = [r for r in (results or []) if r.kind == "module" and r.id in self.library.modules]
        if self.results:
            n = len(self.results)
            self.heading.value = f"<h4>{n}{'+' if n >= self.k else ''} module{'s' if n != 1 else ''}</h4>"
        else:
            self.heading.value = ("<h4>No modules match</h4><div class='wb-muted'>Try fewer words or "
                                  "loosen a filter.</div>")
        self.list.children = tuple(self._result_card(r) for r in self.results)

    def _meta(self, mod: Module) -> str:
        comp = self.library.competencies.get(mod.primary_competency)
        return (f"{mod.minutes} min · {FORMAT_NAMES.get(mod.format, mod.format)} · "
                f"{LEVEL_NAMES.get(mod.level, mod.level)} · {text_html(comp.name if comp else mod.primary_competency)}")

    def _open_button(self, module_id: str) -> w.Button:
        b = w.Button(description="Open", icon="book")
        b.add_class("wb-explore-open")
        b.on_click(lambda _b: self.open(module_id))
        return b

    def _result_card(self, r: SearchResult) -> w.Widget:
        mod = self.library.modules[r.id]
        summary = " ".join(mod.summary.split())
        snippet = summary if len(summary) <= 180 else summary[:177].rsplit(" ", 1)[0] + "…"
        card = w.VBox([w.HTML(f"<b>{text_html(mod.title)}</b> <span class='wb-muted'>· {self._meta(mod)}</span>"
                              f"<div>{text_html(snippet)}</div>"), self._open_button(r.id)])
        card.add_class("wb-explore-result")
        return card

    def _suggestion_card(self, s: Suggestion) -> w.Widget:
        mod = self.library.modules.get(s.module_id)
        meta = self._meta(mod) if mod else f"{s.minutes} min"
        reason = w.HTML(f"<div>{text_html(s.reason)}</div>")
        reason.add_class("wb-explore-reason")
        card = w.VBox([w.HTML(f"<b>{text_html(s.title)}</b> <span class='wb-muted'>· {meta}</span>"), reason,
                       self._open_button(s.module_id)])
        card.add_class("wb-explore-suggestion")
        return card

    def open(self, module_id: str) -> ModuleReader:
        """Show a module in the reader and call ``on_open`` (the reader opens even if that fails)."""
        mod = self.library.modules.get(module_id)
        if mod is None:
            raise ValueError(f"unknown module {module_id!r}")
        self._cb.call(self.on_open, module_id)
        self.reader = ModuleReader(mod, self.library, on_check=self.on_check, on_close=self.close)
        self.reader_box.children = (self.reader.widget,)
        _show(self.browse, False)
        _show(self.reader_box, True)
        return self.reader

    def close(self) -> None:
        """Back from the reader to the search results."""
        _show(self.reader_box, False)
        _show(self.browse, True)


# ------------------------------------------------------------------------------ moments
class MomentsPanel:
    """Pick a leadership moment and get its pack: checklist, a short module, a scenario, a question.

    Parameters
    ----------
    library
        Its moments fill the list, big moments first.
    on_pick
        ``on_pick(moment_id)`` returns the leader's :class:`~workbench.recommend.MomentPack`
        (for example :func:`workbench.services.plans.pack_for`).
    on_open
        ``on_open(module_id)`` for the pack's module ("Open module"; hidden when not given).
    on_practice
        ``on_practice(scenario_id)`` for the pack's scenario ("Practise it"; hidden when not given).
    """

    def __init__(self, library: Library, on_pick: Callable[[str], MomentPack],
                 on_open: Callable[[str], Any] | None = None, on_practice: Callable[[str], Any] | None = None):
        self.library = library
        self.on_pick, self.on_open, self.on_practice = on_pick, on_open, on_practice
        self._cb = _Callbacks("Could not prepare the moment pack")
        self._quiet = False
        self.pack: MomentPack | None = None
        moments = sorted(library.moments.values(), key=lambda mo: (mo.kind != "big", mo.name))
        self.select = w.Dropdown(
            options=[("Choose a moment…", ANY)]
            + [(f"{'Big moment' if mo.kind == 'big' else 'Everyday moment'}: {mo.name}", mo.id) for mo in moments],
            value=ANY, layout=w.Layout(width="auto", max_width="100%"), description="Moment",
            style={"description_width": "initial"})
        self.select.add_class("wb-moments-select")
        self.select.observe(self._picked, names="value")
        self.header = w.HTML(f"{LEARNING_STYLE}<h3>Moments</h3><div class='wb-muted'>Facing something right now? "
                             "Big moments are transitions that last months; everyday moments are the conversations "
                             "and decisions of this week. Pick one for a checklist, a short module and a "
                             "scenario to practise.</div>")
        self.description = w.HTML("")
        self.description.add_class("wb-moments-description")
        self.checklist = w.HTML("")
        self.checklist.add_class("wb-moment-checklist")
        self.module_view = w.HTML("")
        self.open_button = w.Button(description="Open module", icon="book")
        self.open_button.add_class("wb-moment-open")
        self.open_button.on_click(lambda _b: self._cb.call(self.on_open, self.pack.module.id))
        self.module_box = w.VBox([self.module_view, self.open_button])
        self.module_box.add_class("wb-moment-module")
        self.scenario_view = w.HTML("")
        self.practice_button = w.Button(description="Practise it", icon="comments")
        self.practice_button.add_class("wb-moment-practice")
        self.practice_button.on_click(lambda _b: self._cb.call(self.on_practice, self.pack.scenario.id))
        self.scenario_box = w.VBox([self.scenario_view, self.practice_button])
        self.scenario_box.add_class("wb-moment-scenario")
        self.coaching = w.HTML("")
        self.coaching.add_class("wb-moment-coaching")
        self.pack_box = w.VBox([self.checklist, self.module_box, self.scenario_box, self.coaching])
        self.pack_box.add_class("wb-moment-pack")
        _show(self.pack_box, False)
        self.widget = w.VBox([self.header, self.select, self.description, self.pack_box, self._cb.error])
        self.widget.add_class("wb-moments")

    @property
    def errors(self) -> list[str]:
        return self._cb.errors

    def _picked(self, change: dict) -> None:
        if not self._quiet and change["new"] != ANY:
            self.pick(change["new"])

    def pick(self, moment_id: str) -> MomentPack | None:
        """Show the pack for a moment, as choosing it in the list does; None when ``on_pick`` failed."""
        moment = self.library.moments.get(moment_id)
        if moment is None:
            raise ValueError(f"unknown moment {moment_id!r}")
        ok, pack = self._cb.call(self.on_pick, moment_id)
        if not ok or pack is None:
            self._quiet = True
            try:
                self.select.value = self.pack.moment_id if self.pack is not None else ANY
            finally:
                self._quiet = False
            return None
        self._quiet = True
        try:
            self.select.value = moment_id
        finally:
            self._quiet = False
        self.pack = pack
        self.description.value = f"<p>{text_html(moment.description)}</p>"
        self.checklist.value = ("<b>Checklist</b><ol>" + "".join(f"<li>{text_html(c)}</li>" for c in pack.checklist)
                                + "</ol>")
        if pack.module is not None:
            mi = pack.module
            self.module_view.value = (f"<b>Read: {text_html(mi.title)}</b> <span class='wb-muted'>· {mi.minutes} min · "
                                      f"{text_html(mi.competency)}</span><div class='wb-explore-reason'>{text_html(mi.reason)}</div>")
        _show(self.module_box, pack.module is not None)
        _show(self.open_button, self.on_open is not None)
        if pack.scenario is not None:
            sc = pack.scenario
            self.scenario_view.value = (f"<b>Practise: {text_html(sc.title)}</b> <span class='wb-muted'>· "
                                        f"{text_html(sc.competency)}</span><div class='wb-explore-reason'>{text_html(sc.reason)}</div>")
        _show(self.scenario_box, pack.scenario is not None)
        _show(self.practice_button, self.on_practice is not None)
        self.coaching.value = (f"<b>A question to start with</b><div>{text_html(pack.coaching_opener)}</div>"
                               if pack.coaching_opener else "")
        _show(self.pack_box, True)
        return pack
