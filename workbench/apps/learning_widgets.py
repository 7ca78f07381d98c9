"""Widgets for learning: the leader's plan, exploring the library, and moment packs.

Plain ipywidgets that take data and callbacks and never touch the store; the page that hosts
them persists what the callbacks hand over (usually through :mod:`workbench.learning_log`):

* :class:`PlanPanel` ("My plan") shows the open recommendations with their reasons and the
  weekly time budget, and calls ``on_start(module_id)``, ``on_log_time(module_id, minutes)``,
  ``on_complete(module_id)``, ``on_dismiss(module_id)`` and ``on_refresh()``. Each returns the
  plan afterwards as ``(items, budget)``, and the panel redraws from it; a callback may return
  ``None`` instead when the page calls :meth:`PlanPanel.update` itself. ``on_change()`` is
  called after every action that succeeded, so the page can refresh progress elsewhere.
* :class:`ExplorePanel` ("Explore") searches and filters the library, shows "Suggested next
  for you" before any search, and opens a module in a :class:`ModuleReader`: the module's text,
  "Apply this week" and its knowledge check. Opening calls ``on_open(module_id)``; checking
  calls ``on_check(module_id, answers)`` (0-based option indexes), which returns the scored
  result (:class:`workbench.learning_log.CheckResult` or anything with the same attributes).
* :class:`MomentsPanel` ("Moments") lists the big and small leadership moments; picking one
  calls ``on_pick(moment_id)``, which returns the leader's
  :class:`~workbench.recommend.MomentPack`, and shows it.

A callback that raises does not break a widget and leaves its state as it was (the reader
still opens when ``on_open`` fails: reading needs nothing saved). The message is shown in an
element with class ``wb-learning-error`` and kept in ``.errors``.

Module text is Markdown, rendered by :func:`render_markdown`, a small renderer that escapes
all HTML first and then adds only its own tags.

Stable CSS classes
------------------
``wb-plan``, ``wb-plan-item``, ``wb-plan-title``, ``wb-plan-reason``, ``wb-plan-status``,
``wb-plan-start``, ``wb-plan-minutes``, ``wb-plan-log``, ``wb-plan-complete``,
``wb-plan-dismiss``, ``wb-plan-open``, ``wb-plan-budget``, ``wb-plan-budget-text``,
``wb-plan-refresh``, ``wb-plan-empty``, ``wb-plan-notice``;
``wb-explore``, ``wb-explore-search``, ``wb-explore-competency``, ``wb-explore-format``,
``wb-explore-minutes``, ``wb-explore-level``, ``wb-explore-heading``, ``wb-explore-results``,
``wb-explore-result``, ``wb-explore-suggestion``, ``wb-explore-reason``, ``wb-explore-open``;
``wb-reader``, ``wb-reader-title``, ``wb-reader-meta``, ``wb-reader-body``, ``wb-reader-apply``,
``wb-reader-close``, ``wb-check``, ``wb-check-question``, ``wb-check-submit``,
``wb-check-result``; ``wb-moments``, ``wb-moments-select``, ``wb-moments-description``,
``wb-moment-pack``, ``wb-moment-checklist``, ``wb-moment-module``, ``wb-moment-scenario``,
``wb-moment-coaching``, ``wb-moment-open``, ``wb-moment-practice``; ``wb-learning-error``.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from ..content.library import Library
from ..content.schema import Module
from ..recommend.explore import SearchResult, Suggestion, index_for, search_library

if TYPE_CHECKING:  # the plan's rows come from the store edge; the widgets only read their fields
    from ..learning_log import CheckResult
    from ..plans import PlanItem
    from ..recommend import MomentPack

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
.wb-reader-apply {background: #f3f7f1; border-radius: 8px; padding: 8px 14px; margin: 10px 0;}
.wb-check-question .widget-radio-box label {white-space: normal; line-height: 1.3;}
.wb-check-right {color: #1e6b35;}
.wb-check-wrong {color: #b3261e;}
.wb-learning-error, .wb-notice-refused {color: #b3261e;}
.wb-notice-ok {color: #1e6b35;}
</style>
"""


def _esc(text: object) -> str:
    return html.escape(" ".join(str(text).split()))


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
_FENCE = re.compile(r"^\s*```")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
_RULE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")
_ITEM = re.compile(r"^\s{0,3}([-*+]|\d{1,9}[.)])\s+(.*)$")
_QUOTE = re.compile(r"^\s{0,3}>\s?(.*)$")
_TABLE_SEP = re.compile(r"^\s*\|?\s*:?-{1,}:?\s*(\|\s*:?-{1,}:?\s*)*\|?\s*$")
_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*|__(?=\S)(.+?)(?<=\S)__")
_EM = re.compile(r"(?<![*\w])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![*\w])|(?<![_\w])_(?=[^\s_])(.+?)(?<=[^\s_])_(?![_\w])")
_LINK = re.compile(r"\[([^\]]+)\]\(((?:https?://|mailto:)[^\s)]+)\)")


def _inline(text: str) -> str:
    """Escape a line of text, then mark up code spans, links, bold and italics."""
    parts = re.split(r"(`[^`]+`)", text)
    out = []
    for part in parts:
        if part.startswith("`") and part.endswith("`") and len(part) > 1:
            out.append(f"<code>{html.escape(part[1:-1])}</code>")
            continue
        s = html.escape(part)
        s = _LINK.sub(lambda mt: f"<a href=\"{mt.group(2)}\" target=\"_blank\" rel=\"noopener\">{mt.group(1)}</a>", s)
        s = _BOLD.sub(lambda mt: f"<strong>{mt.group(1) or mt.group(2)}</strong>", s)
        s = _EM.sub(lambda mt: f"<em>{mt.group(1) or mt.group(2)}</em>", s)
        out.append(s)
    return "".join(out)


def _cells(line: str) -> list[str]:
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|"):
        line = line[:-1]
    return [c.strip() for c in line.split("|")]


def _blocks(lines: list[str], shift: int) -> list[str]:
    out: list[str] = []
    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        if _FENCE.match(line):
            j = i + 1
            while j < n and not _FENCE.match(lines[j]):
                j += 1
            out.append(f"<pre><code>{html.escape(chr(10).join(lines[i + 1:j]))}</code></pre>")
            i = j + 1
            continue
        if mt := _HEADING.match(line):
            level = min(6, len(mt.group(1)) + shift)
            out.append(f"<h{level}>{_inline(mt.group(2))}</h{level}>")
            i += 1
            continue
        if _RULE.match(line):
            out.append("<hr>")
            i += 1
            continue
        if _QUOTE.match(line):
            inner = []
            while i < n and (mt := _QUOTE.match(lines[i])):
                inner.append(mt.group(1))
                i += 1
            out.append("<blockquote>" + "\n".join(_blocks(inner, shift)) + "</blockquote>")
            continue
        if "|" in line and i + 1 < n and "|" in lines[i + 1] and _TABLE_SEP.match(lines[i + 1]):
            head = _cells(line)
            rows = []
            i += 2
            while i < n and lines[i].strip() and "|" in lines[i]:
                rows.append(_cells(lines[i]))
                i += 1
            th = "".join(f"<th>{_inline(c)}</th>" for c in head)
            body = "".join("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in r[:len(head)])
                           + "<td></td>" * (len(head) - len(r)) + "</tr>" for r in rows)
            out.append(f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>")
            continue
        if mt := _ITEM.match(line):
            ordered = mt.group(1)[0].isdigit()
            items: list[list[str]] = []
            while i < n:
                mt = _ITEM.match(lines[i])
                if mt and mt.group(1)[0].isdigit() == ordered:
                    items.append([mt.group(2)])
                    i += 1
                elif lines[i].strip() and lines[i][:1].isspace() and items:  # continuation line
                    items[-1].append(lines[i].strip())
                    i += 1
                elif not lines[i].strip():  # a blank line ends the list unless an item of the same kind follows
                    j = i
                    while j < n and not lines[j].strip():
                        j += 1
                    nxt = _ITEM.match(lines[j]) if j < n else None
                    if nxt and nxt.group(1)[0].isdigit() == ordered:
                        i = j
                    else:
                        break
                else:
                    break
            tag = "ol" if ordered else "ul"
            start = ""
            if ordered:
                first = int(re.match(r"\s*(\d+)", line).group(1))
                start = f" start=\"{first}\"" if first != 1 else ""
            lis = "".join(f"<li>{_inline(' '.join(it))}</li>" for it in items)
            out.append(f"<{tag}{start}>{lis}</{tag}>")
            continue
        para = []
        while i < n and lines[i].strip() and not (
            _FENCE.match(lines[i]) or _HEADING.match(lines[i]) or _RULE.match(lines[i]) or _QUOTE.match(lines[i])
            or _ITEM.match(lines[i])
        ):
            para.append(lines[i].strip())
            i += 1
        out.append(f"<p>{_inline(' '.join(para))}</p>")
    return out


def render_markdown(text: str, *, shift: int = 0, drop_title: bool = False) -> str:
    """Markdown to HTML, safely: every character of ``text`` is HTML-escaped before any markup is added.

    Supports what the library's modules use: ATX headings, paragraphs, bulleted and numbered
    lists, bold, italics, inline code, fenced code blocks, block quotes, pipe tables,
    horizontal rules, and ``http(s)``/``mailto`` links. Raw HTML in the text is shown as text.

    Parameters
    ----------
    text
        The Markdown source.
    shift
        Added to every heading level (capped at 6), to fit the text under a page's own heading.
    drop_title
        Leave out a first-level heading that opens the text (the reader shows the title itself).
    """
    lines = str(text).replace("\r\n", "\n").split("\n")
    if drop_title:
        first = next((k for k, line in enumerate(lines) if line.strip()), None)
        if first is not None and re.match(r"^#\s", lines[first]):
            lines = lines[first + 1:]
    return "\n".join(_blocks(lines, shift))


# ------------------------------------------------------------------------------ my plan
class _PlanCard:
    """One plan item: what it is, why, its status and the buttons to act on it."""

    def __init__(self, panel: PlanPanel, item: PlanItem, library: Library):
        self.item = item
        comp = library.competencies.get(item.competency)
        comp_name = comp.name if comp else item.competency
        self.title = w.HTML(f"<b>{_esc(item.title)}</b> <span class='wb-muted'>· {item.minutes} min · "
                            f"{_esc(comp_name)}</span>")
        self.title.add_class("wb-plan-title")
        self.reason = w.HTML(f"<div>{_esc(item.reason)}</div>")
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
        The open plan items (:class:`workbench.plans.PlanItem`), as :func:`workbench.plans.current_plan` returns.
    library
        For competency names.
    budget
        ``(used_minutes, budget_minutes)`` for this week (:func:`workbench.learning_log.week_budget`).
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
    """

    def __init__(self, module: Module, library: Library, on_check: Callable[[str, list[int]], Any] | None = None,
                 on_close: Callable[[], Any] | None = None):
        self.module = module
        self.on_check, self.on_close = on_check, on_close
        self._cb = _Callbacks()
        self.result: CheckResult | None = None
        comps = ", ".join(library.competencies[c].name if c in library.competencies else c for c in module.competencies)
        self.close_button = w.Button(description="Back to the library", icon="arrow-left")
        self.close_button.add_class("wb-reader-close")
        self.close_button.on_click(lambda _b: self.close())
        _show(self.close_button, on_close is not None)
        self.title = w.HTML(f"<h2>{_esc(module.title)}</h2>")
        self.title.add_class("wb-reader-title")
        self.meta = w.HTML(
            f"<div class='wb-muted'>{module.minutes} min · {FORMAT_NAMES.get(module.format, module.format)} · "
            f"for {LEVEL_NAMES.get(module.level, module.level).lower()} · {_esc(comps)}</div>"
            f"<p><i>{_esc(module.summary)}</i></p>")
        self.meta.add_class("wb-reader-meta")
        self.body = w.HTML(render_markdown(module.body, shift=1, drop_title=True))
        self.body.add_class("wb-reader-body")
        self.apply = w.HTML(f"<b>Apply this week</b><div>{_esc(module.apply_this_week)}</div>")
        self.apply.add_class("wb-reader-apply")
        self.questions: list[w.RadioButtons] = []
        boxes = []
        for i, q in enumerate(module.knowledge_check, start=1):
            radios = w.RadioButtons(options=[(" ".join(o.split()), k) for k, o in enumerate(q.options)], value=None,
                                    layout=w.Layout(width="100%"))
            self.questions.append(radios)
            box = w.VBox([w.HTML(f"<b>{i}. {_esc(q.question)}</b>"), radios])
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
        self.widget = w.VBox([self.close_button, self.title, self.meta, self.body, self.apply, self.check_box,
                              self._cb.error])
        self.widget.add_class("wb-reader")

    @property
    def errors(self) -> list[str]:
        return self._cb.errors

    def answers(self) -> list[int | None]:
        """The chosen option index per question (None where nothing is chosen yet)."""
        return [r.value for r in self.questions]

    def check(self, answers: Sequence[int] | None = None) -> CheckResult | None:
        """Score the check through ``on_check`` and show the feedback; None when not scored.

        ``answers`` (0-based option indexes) are put into the radio buttons first, as if chosen.
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
        rows = []
        for i, q in enumerate(result.questions, start=1):
            mark = "wb-check-right" if q.correct else "wb-check-wrong"
            verdict = "Right." if q.correct else f"Not quite. The best answer: {_esc(q.answer_text)}."
            rows.append(f"<li class='{mark}'><b>Question {i}: {verdict}</b> "
                        f"<span style='color:#33414f'>{_esc(q.feedback)}</span></li>")
        right = sum(q.correct for q in result.questions)
        outcome = "Passed" if result.passed else "Not passed yet: read the feedback and try again"
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
        self.competency = w.Dropdown(options=[("Any competency", ANY)] + [(c.name, c.id) for c in comps], value=ANY)
        self.competency.add_class("wb-explore-competency")
        formats = sorted({m.format for m in library.modules.values()})
        self.format = w.Dropdown(options=[("Any format", ANY)] + [(FORMAT_NAMES.get(f, f), f) for f in formats],
                                 value=ANY)
        self.format.add_class("wb-explore-format")
        self.max_minutes = w.Dropdown(options=[("Any length", ANY)] + [(f"Up to {x} min", x) for x in MINUTE_CHOICES],
                                      value=ANY)
        self.max_minutes.add_class("wb-explore-minutes")
        self.level = w.Dropdown(options=[("Any level", ANY)] + [(v, k_) for k_, v in LEVEL_NAMES.items()], value=ANY)
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
                f"{LEVEL_NAMES.get(mod.level, mod.level)} · {_esc(comp.name if comp else mod.primary_competency)}")

    def _open_button(self, module_id: str) -> w.Button:
        b = w.Button(description="Open", icon="book")
        b.add_class("wb-explore-open")
        b.on_click(lambda _b: self.open(module_id))
        return b

    def _result_card(self, r: SearchResult) -> w.Widget:
        mod = self.library.modules[r.id]
        summary = " ".join(mod.summary.split())
        snippet = summary if len(summary) <= 180 else summary[:177].rsplit(" ", 1)[0] + "…"
        card = w.VBox([w.HTML(f"<b>{_esc(mod.title)}</b> <span class='wb-muted'>· {self._meta(mod)}</span>"
                              f"<div>{_esc(snippet)}</div>"), self._open_button(r.id)])
        card.add_class("wb-explore-result")
        return card

    def _suggestion_card(self, s: Suggestion) -> w.Widget:
        mod = self.library.modules.get(s.module_id)
        meta = self._meta(mod) if mod else f"{s.minutes} min"
        reason = w.HTML(f"<div>{_esc(s.reason)}</div>")
        reason.add_class("wb-explore-reason")
        card = w.VBox([w.HTML(f"<b>{_esc(s.title)}</b> <span class='wb-muted'>· {meta}</span>"), reason,
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
        (for example :func:`workbench.plans.pack_for`).
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
            value=ANY, layout=w.Layout(width="auto"))
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
        self.description.value = f"<p>{_esc(moment.description)}</p>"
        self.checklist.value = ("<b>Checklist</b><ol>" + "".join(f"<li>{_esc(c)}</li>" for c in pack.checklist)
                                + "</ol>")
        if pack.module is not None:
            mi = pack.module
            self.module_view.value = (f"<b>Read: {_esc(mi.title)}</b> <span class='wb-muted'>· {mi.minutes} min · "
                                      f"{_esc(mi.competency)}</span><div class='wb-explore-reason'>{_esc(mi.reason)}</div>")
        _show(self.module_box, pack.module is not None)
        _show(self.open_button, self.on_open is not None)
        if pack.scenario is not None:
            sc = pack.scenario
            self.scenario_view.value = (f"<b>Practise: {_esc(sc.title)}</b> <span class='wb-muted'>· "
                                        f"{_esc(sc.competency)}</span><div class='wb-explore-reason'>{_esc(sc.reason)}</div>")
        _show(self.scenario_box, pack.scenario is not None)
        _show(self.practice_button, self.on_practice is not None)
        self.coaching.value = (f"<b>A question to start with</b><div>{_esc(pack.coaching_opener)}</div>"
                               if pack.coaching_opener else "")
        _show(self.pack_box, True)
        return pack
