"""Widgets for practice: a branching-scenario player and a coaching chat panel.

Both are plain ipywidgets over :mod:`workbench.practice`; they never touch the store. The page
that hosts them passes callbacks to persist what happens:

* :class:`ScenarioPlayer` calls ``on_choice(run, feedback)`` after every choice and
  ``on_finish(run, debrief, changes)`` once an ending is reached (``changes`` are the
  before/after estimates when a posterior was given, else an empty dict). It shows the options
  in an order shuffled per attempt (``player.shown``) and scores by choice id, and its debrief
  says, for each weaker choice made, what would have worked and which modules teach it
  (class ``wb-scenario-module``, with ``data-module`` set to the module id).
* :class:`ChatPanel` calls ``on_turn(turn)`` for every line of the conversation (the coach's
  opening included) and ``on_commitment(commitment)`` once the leader confirms a commitment.
  While the coach proposes a commitment, the panel shows it as an editable draft (the leader's
  wording and the due date); saving an edited draft sends the new wording (and date) to the
  coach first, so what is saved is exactly what the leader sees.

A callback that raises does not break the widget: the error is shown in an element with class
``wb-practice-error`` and kept in ``.errors``.

Stable CSS classes for the browser tests and the page's styling: ``wb-scenario``,
``wb-scenario-title``, ``wb-scenario-situation``, ``wb-scenario-choice``,
``wb-scenario-feedback``, ``wb-scenario-progress``, ``wb-scenario-debrief``,
``wb-scenario-estimates``, ``wb-scenario-restart``; ``wb-chat``, ``wb-chat-messages``,
``wb-chat-message`` (with ``wb-chat-leader`` or ``wb-chat-coach``), ``wb-chat-input``,
``wb-chat-send``, ``wb-chat-confirm``, ``wb-chat-draft``, ``wb-chat-draft-due``, ``wb-chat-yes``,
``wb-chat-no``, ``wb-chat-commitment``.
"""

from __future__ import annotations

import html
import secrets
import threading
from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as w
import pandas as pd

from ..content.schema import Scenario
from ..practice.coach import CoachSession, OfflineCoach, Reply, Turn
from ..practice.commitment import Commitment
from ..practice.evidence import EstimateChange, apply_run
from ..practice.scenario import Debrief, Feedback, ScenarioRun
from ..skills.score import SkillPosterior
from .common import table_html


def _html(text: str) -> str:
    return html.escape(text).replace("\n\n", "<br><br>").replace("\n", "<br>")


class _Callbacks:
    """Runs persistence callbacks, turning their failures into a visible message."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.error = w.HTML("")
        self.error.add_class("wb-practice-error")

    def call(self, fn: Callable[..., Any] | None, *args: Any) -> Any:
        if fn is None:
            return None
        try:
            return fn(*args)
        except Exception as exc:  # noqa: BLE001 - show the failure; the practice itself goes on
            msg = f"Could not save your progress: {exc}"
            self.errors.append(msg)
            self.error.value = f"<div>{html.escape(msg)}</div>"
            return None


# ------------------------------------------------------------------------------ scenario player
class ScenarioPlayer:
    """Plays one scenario: situation, choice buttons, feedback, progress, debrief, estimates.

    Parameters
    ----------
    scenario:
        The scenario to play.
    on_choice:
        ``on_choice(run, feedback)`` after each choice (to store the step).
    on_finish:
        ``on_finish(run, debrief, changes)`` when an ending is reached.
    posterior:
        The leader's skill posterior; when given, the run's choices update it
        (:func:`~workbench.practice.evidence.apply_run`) and the before/after estimates are shown.
    competency_names:
        Display names for competency ids (e.g. ``{c: comp.name for c, comp in library.competencies.items()}``).
    clock:
        Passed to :class:`ScenarioRun` for the step timestamps.
    module_titles:
        Module titles by id, for the debrief's "learn it in" links (ids are shown when absent).
    seed:
        Seeds the option order of the first attempt (tests); each restart draws a new order.
        Without it every attempt draws its own.
    """

    def __init__(
        self,
        scenario: Scenario,
        on_choice: Callable[[ScenarioRun, Feedback], Any] | None = None,
        on_finish: Callable[[ScenarioRun, Debrief, Mapping[str, EstimateChange]], Any] | None = None,
        posterior: SkillPosterior | None = None,
        competency_names: Mapping[str, str] | None = None,
        clock: Callable[[], Any] | None = None,
        module_titles: Mapping[str, str] | None = None,
        seed: int | str | None = None,
    ):
        self.scenario = scenario
        self.module_titles = dict(module_titles or {})
        self._next_seed = seed
        self.on_choice, self.on_finish = on_choice, on_finish
        self.posterior = posterior
        self.names = dict(competency_names or {})
        self._clock = clock
        self._cb = _Callbacks()
        self.changes: dict[str, EstimateChange] = {}

        self.title = w.HTML(f"<h3>{html.escape(scenario.title)}</h3>"
                            f"<div class='wb-muted'>{html.escape(' '.join(scenario.summary.split()))}</div>")
        self.title.add_class("wb-scenario-title")
        self.progress = w.FloatProgress(value=0.0, min=0.0, max=1.0, description="Progress")
        self.progress.add_class("wb-scenario-progress")
        self.progress_label = w.HTML("")
        self.progress_label.add_class("wb-scenario-progress-label")
        self.feedback = w.HTML("")
        self.feedback.add_class("wb-scenario-feedback")
        self.situation = w.HTML("")
        self.situation.add_class("wb-scenario-situation")
        self.choices = w.VBox([])
        self.choices.add_class("wb-scenario-choices")
        self.debrief_view = w.HTML("")
        self.debrief_view.add_class("wb-scenario-debrief")
        self.estimates = w.HTML("")
        self.estimates.add_class("wb-scenario-estimates")
        self.restart_button = w.Button(description="Play again", layout=w.Layout(display="none"))
        self.restart_button.add_class("wb-scenario-restart")
        self.restart_button.on_click(lambda _b: self.restart())
        self.widget = w.VBox([self.title, w.HBox([self.progress, self.progress_label]), self.feedback, self.situation,
                              self.choices, self.debrief_view, self.estimates, self.restart_button, self._cb.error])
        self.widget.add_class("wb-scenario")
        self.restart()

    @property
    def errors(self) -> list[str]:
        return self._cb.errors

    @property
    def choice_buttons(self) -> list[w.Button]:
        return list(self.choices.children)

    def restart(self) -> None:
        """Start a fresh run of the same scenario (the posterior keeps what earlier runs added)."""
        self.run = ScenarioRun(self.scenario, clock=self._clock)
        self.attempt_seed = self._next_seed if self._next_seed is not None else secrets.token_hex(8)
        self._next_seed = None
        self.debrief: Debrief | None = None
        self.changes = {}
        self.feedback.value = ""
        self.debrief_view.value = ""
        self.estimates.value = ""
        self.restart_button.layout.display = "none"
        self._render()

    @property
    def shown(self) -> tuple[str, ...]:
        """Choice ids at the current node in the order the buttons show them (this attempt's shuffle)."""
        return tuple(c.id for c in self.run.shuffled(self.attempt_seed))

    def choose(self, selection: int | str) -> Feedback:
        """Take a choice, as clicking its button does: by id, or by the 1-based number shown on the button."""
        if isinstance(selection, int) and not isinstance(selection, bool) and 1 <= selection <= len(self.shown):
            selection = self.shown[selection - 1]
        fb = self.run.choose(selection)
        self._cb.call(self.on_choice, self.run, fb)
        verdict = "Strong move" if fb.strong else "Worth rethinking"
        self.feedback.value = (
            f"<div class='wb-card'><b>{verdict}.</b> <i>{html.escape(fb.behavior)}</i><br>{_html(' '.join(fb.feedback.split()))}</div>"
        )
        if self.run.done:
            self._finish()
        self._render()
        return fb

    def _finish(self) -> None:
        self.debrief = self.run.debrief()
        if self.posterior is not None:
            self.changes = apply_run(self.posterior, self.run)
        self._cb.call(self.on_finish, self.run, self.debrief, dict(self.changes))
        d = self.debrief
        parts = [f"<div class='wb-card'><h4>Debrief</h4><p>{_html(' '.join(d.ending_text.split()))}</p>"]
        if d.strong:
            parts.append("<b>What you did well</b><ul>" +
                         "".join(f"<li>{html.escape(b.behavior)}</li>" for b in d.strong) + "</ul>")
        if d.missteps:
            items = []
            for m in d.missteps:
                links = ", ".join(
                    f"<span class='wb-scenario-module' data-module='{html.escape(mid)}'>"
                    f"{html.escape(self.module_titles.get(mid, mid))}</span>" for mid in m.modules)
                items.append(f"<li><i>{html.escape(m.behavior)}</i>: you chose &ldquo;{html.escape(' '.join(m.choice_text.split()))}&rdquo;"
                             f"<br>What would have worked: {html.escape(' '.join(m.instead.split()))}"
                             f"<br><span class='wb-muted'>Learn it in: {links}</span></li>")
            parts.append("<b>What would have worked better</b><ul class='wb-scenario-missteps'>" + "".join(items) + "</ul>")
        self.debrief_view.value = "".join(parts) + "</div>"
        if self.changes:
            frame = pd.DataFrame(
                [(self.names.get(c.competency, c.competency), f"{c.before_mean:+.2f} ± {c.before_sd:.2f}",
                  f"{c.after_mean:+.2f} ± {c.after_sd:.2f}", f"{c.delta_mean:+.2f}") for c in self.changes.values()],
                columns=["Competency", "Before", "After", "Change"])
            self.estimates.value = (
                "<div class='wb-card'>"
                f"{table_html(frame, caption='Your skill estimates', numeric=('Before', 'After', 'Change'))}"
                "<div class='wb-muted'>Mean ± SD on the skill scale (0 = organization average); "
                "the SD is how uncertain the estimate still is.</div></div>"
            )
        self.restart_button.layout.display = None

    def _render(self) -> None:
        run = self.run
        self.situation.value = f"<div class='wb-card'>{_html(' '.join(run.text.split()))}</div>"
        self.progress.value = run.progress
        self.progress_label.value = (f"Decision {run.steps_taken + 1}, at least {run.remaining[0]} to go"
                                     if not run.done else f"Done after {run.steps_taken} decisions")
        buttons = []
        for i, c in enumerate(run.shuffled(self.attempt_seed), start=1):
            b = w.Button(description=f"{i}. {' '.join(c.text.split())}", tooltip=' '.join(c.text.split()),
                         layout=w.Layout(width="100%", height="auto"))
            b.add_class("wb-scenario-choice")
            b.add_class(f"wb-scenario-choice-{c.id}")
            b.on_click(lambda _b, cid=c.id: self.choose(cid))
            buttons.append(b)
        self.choices.children = tuple(buttons)


# ------------------------------------------------------------------------------ chat panel
class ChatPanel:
    """A coaching conversation: messages, a text box, a send button and commitment confirmation.

    Parameters
    ----------
    session:
        The :class:`CoachSession` to drive; its opening message is shown (and passed to
        ``on_turn``) when the panel is built, unless the session already has turns.
    on_turn:
        ``on_turn(turn)`` for each new line of the conversation.
    on_commitment:
        ``on_commitment(commitment)`` once, when the leader confirms the commitment.
    """

    def __init__(
        self,
        session: CoachSession,
        on_turn: Callable[[Turn], Any] | None = None,
        on_commitment: Callable[[Commitment], Any] | None = None,
    ):
        self.session = session
        self.on_turn, self.on_commitment = on_turn, on_commitment
        self._cb = _Callbacks()
        self._seen = 0
        self.last_reply: Reply | None = None

        self.header = w.HTML("<h3>Coaching conversation</h3>"
                             "<div class='wb-muted'>One question at a time: goal, reality, options, way forward.</div>")
        self.header.add_class("wb-chat-header")
        self.messages = w.VBox([])
        self.messages.add_class("wb-chat-messages")
        self.messages.tabbable = True  # it scrolls: reachable from the keyboard
        self.input = w.Textarea(placeholder="Type your answer…", layout=w.Layout(width="100%", height="80px"))
        self.input.add_class("wb-chat-input")
        self.send_button = w.Button(description="Send", button_style="primary")
        self.send_button.add_class("wb-chat-send")
        self.send_button.on_click(lambda _b: self.send())
        self.yes_button = w.Button(description="Save to my plan", button_style="success")
        self.yes_button.add_class("wb-chat-yes")
        self.yes_button.on_click(lambda _b: self.save_draft())
        self.no_button = w.Button(description="No, change it")
        self.no_button.add_class("wb-chat-no")
        self.no_button.on_click(lambda _b: self.send("no, change it"))
        self.draft = w.Textarea(placeholder="Your commitment", layout=w.Layout(width="100%", height="60px"))
        self.draft.add_class("wb-chat-draft")
        self.draft_due = w.DatePicker(description="Due")
        self.draft_due.add_class("wb-chat-draft-due")
        self._draft_of: Commitment | None = None
        self.confirm_box = w.VBox([w.HTML("<b>Your commitment</b> <span class='wb-muted'>(a draft in your words: "
                                          "edit it if you like)</span>"), self.draft, self.draft_due,
                                   w.HBox([self.yes_button, self.no_button])], layout=w.Layout(display="none"))
        self.confirm_box.add_class("wb-chat-confirm")
        self.commitment_view = w.HTML("")
        self.commitment_view.add_class("wb-chat-commitment")
        self.widget = w.VBox([self.header, self.messages, self.confirm_box, self.input, self.send_button,
                              self.commitment_view, self._cb.error])
        self.widget.add_class("wb-chat")
        if isinstance(session.generator, OfflineCoach):  # train the topic model while the leader types
            threading.Thread(target=lambda: session.generator.topics, daemon=True).start()
        if not session.turns:
            self.last_reply = session.open()
        self._sync()

    @property
    def errors(self) -> list[str]:
        return self._cb.errors

    def send(self, text: str | None = None) -> Reply | None:
        """Send ``text`` (or the text box's content) and show the reply; None once the session is done."""
        message = self.input.value if text is None else text
        if self.session.done:
            return None
        reply = self.session.send(message)
        self.last_reply = reply
        if text is None:
            self.input.value = ""
        self._sync()
        if reply.commitment is not None:
            self._cb.call(self.on_commitment, reply.commitment)
            c = reply.commitment
            self.commitment_view.value = (f"<div class='wb-card'><b>Saved to your plan:</b> {html.escape(c.text)}"
                                          f"<div class='wb-muted'>due {c.due:%d %b %Y}</div></div>")
        return reply

    def save_draft(self) -> Reply | None:
        """Save the draft as shown: an edited wording or date is sent to the coach first, then "yes"."""
        before = self.session.state.proposed
        if self.session.stage != "confirm" or before is None:
            return self.send("yes")
        raw, due = self.draft.value.strip(), self.draft_due.value  # read both before the coach redraws them
        if raw and " ".join(raw.split()) != " ".join(before.text.split()):
            self.send(f'Change it to: "{raw}"')
            if self.session.stage != "confirm":  # the coach did not take it as a wording (e.g. a safety reply)
                return self.last_reply
        if due is not None and due != before.due and self.session.state.proposed is not None:
            self.send(due.isoformat())
        return self.send("yes")

    def _sync(self) -> None:
        turns = self.session.turns
        new = turns[self._seen:]
        self._seen = len(turns)
        for t in new:
            self._cb.call(self.on_turn, t)
        if new:
            self.messages.children = tuple(self.messages.children) + tuple(self._bubble(t) for t in new)
        confirming = self.session.stage == "confirm" and not self.session.checking_in  # no "yes" button mid check-in
        proposed = self.session.state.proposed
        if confirming and proposed is not None and proposed is not self._draft_of:
            self._draft_of = proposed
            self.draft.value, self.draft_due.value = proposed.text, proposed.due
        self.confirm_box.layout.display = None if confirming else "none"
        done = self.session.done
        self.input.disabled = done
        self.send_button.disabled = done

    @staticmethod
    def _bubble(t: Turn) -> w.HTML:
        who = "You" if t.speaker == "leader" else "Coach"
        b = w.HTML(f"<div><b>{who}</b><br>{_html(t.text)}</div>")
        b.add_class("wb-chat-message")
        b.add_class(f"wb-chat-{t.speaker}")
        return b
