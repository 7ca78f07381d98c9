"""The assessment form: one question at a time, each answer saved the moment it is given.

:class:`AssessmentForm` is a plain ipywidgets component. It never touches the store: it takes the
questions, a question *driver* (which item comes next) and the answers already saved, and calls

* ``on_answer(item_id, value)`` for every answer, **before** it moves on; if the callback raises,
  the message is shown (class ``wb-assessment-error``), the question stays on screen and nothing
  advances, so what the leader sees is always what is stored;
* ``on_submit()`` when the leader submits; afterwards the form is closed for good and shows a
  read-only thank-you panel (class ``wb-assessment-done``). A form built for a submitted session
  shows only that panel.

The page builds it from :func:`workbench.services.assessment.start` with :meth:`AssessmentForm.from_state`.

Drivers
-------
A driver decides the order; the form owns the answers. Any object with these members works
(:class:`workbench.skills.forms.FixedDriver` and :class:`~workbench.skills.forms.AdaptiveDriver`
are the two the product uses):

* ``adaptive`` (bool) and ``total`` (the number of items it may ask);
* ``next_item(answers) -> item id | None``: the next question given the answers so far (an
  ordered mapping item id -> value), None when the form asks nothing more;
* ``remaining(answers) -> int``: how many questions are still to come (an estimate when adaptive);
* ``submit_blocker(answers) -> str | None``: why the form cannot be submitted yet, or None.

Because the next question depends only on the ordered answers, a form built with the saved
answers replays them and continues exactly where the person left off.

Going back
----------
On a fixed form, Back steps through every earlier question; answering one changes it (saved
at once) and moves one question forward again. On an adaptive form only the latest answer can
be changed, and only until the next question is answered: later questions were chosen because
of the earlier answers, so the form never rewrites its own history. Changing that latest answer
lets the form choose the next question afresh.

Stable CSS classes: ``wb-assessment``, ``wb-assessment-question``, ``wb-assessment-option`` (one
``Button`` per option, also ``wb-assessment-option-<value>``; the chosen one ``wb-assessment-chosen``),
``wb-assessment-not-observed`` (the "not observed / can't say" button of a question that offers it,
also ``wb-assessment-option-none``), ``wb-assessment-progress``, ``wb-assessment-back``, ``wb-assessment-submit``,
``wb-assessment-hint``, ``wb-assessment-done``, ``wb-assessment-error``.
"""

from __future__ import annotations

import html
import numbers
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

import ipywidgets as w

DEFAULT_DONE = ("<b>Thank you, your answers are submitted.</b><br>"
                "They are saved and can no longer be changed.")


NOT_OBSERVED = "Not observed / can't say"
_UNSET = object()


class QuestionLike(Protocol):
    item_id: str
    text: str
    options: tuple[tuple[int, str], ...]  # (stored value, label)
    # optional: ``not_observed`` (bool) offers "not observed / can't say", answered as None


class FormDriver(Protocol):
    adaptive: bool
    total: int

    def next_item(self, answers: Mapping[str, int]) -> str | None: ...

    def remaining(self, answers: Mapping[str, int]) -> int: ...

    def submit_blocker(self, answers: Mapping[str, int]) -> str | None: ...


class _Callbacks:
    """Runs persistence callbacks; a failure becomes a visible message and a False result."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.error = w.HTML("")
        self.error.add_class("wb-assessment-error")

    def show(self, msg: str) -> None:
        self.errors.append(msg)
        self.error.value = f"<div role='alert'>{html.escape(msg)}</div>"

    def clear(self) -> None:
        self.error.value = ""

    def call(self, what: str, fn: Callable[..., Any] | None, *args: Any) -> bool:
        if fn is None:
            return True
        try:
            fn(*args)
        except Exception as exc:  # noqa: BLE001 - show the failure; the form stays where it was
            self.show(f"{what}: {exc}")
            return False
        return True


class AssessmentForm:
    """One question at a time, with labelled options, progress, Back and Submit.

    Parameters
    ----------
    questions
        Every item the form may ask (objects with ``item_id``, ``text`` and ``options``).
    driver
        Chooses the next question (see the module docstring). Give a fresh one: the form
        replays ``answers`` into it.
    answers
        Answers already saved, item id -> value, in the order they were given.
    on_answer
        ``on_answer(item_id, value)``: save one answer; raise to refuse it.
    on_submit
        ``on_submit()``: submit the session; raise to keep the form open.
    submitted
        The session is already submitted: show only the thank-you panel.
    title, intro
        Heading and a short explanation above the questions.
    done_message
        HTML of the thank-you panel (default: a plain thank-you).
    """

    def __init__(
        self,
        questions: Iterable[QuestionLike],
        driver: FormDriver,
        answers: Mapping[str, int] | None = None,
        on_answer: Callable[[str, int], Any] | None = None,
        on_submit: Callable[[], Any] | None = None,
        submitted: bool = False,
        title: str = "Assessment",
        intro: str | None = None,
        done_message: str | None = None,
    ):
        self.questions = {q.item_id: q for q in questions}
        self.driver = driver
        self.on_answer, self.on_submit = on_answer, on_submit
        self.done_message = done_message or DEFAULT_DONE
        self._cb = _Callbacks()
        # answers on this form, in answer order; saved answers for items not on it are left aside
        self._answers: dict[str, int | None] = {i: None if v is None else int(v) for i, v in (answers or {}).items()
                                                if i in self.questions}
        self._pos = len(self._answers)  # index into the visit list: the answers, then the next question
        self._next: str | None = None
        self._done = bool(submitted)

        head = f"<h3>{html.escape(title)}</h3>"
        if intro:
            head += f"<div class='wb-muted'>{html.escape(intro)}</div>"
        self.header = w.HTML(head)
        self.header.add_class("wb-assessment-header")
        self.progress = w.HTML("")
        self.progress.add_class("wb-assessment-progress")
        self.question = w.HTML("")
        self.question.add_class("wb-assessment-question")
        self.options = w.HBox([], layout=w.Layout(flex_flow="row wrap"))
        self.options.add_class("wb-assessment-options")
        self.back_button = w.Button(description="Back", icon="arrow-left", tooltip="Change your previous answer")
        self.back_button.add_class("wb-assessment-back")
        self.back_button.on_click(lambda _b: self.back())
        self.submit_button = w.Button(description="Submit", button_style="primary", icon="check")
        self.submit_button.add_class("wb-assessment-submit")
        self.submit_button.on_click(lambda _b: self.submit())
        self.hint = w.HTML("")
        self.hint.add_class("wb-assessment-hint")
        self.done_panel = w.HTML("")
        self.done_panel.add_class("wb-assessment-done")
        self.widget = w.VBox([])
        self.widget.add_class("wb-assessment")
        if self._done:
            self._close()
        else:
            self.widget.children = (self.header, self.progress, self.question, self.options,
                                    w.HBox([self.back_button, self.submit_button, self.hint]), self._cb.error)
            self._advance_to(self._pos)

    @classmethod
    def from_state(cls, state: Any, on_answer: Callable[[str, int], Any] | None = None,
                   on_submit: Callable[[], Any] | None = None, **kwargs: Any) -> AssessmentForm:
        """Build from a :class:`workbench.services.assessment.FormState` (questions, a fresh driver, answers, status)."""
        return cls(state.questions, state.driver(), state.answers, on_answer=on_answer, on_submit=on_submit,
                   submitted=state.status == "submitted", **kwargs)

    # ------------------------------------------------------------------ state
    @property
    def answered(self) -> dict[str, int]:
        """The answers on this form, item id -> value, in the order they were first given."""
        return dict(self._answers)

    @property
    def current_item(self) -> str | None:
        """The item on screen, or None (nothing more to ask, or submitted)."""
        if self._done:
            return None
        order = list(self._answers)
        return order[self._pos] if self._pos < len(order) else self._next

    @property
    def finished(self) -> bool:
        """Every question the form needs is answered (only Submit is left)."""
        return not self._done and self.current_item is None

    @property
    def done(self) -> bool:
        """Submitted: the form is closed."""
        return self._done

    @property
    def errors(self) -> list[str]:
        return self._cb.errors

    @property
    def option_buttons(self) -> list[w.Button]:
        return list(self.options.children)

    @property
    def can_go_back(self) -> bool:
        if self._done or self._pos == 0:
            return False
        if self.driver.adaptive:  # only the latest answer, and only while the next one is still open
            return self._pos == len(self._answers)
        return True

    # ------------------------------------------------------------------ actions
    def answer(self, value_or_item: int | str | None, value: Any = _UNSET) -> bool:
        """Answer the question on screen: ``answer(value)``, or ``answer(item_id, value)`` to be explicit.

        The value must be one of the item's option values, or None ("not observed / can't say")
        on a question that offers it; anything else is refused with a message (and ``ValueError``)
        before ``on_answer`` runs. Returns False when ``on_answer`` failed (the message is shown and
        the question stays), True once saved and moved on.
        """
        if value is _UNSET:
            item_id, value = self.current_item, value_or_item
        else:
            item_id = str(value_or_item)
        if self._done:
            raise self._refuse("This form is already submitted; answers can no longer change.")
        if item_id is None or item_id != self.current_item:
            raise self._refuse(f"Question {item_id!r} is not the one on screen.")
        q = self.questions[item_id]
        allowed = [v for v, _ in q.options]
        if value is None and getattr(q, "not_observed", False):
            pass
        elif isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) not in allowed:
            labels = ", ".join(f"{v} ({label})" for v, label in q.options)
            raise self._refuse(f"{value!r} is not one of the answers to this question: {labels}.")
        else:
            value = int(value)
        if item_id not in self._answers or self._answers[item_id] != value:
            if not self._cb.call("Your answer was not saved, please try again", self.on_answer, item_id, value):
                return False
            self._answers[item_id] = value
        self._cb.clear()
        self._advance_to(self._pos + 1)
        return True

    def back(self) -> bool:
        """Show the previous question with its answer (see "Going back"). False when not allowed."""
        if not self.can_go_back:
            return False
        self._cb.clear()
        self._advance_to(self._pos - 1)
        return True

    def submit(self) -> bool:
        """Submit: refused (with the reason shown) before the minimum is answered; closes the form."""
        if self._done:
            return True
        blocker = self.driver.submit_blocker(self._answers) if self._answers else "Answer at least one question first."
        if blocker:
            self._cb.show(blocker)
            return False
        if not self._cb.call("Your answers were not submitted, please try again", self.on_submit):
            return False
        self._done = True
        self._close()
        return True

    # ------------------------------------------------------------------ rendering
    def _refuse(self, msg: str) -> ValueError:
        self._cb.show(msg)
        return ValueError(msg)

    def _advance_to(self, pos: int) -> None:
        self._pos = max(0, min(pos, len(self._answers)))
        self._next = self.driver.next_item(self._answers) if self._pos == len(self._answers) else None
        self._render()

    def _render(self) -> None:
        n = len(self._answers)
        if self.driver.adaptive:
            left = self.driver.remaining(self._answers)
            tail = f"about {left} to go" if left else "that is enough for a clear picture"
            text = f"{n} answered · {tail}"
        else:
            text = f"{n} of {self.driver.total}"
        self.progress.value = f"<div class='wb-muted'>{text}</div>"
        item_id = self.current_item
        if item_id is None:
            self.question.value = ("<div class='wb-card'><p><b>That is every question for now.</b></p>"
                                   "<div class='wb-muted'>Go back to change your last answer, or submit.</div></div>")
            for b in self.options.children:
                b.close()
            self.options.children = ()
        else:
            q = self.questions[item_id]
            reviewing = self._pos < n
            note = "<div class='wb-muted'>Your earlier answer is highlighted; choose again to keep or change it.</div>"
            self.question.value = (f"<div class='wb-card'><p>{html.escape(q.text)}</p>"
                                   f"{note if reviewing else ''}</div>")
            options = tuple(q.options) + (((None, NOT_OBSERVED),) if getattr(q, "not_observed", False) else ())
            self._show_options(item_id, options)
        self.back_button.disabled = not self.can_go_back
        blocker = self.driver.submit_blocker(self._answers) if self._answers else "Answer at least one question first."
        self.submit_button.disabled = blocker is not None
        self.hint.value = html.escape(blocker or ("You can submit now, or keep answering to sharpen the picture."
                                                  if item_id is not None else "Ready to submit."))

    def _show_options(self, item_id: str, options) -> None:
        """One button per option. Buttons are kept and relabelled from question to question
        (a new set only when the number of options changes), so the page does not flicker and a
        click never lands on a button that is being replaced."""
        buttons = list(self.options.children)
        if len(buttons) != len(options):
            for b in buttons:
                b.close()
            buttons = [self._new_option() for _ in options]
        for b, (value, label) in zip(buttons, options, strict=True):
            chosen = item_id in self._answers and self._answers[item_id] == value
            for cls in [c for c in b._dom_classes if c.startswith("wb-assessment-option-")
                        or c in ("wb-assessment-chosen", "wb-assessment-not-observed")]:
                b.remove_class(cls)
            b.value_ = value
            b.description, b.tooltip, b.button_style = label, label, "info" if chosen else ""
            b.add_class(f"wb-assessment-option-{'none' if value is None else value}")
            if value is None:
                b.add_class("wb-assessment-not-observed")
            if chosen:
                b.add_class("wb-assessment-chosen")
        self.options.children = tuple(buttons)

    def _new_option(self) -> w.Button:
        b = w.Button(layout=w.Layout(width="auto", min_width="120px"))
        b.add_class("wb-assessment-option")
        b.on_click(lambda btn: self._click(btn.value_))
        return b

    def _click(self, value: int | None) -> None:
        try:
            self.answer(value)
        except ValueError:
            pass  # already shown in the error element

    def _close(self) -> None:
        for b in self.options.children:
            b.close()
        self.options.children = ()
        self.done_panel.value = f"<div class='wb-card'>{self.done_message}</div>"
        self.widget.children = (self.header, self.done_panel)

