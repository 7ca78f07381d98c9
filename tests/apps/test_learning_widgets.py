"""The learning widgets driven programmatically: my plan, explore with its reader and knowledge
check, moments, and the safe Markdown renderer."""

from __future__ import annotations

import html
import re

import pytest

from workbench.apps.learning_widgets import (
    ExplorePanel,
    ModuleReader,
    MomentsPanel,
    PlanPanel,
    render_markdown,
)
from workbench.recommend import LeaderContext, explore_next, moment_pack, search_library
from workbench.services.learning import score_check
from workbench.services.plans import PlanItem


def classes(widget) -> set[str]:
    found = set(widget._dom_classes)
    for c in getattr(widget, "children", ()):
        found |= classes(c)
    return found


def find(widget, cls: str) -> list:
    out = [widget] if cls in widget._dom_classes else []
    for c in getattr(widget, "children", ()):
        out += find(c, cls)
    return out


def esc(text: str) -> str:
    """Text as the widgets put it into HTML."""
    return html.escape(" ".join(text.split()))


def visible(widget) -> bool:
    return widget.layout.display != "none"


def item(library, module_id: str, status: str = "active", reason: str | None = None) -> PlanItem:
    mod = library.modules[module_id]
    return PlanItem(module_id, mod.title, mod.minutes, mod.primary_competency,
                    reason or f"Because {mod.title} fits where you want to grow.", "priority", 1.0, 1.0, status)


IDS = ("asking-powerful-questions", "conflict-styles", "clear-messages", "coaching-conversations-grow")


class FakePlan:
    """What the page does: keeps a plan and a budget, and answers each callback with both."""

    def __init__(self, library, n: int = 3, used: float = 35.0, total: int = 60):
        self.library = library
        self.items = [item(library, mid) for mid in IDS[:n]]
        self.used, self.total = used, total
        self.calls: list[tuple] = []
        self.changes = 0

    def state(self):
        return list(self.items), (self.used, self.total)

    def _set(self, mid, status):
        self.items = [PlanItem(*[*it.__dict__.values()][:-1], status) if it.module_id == mid else it
                      for it in self.items]

    def start(self, mid):
        self.calls.append(("start", mid))
        self._set(mid, "started")
        return self.state()

    def log(self, mid, minutes):
        self.calls.append(("log", mid, minutes))
        self._set(mid, "started")
        self.used += minutes
        return self.state()

    def complete(self, mid):
        self.calls.append(("complete", mid))
        self.items = [it for it in self.items if it.module_id != mid]
        return self.state()

    def dismiss(self, mid):
        self.calls.append(("dismiss", mid))
        self.items = [it for it in self.items if it.module_id != mid]
        return self.state()

    def refresh(self):
        self.calls.append(("refresh",))
        have = {it.module_id for it in self.items}
        for mid in IDS:
            if len(self.items) < 3 and mid not in have:
                self.items.append(item(self.library, mid))
        return self.state()

    def change(self):
        self.changes += 1

    def panel(self, **kw) -> PlanPanel:
        items, budget = self.state()
        args = dict(on_start=self.start, on_log_time=self.log, on_complete=self.complete, on_dismiss=self.dismiss,
                    on_refresh=self.refresh, on_change=self.change)
        return PlanPanel(items, self.library, budget, **(args | kw))


def boom(*_args, **_kw):
    raise RuntimeError("database is locked")


# ------------------------------------------------------------------------------ my plan
def test_plan_panel_shows_each_item_with_its_reason_and_the_budget(library):
    fake = FakePlan(library)
    panel = fake.panel()
    assert {"wb-plan", "wb-plan-item", "wb-plan-reason", "wb-plan-start", "wb-plan-log", "wb-plan-minutes",
            "wb-plan-complete", "wb-plan-dismiss", "wb-plan-budget", "wb-plan-refresh", "wb-plan-status",
            "wb-learning-error"} <= classes(panel.widget)
    cards = find(panel.widget, "wb-plan-item")
    assert len(cards) == 3
    for it, card in zip(fake.items, cards, strict=True):
        c = panel.card(it.module_id)
        assert c.widget is card
        assert esc(it.reason) in c.reason.value and esc(it.title) in c.title.value
        assert library.competencies[it.competency].name in c.title.value and f"{it.minutes} min" in c.title.value
        assert "Not started yet" in c.status.value and c.start_button.description == "Start"
        assert not visible(c.open_button)  # no on_open given
    assert "35 of 60 minutes this week" in panel.budget_text.value and "over" not in panel.budget_text.value
    assert panel.budget_bar.value == 35.0 and panel.budget_bar.max == 60.0
    assert not visible(panel.refresh_button) and not visible(panel.empty)  # three items: no "Suggest more"


def test_plan_panel_with_fewer_items_offers_more_and_says_when_empty(library):
    two = FakePlan(library, n=2).panel()
    assert visible(two.refresh_button) and len(two.list.children) == 2
    empty = FakePlan(library, n=0, used=0.0).panel()
    assert visible(empty.empty) and visible(empty.refresh_button) and empty.list.children == ()
    assert "0 of 60 minutes this week" in empty.budget_text.value
    read_only = PlanPanel([item(library, IDS[0])], library, (10, 45))
    c = read_only.card(IDS[0])
    assert not any(visible(x) for x in (c.start_button, c.minutes, c.log_button, c.complete_button,
                                        c.dismiss_button, c.open_button, read_only.refresh_button))
    assert "10 of 45 minutes this week" in read_only.budget_text.value


def test_start_log_complete_dismiss_call_back_and_redraw(library):
    fake = FakePlan(library)
    panel = fake.panel()
    a, b, c = IDS[:3]
    panel.card(a).start_button.click()
    assert fake.calls[-1] == ("start", a) and fake.changes == 1
    assert "In progress" in panel.card(a).status.value and panel.card(a).start_button.description == "Continue"
    assert "Started" in panel.notice.value
    panel.card(b).minutes.value = 25
    panel.card(b).log_button.click()
    assert fake.calls[-1] == ("log", b, 25) and fake.changes == 2
    assert "60 of 60 minutes this week" in panel.budget_text.value and "Logged 25 min" in panel.notice.value
    panel.card(a).complete_button.click()
    assert fake.calls[-1] == ("complete", a) and fake.changes == 3
    assert list(panel.cards) == [b, c] and visible(panel.refresh_button)
    panel.card(c).dismiss_button.click()
    assert fake.calls[-1] == ("dismiss", c) and list(panel.cards) == [b]
    panel.refresh_button.click()
    assert fake.calls[-1] == ("refresh",) and len(panel.cards) == 3 and not visible(panel.refresh_button)
    assert "Added 2 modules" in panel.notice.value and fake.changes == 5
    assert panel.errors == []


def test_refresh_that_adds_nothing_says_so(library):
    fake = FakePlan(library, n=2, used=70.0)
    panel = fake.panel(on_refresh=lambda: fake.state())
    assert "70 of 60 minutes this week" in panel.budget_text.value and "over your weekly budget" in panel.budget_text.value
    assert panel.budget_bar.value == panel.budget_bar.max == 60.0
    assert panel.refresh() and "Nothing new fits" in panel.notice.value and len(panel.cards) == 2


def test_a_failing_callback_shows_an_error_and_changes_nothing(library):
    fake = FakePlan(library)
    panel = fake.panel(on_start=boom, on_complete=boom, on_log_time=boom)
    before = list(panel.items), panel.budget_text.value
    mid = IDS[0]
    panel.card(mid).start_button.click()
    panel.card(mid).log_button.click()
    panel.card(mid).complete_button.click()
    assert len(panel.errors) == 3 and all("database is locked" in e for e in panel.errors)
    assert "database is locked" in panel._cb.error.value
    assert (list(panel.items), panel.budget_text.value) == before and fake.changes == 0
    assert "Not started yet" in panel.card(mid).status.value
    panel.card(mid).dismiss_button.click()  # a working callback clears the message
    assert panel._cb.error.value == "" and fake.changes == 1 and mid not in panel.cards


def test_callbacks_may_leave_redrawing_to_the_page_and_bad_returns_are_shown(library):
    fake = FakePlan(library)
    seen = []
    panel = fake.panel(on_start=seen.append)  # returns None: the panel keeps what it shows
    panel.start(IDS[0])
    assert seen == [IDS[0]] and fake.changes == 1 and "Not started yet" in panel.card(IDS[0]).status.value
    panel.update([item(library, IDS[0], "started")], (50, 90))
    assert list(panel.cards) == [IDS[0]] and "In progress" in panel.card(IDS[0]).status.value
    assert "50 of 90 minutes this week" in panel.budget_text.value
    odd = FakePlan(library).panel(on_complete=lambda mid: ["not", "a", "plan"])
    assert not odd.complete(IDS[0])
    assert "not (items, budget)" in odd._cb.error.value and len(odd.cards) == 3


def test_minutes_out_of_range_are_refused_before_calling(library):
    fake = FakePlan(library)
    panel = fake.panel()
    assert not panel.log_time(IDS[0], 0) and not panel.log_time(IDS[0], 241)
    assert "between 1 and 240" in panel.notice.value and fake.calls == []
    panel.card(IDS[0]).minutes.value = 500  # the box itself keeps to its limits
    assert panel.card(IDS[0]).minutes.value == 240


def test_plan_cards_offer_only_the_actions_that_fit_and_start_opens_the_module(library):
    opened = []
    fake = FakePlan(library)
    panel = fake.panel(on_open=opened.append)
    c = panel.card(IDS[1])
    assert visible(c.start_button) and visible(c.dismiss_button) and c.start_button.description == "Start"
    assert not any(visible(x) for x in (c.open_button, c.minutes, c.log_button, c.complete_button))
    c.start_button.click()
    assert opened == [IDS[1]] and fake.calls[-1] == ("start", IDS[1])  # saved, then opened
    c = panel.card(IDS[1])
    assert c.start_button.description == "Continue"
    assert all(visible(x) for x in (c.start_button, c.minutes, c.log_button, c.complete_button, c.dismiss_button))
    assert not visible(c.open_button)
    failing = FakePlan(library).panel(on_start=boom, on_open=opened.append)
    failing.card(IDS[0]).start_button.click()
    assert opened == [IDS[1]]  # not saved: not opened
    reader_only = PlanPanel([item(library, IDS[0])], library, (10, 45), on_open=opened.append)
    assert visible(reader_only.card(IDS[0]).open_button)  # no Start: Read is the way in
    reader_only.card(IDS[0]).open_button.click()
    assert opened[-1] == IDS[0]


# ------------------------------------------------------------------------------ explore
@pytest.fixture(scope="module")
def context(library):
    return LeaderContext("L-test", "first-time", skill_mean={c: -0.5 for c in library.competency_ids},
                         skill_sd={c: 0.4 for c in library.competency_ids},
                         completed=frozenset({"asking-powerful-questions"}))


@pytest.fixture(scope="module")
def suggestions(library, context):
    return explore_next(context, library, k=4)


def check_with_score(library, calls):
    def on_check(mid, answers):
        calls.append((mid, answers))
        return score_check(library.modules[mid], answers, attempt=sum(c[0] == mid for c in calls))
    return on_check


def test_explore_shows_suggestions_first_then_searches(library, suggestions):
    searched = []

    def spy(*args, **kw):
        searched.append((args[1:], kw))
        return search_library(*args, **kw)

    panel = ExplorePanel(library, suggestions, on_open=None, on_check=None, search=spy)
    assert {"wb-explore", "wb-explore-search", "wb-explore-suggestion", "wb-explore-open",
            "wb-explore-reason"} <= classes(panel.widget)
    assert searched == [] and panel.showing_suggestions and "Suggested next for you" in panel.heading.value
    cards = find(panel.widget, "wb-explore-suggestion")
    assert len(cards) == len(suggestions) == 4
    for s, card in zip(suggestions, cards, strict=True):
        assert esc(s.reason) in find(card, "wb-explore-reason")[0].value
        assert esc(s.title) in card.children[0].value
    panel.query.value = "delegating work"
    assert searched[-1] == (("delegating work", 20), {"competency": None, "format": None, "max_minutes": None,
                                                        "level": None})
    assert not panel.showing_suggestions and panel.results
    assert any("deleg" in r.id for r in panel.results[:3])
    assert len(find(panel.widget, "wb-explore-result")) == len(panel.results)
    panel.query.value = ""
    assert panel.showing_suggestions and len(find(panel.widget, "wb-explore-suggestion")) == 4


def test_filters_narrow_the_results(library):
    panel = ExplorePanel(library, [], None, None)
    assert not panel.showing_suggestions  # no suggestions: the library is listed
    assert len(panel.results) == min(20, len(library.modules))
    res = panel.search("", format="tool", max_minutes=15)
    assert res and all(r.format == "tool" and r.minutes <= 15 for r in res)
    assert (panel.format.value, panel.max_minutes.value) == ("tool", 15)
    res = panel.search("feedback", format=None, max_minutes=None, competency="feedback", level="first-time")
    assert res and all("feedback" in r.competencies and r.level == "first-time" for r in res)
    assert panel.search("zzzqqq xyzzy", competency=None, level=None) == []
    assert "No modules match" in panel.heading.value and panel.list.children == ()
    panel.level.value = "senior"  # choosing in a list searches too
    assert all(r.level == "senior" for r in panel.results)


def test_every_search_reports_its_time(library):
    panel = ExplorePanel(library, [], None, None)
    panel.prepare()
    for q in ("giving feedback", "conflict in the team", "delegation", "first time manager", "change"):
        panel.search(q)
        assert panel.results and panel.last_search_ms >= 0  # how fast: benchmarks/bench_pages.py


def test_open_read_and_take_the_knowledge_check(library):
    opened, checks = [], []
    panel = ExplorePanel(library, [], opened.append, check_with_score(library, checks))
    panel.search("powerful questions")
    first = find(panel.widget, "wb-explore-result")[0]
    mid = panel.results[0].id
    find(first, "wb-explore-open")[0].click()
    assert opened == [mid] and panel.reader is not None
    assert not visible(panel.browse) and visible(panel.reader_box)
    r, mod = panel.reader, library.modules[mid]
    assert {"wb-reader", "wb-reader-title", "wb-reader-body", "wb-check", "wb-check-question", "wb-check-submit",
            "wb-check-result", "wb-reader-close", "wb-reader-apply"} <= classes(panel.widget)
    assert esc(mod.title) in r.title.value and f"{mod.minutes} min" in r.meta.value and esc(mod.summary) in r.meta.value
    assert "<h3>" in r.body.value and "<h1>" not in r.body.value  # the title is not repeated
    assert "Apply this week" in r.apply.value and esc(mod.apply_this_week) in r.apply.value
    assert len(r.questions) == len(mod.knowledge_check)
    r.submit.click()  # nothing answered yet
    assert "Answer every question first" in r.result_view.value and checks == []
    key = [q.answer for q in mod.knowledge_check]
    wrong_last = key[:-1] + [(key[-1] + 1) % len(mod.knowledge_check[-1].options)]
    for radio, a in zip(r.questions, wrong_last, strict=True):
        radio.value = a
    r.submit.click()
    assert checks == [(mid, wrong_last)]
    n = len(key)
    assert f"{n - 1} of {n} right" in r.result_view.value and "Passed" in r.result_view.value
    assert r.result_view.value.count("wb-check-right") == n - 1 and r.result_view.value.count("wb-check-wrong") == 1
    # a first wrong try names the wrong question and its hint, not the answer
    last = mod.knowledge_check[-1]
    assert "Not yet" in r.result_view.value and esc(last.hint) in r.result_view.value
    assert esc(last.options[last.answer]) not in r.result_view.value and "The best answer" not in r.result_view.value
    assert r.answers() == wrong_last  # kept by identity across the reshuffle
    r.check(wrong_last)  # the second try reveals the best answer and why
    assert "Not quite. The best answer" in r.result_view.value and esc(last.feedback) in r.result_view.value
    res = r.check(key)
    assert res.score == 1.0 and f"{n} of {n} right (100%)" in r.result_view.value
    r.close_button.click()
    assert visible(panel.browse) and not visible(panel.reader_box)


def test_a_failing_open_still_opens_and_a_failing_check_shows_nothing_scored(library):
    panel = ExplorePanel(library, [], on_open=boom, on_check=boom)
    reader = panel.open("conflict-styles")
    assert visible(panel.reader_box) and "database is locked" in panel._cb.error.value
    key = [q.answer for q in library.modules["conflict-styles"].knowledge_check]
    assert reader.check(key) is None
    assert reader.result is None and "database is locked" in reader._cb.error.value
    assert "right" not in reader.result_view.value
    with pytest.raises(ValueError, match="unknown module"):
        panel.open("no-such-module")
    with pytest.raises(ValueError, match="questions"):
        reader.check([0])


def test_a_failing_search_is_shown(library):
    panel = ExplorePanel(library, [], None, None, search=boom)
    assert "database is locked" in panel._cb.error.value and panel.results == []


# ------------------------------------------------------------------------------ moments
def test_moments_list_pick_and_pack(library, context):
    picked, opened, practised = [], [], []

    def on_pick(mid):
        picked.append(mid)
        return moment_pack(context, library, mid)

    panel = MomentsPanel(library, on_pick, on_open=opened.append, on_practice=practised.append)
    assert {"wb-moments", "wb-moments-select", "wb-moment-pack", "wb-moment-checklist"} <= classes(panel.widget)
    labels = [lab for lab, _ in panel.select.options]
    assert len(labels) == len(library.moments) + 1 and labels[0].startswith("Choose")
    kinds = [library.moments[v].kind for _, v in panel.select.options[1:]]
    assert kinds == sorted(kinds)  # "big" before "small"
    assert not visible(panel.pack_box) and picked == []
    panel.select.value = "tough-performance-conversation"
    assert picked == ["tough-performance-conversation"] and visible(panel.pack_box)
    pack = panel.pack
    assert panel.checklist.value.count("<li>") == len(pack.checklist) == len(
        library.moments["tough-performance-conversation"].checklist)
    assert pack.module is not None and esc(pack.module.title) in panel.module_view.value
    assert esc(pack.module.reason) in panel.module_view.value and esc(pack.scenario.reason) in panel.scenario_view.value
    assert all(esc(c) in panel.checklist.value for c in pack.checklist)
    assert "A short module for this moment" in panel.module_view.value
    assert pack.scenario is not None and "Practise the moment safely first" in panel.scenario_view.value
    assert "A question to start with" in panel.coaching.value
    panel.open_button.click()
    panel.practice_button.click()
    assert opened == [pack.module.id] and practised == [pack.scenario.id]
    assert esc(library.moments["tough-performance-conversation"].description) in panel.description.value


def test_a_failing_pick_keeps_the_previous_pack(library, context):
    fail = {"on": False}

    def on_pick(mid):
        if fail["on"]:
            raise RuntimeError("no estimates yet")
        return moment_pack(context, library, mid)

    panel = MomentsPanel(library, on_pick)
    assert not visible(panel.open_button) or panel.pack is None
    panel.pick("new-role")
    assert panel.pack.moment_id == "new-role" and not visible(panel.open_button)
    fail["on"] = True
    panel.select.value = "conflict-today"
    assert panel.pack.moment_id == "new-role" and panel.select.value == "new-role"
    assert "no estimates yet" in panel._cb.error.value and panel.errors
    with pytest.raises(ValueError, match="unknown moment"):
        panel.pick("nope")


# ------------------------------------------------------------------------------ Markdown
def test_markdown_is_escaped_before_markup():
    src = ("# Title\n\nHello <script>alert('x')</script> **bold** and *soft* and `a<b>`.\n\n"
           "[site](https://example.org/a?b=1&c=2) and [bad](javascript:alert(1))\n")
    out = render_markdown(src, drop_title=True)
    assert "<script" not in out and "&lt;script&gt;" in out
    assert "<strong>bold</strong>" in out and "<em>soft</em>" in out and "<code>a&lt;b&gt;</code>" in out
    assert '<a href="https://example.org/a?b=1&amp;c=2"' in out
    assert "javascript:" in out and 'href="javascript' not in out
    assert "Title" not in out
    assert "<h1>Title</h1>" in render_markdown(src) and "<h3>Title</h3>" in render_markdown(src, shift=2)


def test_markdown_blocks():
    src = """Intro line one
line two.

## Steps

1. **First:** do this
   and carry on.
2. Then that.

- a point
- snake_case_stays and _this_ leans

> **Manager:** quoted
>
> second paragraph

| Instead of | Try |
|---|---|
| Why? | What led you there? |

---

```
| not | a table |
**not bold**
```
"""
    out = re.sub(r">\s+<", "><", render_markdown(src))  # layout whitespace between tags is not content
    assert "<p>Intro line one line two.</p>" in out and "<h2>Steps</h2>" in out
    assert re.search(r"<ol><li><strong>First:</strong> do this and carry on\.</li><li>Then that\.</li></ol>", out)
    assert "<ul><li>a point</li><li>snake_case_stays and <em>this</em> leans</li></ul>" in out
    assert "<blockquote><p><strong>Manager:</strong> quoted</p><p>second paragraph</p></blockquote>" in out
    assert ("<table><thead><tr><th>Instead of</th><th>Try</th></tr></thead>"
            "<tbody><tr><td>Why?</td><td>What led you there?</td></tr></tbody></table>") in out
    assert "<hr>" in out
    assert "<pre><code>| not | a table |\n**not bold**\n</code></pre>" in out


def test_every_library_module_renders_cleanly(library):
    for mod in library.modules.values():
        out = render_markdown(mod.body, shift=1, drop_title=True)
        text = re.sub(r"<pre>.*?</pre>", "", out, flags=re.S)
        assert "**" not in text and "|---" not in text and "\n#" not in text, mod.id
        assert "<h1>" not in out and "<p>" in out, mod.id
        assert not re.search(r"<(?!/?(p|h[2-6]|ul|ol|li|strong|em|code|pre|blockquote|table|thead|tbody|tr|th|td|hr|a)\b)",
                             out), mod.id


def test_markdown_sanitizer_keeps_only_safe_tags_and_links():
    src = ("| a | b |\n|---|---|\n| <img src=x onerror=alert(1)> | [x](data:text/html,hi) |\n\n"
           "[mail](mailto:people@example.org) <a href='https://evil.example'>raw</a>\n")
    out = render_markdown(src)
    assert "<img" not in out and "onerror" not in out.replace("&lt;img src=x onerror=alert(1)&gt;", "")
    assert 'href="data:' not in out and "<a href='https://evil" not in out
    assert '<a href="mailto:people@example.org" target="_blank" rel="noopener">mail</a>' in out
    assert "<td>" in out and "&lt;a href=" in out


def test_reader_shows_the_organizations_section_after_the_text(library):
    import dataclasses

    reader = ModuleReader(library.modules["feedback-sbi"], library)
    org = reader.organization
    assert "wb-reader-org" in org._dom_classes and org.layout.display != "none"
    assert "<h3>In Northwind Cooperative</h3>" in org.value  # at the level of the text's own sections
    assert "<em>Candor with care</em>" in org.value and "New systems and ways of working" in org.value
    kids = reader.widget.children
    assert kids.index(reader.body) + 1 == kids.index(org) and kids.index(org) + 1 == kids.index(reader.apply)
    bare = ModuleReader(library.modules["feedback-sbi"], dataclasses.replace(library, organization=None))
    assert bare.organization.value == "" and bare.organization.layout.display == "none"
def test_options_are_shuffled_every_attempt_and_answers_keep_their_identity(library):
    from workbench.apps.learning_widgets import ModuleReader

    mod = library.modules["conflict-styles"]
    calls = []
    r = ModuleReader(mod, library, on_check=check_with_score(library, calls), seed=3)
    orders = [r.shown_order()]
    for q, shown in zip(mod.knowledge_check, orders[0], strict=True):
        assert sorted(shown) == list(range(len(q.options)))
    for radio, q, shown in zip(r.questions, mod.knowledge_check, orders[0], strict=True):
        labels = dict((v, lab) for lab, v in radio.options)
        assert all(labels[k] == " ".join(q.options[k].split()) for k in shown)  # each label sits on its own id
    wrong = [(q.answer + 1) % len(q.options) for q in mod.knowledge_check]
    for _ in range(4):
        r.check(wrong)
        orders.append(r.shown_order())
    assert [c[1] for c in calls] == [wrong] * 4  # stored by identity whatever the order shown
    assert all(tuple(a) != tuple(b) for a, b in zip(orders, orders[1:], strict=False))  # a new order every attempt
    # over many readers every option reaches the first place: the authored position tells nothing
    firsts = {ModuleReader(mod, library, seed=s).shown_order()[0][0] for s in range(40)}
    assert firsts == set(range(len(mod.knowledge_check[0].options)))
