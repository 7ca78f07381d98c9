"""An offline coaching chatbot in the GROW shape: goal, reality, options, way forward.

Nothing is downloaded and no hosted model is called. The conversation is a small dialogue
manager over the library:

* **One question at a time.** Each coaching reply reflects back what the leader said, may offer
  one piece of library knowledge with its source, and ends with exactly one question
  (:attr:`Reply.question`), taken from the competency's coaching guide (the question whose
  words best match what the leader said) or, before a competency is known, a general one.
* **Reflecting back.** Paraphrases are extracted from the leader's own words
  (:mod:`workbench.practice.reflection`), not canned.
* **Grounded.** Tips, frameworks, modules and moment checklists are retrieved with the library's
  one index (:class:`~workbench.content.search.LibraryIndex`) and always cited ("From the module
  'Delegation basics for first-time leaders': ...").
* **Understands the topic.** The competency is the one given by the caller, else the one the
  leader's words point to (:mod:`workbench.practice.topics`: a classifier trained on labelled
  leader messages; the chosen moment can tip a close call, the development areas only break
  near-ties), read again on the reality turn. The coach names what it heard and offers the
  runner-up ("This sounds like managing conflict: is that right, or is it more about giving
  feedback?"); the leader can correct it then or later ("no, it's more about trust"). The
  current moment's checklist is offered when it fits.
* **Ends with a confirmed commitment, in the leader's words.** The way-forward sentence is kept
  verbatim (:func:`~workbench.practice.commitment.commitment_sentence`) with a due date read from
  plain words (``dateparser``), shown as a draft; the leader saves it with "yes", sends a
  replacement wording or a new date, or says "no" to rewrite it.
* **Safe.** Every message is screened first (:mod:`workbench.practice.safety`) by the session,
  whichever reply generator is plugged in. Crisis, distress, harassment, HR/legal and medical
  messages get a support reply naming the right people (:mod:`workbench.practice.support`, with
  the organization's own channels when its profile names them) and no coaching; afterwards the
  session checks in (:attr:`CoachState.check_in`) and coaching resumes only when the leader says
  they are safe or want to continue. Requests for other people's data get the privacy boundary,
  injected instructions are declined without being echoed, off-topic requests are declined
  briefly; empty input gets a gentle prompt, very long input is trimmed with a note.

:class:`ReplyGenerator` is the seam for a hosted model: anything with ``opening(state)`` and
``reply(state, message)`` returning a :class:`Reply` can replace :class:`OfflineCoach`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Protocol, runtime_checkable

from ..content.library import Library
from ..content.search import LibraryIndex
from . import reflection as rf
from . import support as sp
from .commitment import (
    Commitment,
    commitment_sentence,
    default_due,
    has_intention,
    only_date,
    parse_due,
)
from .grounding import Citation, Grounding
from .safety import MAX_CHARS, Screening, screen, warm_up
from .topics import TopicModel, TopicReading, correction, default_model, named_topic, read_topic

STAGES = ("goal", "reality", "options", "way_forward", "confirm", "done")
SPEAKERS = ("leader", "coach")

GENERAL_QUESTIONS = {
    "goal": "What would you like to work on today?",
    "reality": "What is happening right now, and what have you tried so far?",
    "options": "What could you do about it? Name two or three possibilities, even imperfect ones.",
    "way_forward": "Which step will you take first, and by when?",
}

_YES = re.compile(r"^\s*(y|yes|yep|yeah|yup|sure|ok|okay|correct|confirm(ed)?|save( it)?|please do|sounds good|"
                  r"that'?s (right|it|good|fine)|perfect|great|do it|go ahead|absolutely|definitely)\b", re.IGNORECASE)
_NO = re.compile(r"^\s*(n|no|nope|nah|not (quite|really|yet)|change( it)?|wait|actually|edit|let me change)\b", re.IGNORECASE)
_CHANGE_LEAD = re.compile(
    r"^\s*(?:(?:no|nope|nah|not quite|not really|wait|actually|edit|n)\s*[,.!:;-]+\s*"
    r"|(?:no|nope|nah|actually)\s+(?=(?:please\s+)?(?:change|make|edit)\s+(?:it|that)\b))?"
    r"(?:please\s+)?(?:(?:change|make|edit)\s+(?:it|that)\b\s*(?:to say|so it says|to|into)?\s*[:,-]?\s*)?",
    re.IGNORECASE)
_QUOTED = re.compile(r'^\s*["“\'](?P<text>.*)["”\']\s*$', re.DOTALL)
_HEDGE = re.compile(r"\b(but|change|instead|except|however)\b", re.IGNORECASE)
_UNSURE = re.compile(r"\b(not sure|no idea|don'?t know|dunno|no clue|can'?t think|nothing comes to mind)\b", re.IGNORECASE)
_ABOUT_WORDING = re.compile(r"^(?:the\s+)?(?:wording|words|text|date|day|deadline|it|that|this)\b", re.IGNORECASE)
_SECOND = re.compile(r"\b(?:second|latter|other|2nd|last)\b", re.IGNORECASE)
_PARTLY = re.compile(r"^\s*(?:sort of|kind of|kinda|partly|partially|in a way|not exactly|not quite|a bit|"
                     r"a little|yes and no|yeah but|yes but)\b[\s,.;:-]*(?:but\s+)?(?:mostly|more|really|mainly)?\s*",
                     re.IGNORECASE)
_FIRST = re.compile(r"\b(?:first|former|1st)\b", re.IGNORECASE)
REASSESS_RATIO = 2.0
LEADING_CORRECTION = 25
"""On the reality turn, a topic the coach detected (and the leader did not confirm) changes when the
words so far make another competency at least this many times as likely."""


def _bare_unsure(msg: str) -> bool:
    """A bare "I don't know" (help is offered), not one inside a real answer ("I don't know if it'll
    work but I'll talk to Sam on Friday", which is an answer)."""
    if not _UNSURE.search(msg) or has_intention(_UNSURE.sub(" ", msg)):
        return False
    return len(rf.content_words(_UNSURE.sub(" ", msg))) < 2


# ------------------------------------------------------------------------------ data
@dataclass(frozen=True)
class CoachContext:
    """What the coach knows about the leader.

    ``development_areas`` are competency ids ordered by need (most pressing first), e.g. from
    the gap between their estimate and their role level's expectation; ``moment`` is the
    id of the leadership moment they are in now.
    """

    leader_id: str | None = None
    name: str | None = None
    development_areas: tuple[str, ...] = ()
    moment: str | None = None
    role_level: str | None = None

    def prior(self, library: Library) -> dict[str, float]:
        """Weights that tilt competency detection toward what we know: 0.3, 0.2, 0.1 for the
        first three development areas and 0.2 for each competency of the current moment."""
        out: dict[str, float] = {}
        for i, comp in enumerate(self.development_areas[:3]):
            out[comp] = out.get(comp, 0.0) + (0.3, 0.2, 0.1)[i]
        if self.moment and self.moment in library.moments:
            for comp in library.moments[self.moment].competencies:
                out[comp] = out.get(comp, 0.0) + 0.2
        return out


@dataclass
class CoachState:
    """The conversation state the reply generator reads and updates."""

    context: CoachContext
    today: date
    competency: str | None = None
    competency_source: str | None = None  # given | detected | moment | development-area | leader
    topic: TopicReading | None = None
    topic_pending: bool = False  # the coach asked whether it heard the topic right
    topic_asked_which: bool = False  # ... and the leader said no without naming another
    stage: str = "goal"
    goal: str = ""
    reality: str = ""
    options: list[str] = field(default_factory=list)
    action: str = ""
    due: date | None = None
    awaiting_due: bool = False
    proposed: Commitment | None = None
    commitment: Commitment | None = None
    cited: list[str] = field(default_factory=list)
    asked: list[str] = field(default_factory=list)
    probes: dict[str, int] = field(default_factory=dict)
    last_question: str | None = None
    check_in: str | None = None  # the support category whose check-in is pending; coaching waits


@dataclass(frozen=True)
class Reply:
    """One coach message.

    ``kind`` is ``question``, ``proposal`` (a commitment to confirm), ``closing`` (confirmed),
    ``done``, ``prompt`` (empty input), ``decline`` (off topic, privacy, injected instructions;
    ``safety`` says which), ``support`` (crisis, distress, harassment, HR/legal, medical) or
    ``check_in`` (after a support reply, before coaching resumes). ``stage`` is the GROW stage
    the conversation is in after this reply (the support path does not move it).
    """

    text: str
    stage: str
    kind: str
    question: str | None = None
    reflection: str | None = None
    citations: tuple[Citation, ...] = ()
    safety: str = "ok"
    note: str | None = None
    proposed: Commitment | None = None
    commitment: Commitment | None = None


@dataclass(frozen=True)
class Turn:
    """One line of the conversation as the caller stores it."""

    speaker: str
    text: str
    stage: str
    at: datetime


@runtime_checkable
class ReplyGenerator(Protocol):
    """Produces the coach's messages. The session screens every message for safety before
    calling :meth:`reply`, so an implementation only sees in-scope, non-empty text."""

    def opening(self, state: CoachState) -> Reply: ...

    def reply(self, state: CoachState, message: str) -> Reply: ...


# ------------------------------------------------------------------------------ offline coach
class OfflineCoach:
    """The default :class:`ReplyGenerator`: GROW dialogue over the library, no hosted model.

    Parameters
    ----------
    library:
        The content library.
    grounding:
        Retrieval for citations (and topic detection for competencies the topic model does not know).
    topics:
        The :class:`~workbench.practice.topics.TopicModel`; the shipped one, trained on first use
        and cached for the process, when None.
    """

    def __init__(self, library: Library, grounding: Grounding | None = None, topics: TopicModel | None = None):
        self.library = library
        self.grounding = grounding or Grounding(library)
        self._topics = topics

    @property
    def topics(self) -> TopicModel:
        if self._topics is None:
            self._topics = default_model()
        return self._topics

    # ---------------------------------------------------------------- opening
    def opening(self, state: CoachState) -> Reply:
        ctx = state.context
        parts = [f"Hi {ctx.name}." if ctx.name else "Hi."]
        if state.competency:
            parts.append(f"Let's work on {self._name(state.competency).lower()} together.")
        elif ctx.development_areas:
            parts.append(f"Your profile suggests {self._name(ctx.development_areas[0]).lower()} is where you have the "
                         "most room to grow, but we can work on whatever matters most to you right now.")
        if ctx.moment and ctx.moment in self.library.moments:
            parts.append(f"I see you're in the middle of this: {self.library.moments[ctx.moment].name.rstrip('.')}.")
        q = self._question(state, "goal", "")
        return self._ask(state, "goal", " ".join(parts), None, (), q)

    # ---------------------------------------------------------------- dialogue
    def reply(self, state: CoachState, message: str) -> Reply:
        if state.stage in ("reality", "options", "way_forward", "confirm") and not state.topic_pending:
            # in an answer that states a step ("I'll tell them it's about trust"), only a leading correction counts
            step = state.stage != "reality" and has_intention(message)
            new = correction(message, within=LEADING_CORRECTION if step else None)
            if new is not None and new in self.library.competencies:
                return self._switch(state, new)
        handler = {
            "goal": self._goal, "reality": self._reality, "options": self._options,
            "way_forward": self._way_forward, "confirm": self._confirm, "done": self._done,
        }[state.stage]
        return handler(state, message)

    def _goal(self, state: CoachState, msg: str) -> Reply:
        if self._too_thin(state, "goal", msg):
            return self._ask(state, "goal", "Could you tell me a little more?", None, (), self._question(state, "goal", msg))
        state.goal = rf.shorten(msg, 60)
        phrase = rf.paraphrase(msg)
        reflection = f"What I'm hearing: {phrase}." if phrase else None
        state.stage = "reality"
        bridge = ""
        if state.competency_source not in ("given", "leader"):
            reading = self._read(state, msg)
            if reading.informative and reading.competency is not None:
                self._set_topic(state, reading, "detected")
                state.topic_pending = True
                return self._ask(state, "reality", "", reflection, (), self._topic_question(state))
            if reading.competency is not None:  # no topic in the words: the moment, else the profile
                self._set_topic(state, reading, reading.source)
                name = self._name(reading.competency).lower()
                bridge = (f"Let's look at it through {name}, your current development focus."
                          if reading.source == "development-area" else
                          f"Let's start from {name}, since that is what the moment you're in is about.")
        return self._ask(state, "reality", bridge, reflection, (), self._question(state, "reality", msg))

    def _reality(self, state: CoachState, msg: str) -> Reply:
        lead = ""
        if state.topic_pending:
            answer = self._topic_answer(state, msg)
            if isinstance(answer, Reply):
                return answer
            lead, proceed = answer
            if not proceed:
                return self._ask(state, "reality", lead, None, (), self._question(state, "reality", state.goal))
        elif self._too_thin(state, "reality", msg):
            return self._ask(state, "reality", "Could you say a bit more about what is happening?", None, (),
                             self._question(state, "reality", msg))
        state.reality = rf.shorten(msg, 80)
        if state.competency_source not in ("given", "leader"):
            lead = " ".join(p for p in (lead, self._reassess(state, f"{state.goal} {msg}")) if p)
        phrase = rf.paraphrase(msg)
        reflection = f"So right now, {phrase}." if phrase else None
        query = f"{state.goal} {msg}"
        cites = self._moment_citation(state, query) or self._suggest(state, query, ("tip", "framework"))
        state.stage = "options"
        lead = " ".join(p for p in (lead, "Something that may help:" if cites else "") if p)
        return self._ask(state, "options", lead, reflection, cites, self._question(state, "options", query))

    def _options(self, state: CoachState, msg: str) -> Reply:
        query = f"{state.goal} {state.reality} {msg}"
        bare = _bare_unsure(msg) or not rf.content_words(msg)
        if bare and state.probes.get("options", 0) == 0:
            state.probes["options"] = 1
            cites = self._suggest(state, query, ("tip", "framework"), k=2)
            lead = "That's fine; here are two ideas from the library to get you started." if cites else \
                "That's fine; take a moment."
            return self._ask(state, "options", lead, None, cites, "Which of these, or something else, could work for you?")
        state.options = [] if bare else (rf.options_from(msg) or [o for o in [rf.paraphrase(msg)] if o])
        if len(state.options) > 1:
            reflection = f"You have {len(state.options)} options on the table: " + "; ".join(state.options) + "."
        elif state.options:
            reflection = f"So one option is this: {state.options[0]}."
        else:
            reflection = None
        cites = self._suggest(state, query, ("module",))
        lead = "If you want to go deeper first:" if cites else ""
        value = self._value_citation(state, query)
        if value:
            lead = lead or "As you choose:"
            cites = cites + value
        state.stage = "way_forward"
        return self._ask(state, "way_forward", lead, reflection, cites, self._question(state, "way_forward", query))

    def _way_forward(self, state: CoachState, msg: str) -> Reply:
        found = parse_due(msg, state.today)
        if state.awaiting_due:
            state.awaiting_due = False
            if not (found is None and has_intention(msg) and len(rf.content_words(msg)) >= 2):
                state.due = found.due if found else default_due(state.today)
                return self._propose(state, assumed=found is None)
            # a (new) step instead of a date: read it as the step
        date_only = found is not None and only_date(msg, state.today)
        if date_only or _bare_unsure(msg) or not rf.content_words(msg):
            if date_only:
                state.due = found.due
                if state.action:  # only a new date for the same step
                    return self._propose(state)
            if _bare_unsure(msg) and state.options and state.probes.get("way_forward", 0) == 0:
                state.probes["way_forward"] = 1
                lead = "That's fine; let's keep it small. You mentioned: " + "; ".join(state.options) + "."
                return self._ask(state, "way_forward", lead, None, (), "Which one could you try first, and by when?")
            return self._ask(state, "way_forward", "Let's make it concrete.", None, (),
                             "What is one specific thing you will do?")
        state.action = commitment_sentence(msg, state.today)
        if found is None and state.due is None:
            state.awaiting_due = True
            return self._ask(state, "way_forward", "", f"So your step is: \"{state.action}\"", (),
                             "By when will you do that?")
        state.due = found.due if found else state.due
        return self._propose(state)

    def _propose(self, state: CoachState, assumed: bool = False, lead: str = "") -> Reply:
        state.due = state.due or default_due(state.today)
        state.proposed = Commitment(state.action, state.competency, state.due, goal=rf.paraphrase(state.goal))
        state.stage = "confirm"
        when = _fmt(state.due) + (" (a week from today, as no day was named)" if assumed else "")
        lines = [f"Here is your commitment as a draft, in your words:\n\n\"{state.proposed.text}\"",
                 f"Due: {when}." + (f"\nTopic: {self._name(state.competency)}." if state.competency else ""),
                 "To change it, send the wording you want instead, or a new date."]
        text = "\n\n".join(p for p in (lead, *lines) if p)
        return self._reply(state, "confirm", "proposal", text, None, (), "Shall I save it to your plan as it is?",
                           proposed=state.proposed)

    def _confirm(self, state: CoachState, msg: str) -> Reply:
        yes, no = bool(_YES.match(msg)), bool(_NO.match(msg))
        if yes and not no and not _HEDGE.search(msg):
            assert state.proposed is not None
            state.commitment = state.proposed
            state.stage = "done"
            c = state.commitment
            text = (f"Saved to your plan: \"{c.text}\", by {_fmt(c.due)}. Come back and tell me how it went; "
                    "what you learn from trying it is the real progress.")
            return self._reply(state, "done", "closing", text, None, (), None, commitment=c)
        found = parse_due(msg, state.today)
        if found is not None and only_date(msg, state.today) and state.action:
            state.due = found.due  # only a new date: keep the step, move the date
            return self._propose(state)
        rest = _CHANGE_LEAD.sub("", msg, count=1).strip()
        quoted = _QUOTED.match(rest)
        rest = quoted.group("text").strip() if quoted else rest
        wording = len(rf.content_words(rest)) >= 2 and len(rf.words(rest)) >= 3 and not _ABOUT_WORDING.match(rest)
        if wording and not yes:  # a replacement wording, kept verbatim
            state.action = rest
            if found is not None:
                state.due = found.due
            return self._propose(state)
        if no or yes:  # "no", "no, change it", "yes, but change the wording"
            state.stage = "way_forward"
            state.proposed = None
            return self._ask(state, "way_forward", "Of course.", None, (), "What would you like the commitment to say?")
        text = state.proposed.text if state.proposed else state.action
        return self._reply(state, "confirm", "question", "Just to be sure: reply \"yes\" to save it, or send the "
                           "wording you'd like instead.", None, (), f"Shall I save \"{text}\"?", proposed=state.proposed)

    def _done(self, state: CoachState, msg: str) -> Reply:
        c = state.commitment
        text = (f"Your commitment is saved (\"{c.text}\", by {_fmt(c.due)}). " if c else "") + \
            "To work on something else, start a new conversation."
        return self._reply(state, "done", "done", text, None, (), None)

    # ---------------------------------------------------------------- the topic
    def _read(self, state: CoachState, text: str) -> TopicReading:
        """What the words (with the moment and the development areas) say the conversation is about."""
        ctx = state.context
        comps = list(self.library.competencies)
        moment = self.library.moments[ctx.moment].competencies if ctx.moment in self.library.moments else ()
        if not set(comps) & set(self.topics.classes_):  # a library with its own competencies: retrieval
            det = self.grounding.detect(text, ctx.prior(self.library))
            ranked = list(det.scores)
            return TopicReading(det.competency, ranked[1] if len(ranked) > 1 else None, det.confidence, "words",
                                det.competency is not None, det.scores, det.scores)
        return read_topic(text, self.topics, comps, moment, ctx.development_areas)

    def _set_topic(self, state: CoachState, reading: TopicReading, source: str) -> None:
        state.topic = reading
        state.competency, state.competency_source = reading.competency, source

    def _topic_question(self, state: CoachState) -> str:
        name = self._name(state.competency).lower()
        runner = state.topic.runner_up if state.topic else None
        if runner:
            return f"This sounds like {name}: is that right, or is it more about {self._name(runner).lower()}?"
        return f"This sounds like {name}: is that right?"

    def _topic_answer(self, state: CoachState, msg: str) -> Reply | tuple[str, bool]:
        """Read the answer to "is that right, or is it more about ...?": a reply asking which topic
        it is, or (lead, whether the message also tells what is happening)."""
        state.topic_pending = False
        asked_which, state.topic_asked_which = state.topic_asked_which, False
        runner = state.topic.runner_up if state.topic else None
        short = len(rf.words(msg)) <= 8
        yes, no = bool(_YES.match(msg)) and not _NO.match(msg), bool(_NO.match(msg))
        named = correction(msg)
        if named is None and (short or no or asked_which):
            named = named_topic(msg)
        if named is None and short and runner and _SECOND.search(msg):
            named = runner
        if named is None and short and _FIRST.search(msg):
            named = state.competency
        rich = len(rf.content_words(msg)) >= 5  # the answer also says what is happening
        if named is None and short and msg.rstrip().endswith("?") and not yes and not no:  # "what do you mean?"
            state.topic_pending = True
            return self._ask(state, "reality", "I mean: which leadership skill this is mostly about, so that I can "
                             "bring you the right ideas.", None, (), self._topic_question(state))
        if named is None and _PARTLY.match(msg):  # "sort of, but mostly it's that nobody listens to me"
            reading = self._read(state, _PARTLY.sub("", msg, count=1))
            if reading.informative and reading.competency not in (None, state.competency):
                state.competency, state.competency_source = reading.competency, "leader"  # their "mostly"
                return (f"Then let's take it as {self._name(reading.competency).lower()}; tell me if that's not "
                        "right."), True
            return "", True
        if named is not None and named in self.library.competencies:
            changed = named != state.competency
            state.competency, state.competency_source = named, "leader"
            return (f"Thanks for putting me right: {self._name(named).lower()} it is." if changed else "Good."), rich
        if yes:
            state.competency_source = "leader"
            return "Good.", rich
        if no and not rich:
            state.topic_pending = state.topic_asked_which = True
            others = [self._name(c).lower() for c in self.library.competencies if c != state.competency]
            q = f"Which is it closer to: {', '.join(others[:-1])} or {others[-1]}?" if len(others) > 1 else \
                "What would you call it, in a few words?"
            return self._ask(state, "reality", "Thanks for putting me right.", None, (), q)
        if no or asked_which:  # described rather than named: read the words again, without the rejected topic
            rejected = state.competency if no else None
            reading = self._read(state, f"{state.goal} {msg}")
            best = next((c for c in reading.scores if c != rejected), None)
            if best is not None and reading.informative:
                state.competency, state.competency_source = best, "detected"
                return f"Thanks; I'll take it as {self._name(best).lower()}.", True
        return "", True  # no answer to the topic question: the message tells what is happening

    def _reassess(self, state: CoachState, text: str) -> str:
        """Read the topic again from goal and reality; switch (and say so) when the words now clearly
        point elsewhere, or when the topic so far came only from the moment or the profile."""
        reading = self._read(state, text)
        new, old = reading.competency, state.competency
        if not reading.informative or new is None or new == old:
            return ""
        if old is None:
            self._set_topic(state, reading, "detected")
            return f"That sounds like a question about {self._name(new).lower()}."
        weak = state.competency_source in ("moment", "development-area")
        if weak or reading.scores.get(new, 0.0) >= REASSESS_RATIO * reading.scores.get(old, 0.0):
            self._set_topic(state, reading, "detected")
            return (f"Listening to this, it sounds more like {self._name(new).lower()} than "
                    f"{self._name(old).lower()}; tell me if I've got that wrong.")
        return ""

    def _switch(self, state: CoachState, new: str) -> Reply:
        """The leader named the topic mid-conversation (a correction, or a confirmation of the current one):
        take it, and ask the current question again."""
        old = state.competency
        state.competency, state.competency_source = new, "leader"
        if old == new:
            lead = f"Yes, {self._name(new).lower()}: that's how I understood it too."
        else:
            lead = f"Got it: {self._name(new).lower()}" + (f", not {self._name(old).lower()}." if old else ".")
        if state.stage == "confirm" and state.action:
            return self._propose(state, lead=lead)
        stage = state.stage
        return self._ask(state, stage, lead, None, (), self._question(state, stage, state.goal))

    # ---------------------------------------------------------------- helpers
    def _moment_citation(self, state: CoachState, query: str) -> tuple[Citation, ...]:
        mid = state.context.moment
        if not mid or mid not in self.library.moments or mid in state.cited:
            return ()
        moment = self.library.moments[mid]
        if state.competency is not None and state.competency not in moment.competencies:
            return ()
        c = self.grounding.moment_checklist(mid, query)
        state.cited.append(c.doc_id)
        return (c,)

    def _value_citation(self, state: CoachState, query: str) -> tuple[Citation, ...]:
        """The organization's value tied to the topic, once per conversation, as the leader weighs options."""
        if state.competency is None or any(c.startswith("value/") for c in state.cited):
            return ()
        cites = self.grounding.value_citations(state.competency, query, k=1, exclude=state.cited)
        state.cited.extend(c.doc_id for c in cites)
        return tuple(cites)

    def _suggest(self, state: CoachState, query: str, kinds: tuple[str, ...], k: int = 1) -> tuple[Citation, ...]:
        """Up to ``k`` citations, skipping ones already given and, when the leader's role level is
        known, modules (and tips drawing only on modules) written for another level."""
        cites = self.grounding.suggest(query, state.competency, exclude=state.cited, kinds=kinds, k=k + 8)
        fitting = [c for c in cites if self._fits_level(state, c)][:k] or cites[:k]
        state.cited.extend(c.doc_id for c in fitting)
        return tuple(fitting)

    def _fits_level(self, state: CoachState, c: Citation) -> bool:
        level = state.context.role_level
        if level is None:
            return True
        ok = {"first-time": {"first-time"}, "experienced": {"first-time", "experienced"},
              "senior": {"experienced", "senior"}}.get(level, {level})
        if c.doc_kind == "module":
            return self.library.modules[c.doc_id].level in ok
        if c.doc_kind == "tip":
            comp, _, i = c.doc_id.split("/")
            mods = [m for m in self.library.coaching[comp].tips[int(i)].modules if m in self.library.modules]
            return not mods or any(self.library.modules[m].level in ok for m in mods)
        return True

    def _question(self, state: CoachState, stage: str, text: str) -> str:
        guide = self.library.coaching.get(state.competency or "")
        if guide is None:
            return GENERAL_QUESTIONS[stage]
        pool = [q for q in getattr(guide.questions, stage) if q not in state.asked] or list(getattr(guide.questions, stage))
        words = {w.lower()[:5] for w in rf.content_words(text)}
        return max(pool, key=lambda q: (len(words & {w.lower()[:5] for w in rf.content_words(q)}), -pool.index(q)))

    def _too_thin(self, state: CoachState, stage: str, msg: str) -> bool:
        if len(rf.content_words(msg)) >= 2 or state.probes.get(stage, 0) >= 1:
            return False
        state.probes[stage] = state.probes.get(stage, 0) + 1
        return True

    def _ask(self, state: CoachState, stage: str, lead: str, reflection: str | None,
             citations: tuple[Citation, ...], question: str) -> Reply:
        return self._reply(state, stage, "question", lead, reflection, citations, question)

    def _reply(self, state: CoachState, stage: str, kind: str, lead: str, reflection: str | None,
               citations: tuple[Citation, ...], question: str | None, proposed: Commitment | None = None,
               commitment: Commitment | None = None) -> Reply:
        if question:
            state.asked.append(question)
            state.last_question = question
        blocks = [reflection or "", lead, *(c.sentence for c in citations), question or ""]
        text = "\n\n".join(b.strip() for b in blocks if b and b.strip())
        return Reply(text, stage, kind, question, reflection, citations, proposed=proposed, commitment=commitment)

    def _name(self, competency: str | None) -> str:
        if competency is None:
            return ""
        c = self.library.competencies.get(competency)
        return c.name if c else competency


# ------------------------------------------------------------------------------ safety replies
def support_reply(state: CoachState, s: Screening, channels: sp.Channels | None = None) -> Reply:
    """Point to the right people for a support category; no coaching in this turn. Sets the
    check-in, so the next message is not coached until the leader says they are ready."""
    # distress while a crisis check-in is pending is answered as a crisis
    category = "crisis" if s.category == "distress" and state.check_in == "crisis" else s.category
    text, question = sp.support_text(category, channels or sp.Channels())
    state.check_in = sp.more_severe(state.check_in, category)
    return Reply(text + (f"\n\n{question}" if question else ""), state.stage, "support", question, None, (),
                 safety=category)


def check_in_reply(state: CoachState, message: str, channels: sp.Channels | None = None) -> Reply:
    """Answer a message sent while a check-in is pending: resume coaching when the leader says they
    are safe or want to continue, repeat the crisis support when they are not safe, else check in."""
    ch = channels or sp.Channels()
    category = state.check_in
    assert category is not None
    answer = sp.check_in_answer(message)
    if answer == "resume":
        state.check_in = None
        question = None if state.stage == "done" else (state.last_question or GENERAL_QUESTIONS["goal"])
        text = sp.resume_text(category, ch) + (f"\n\n{question}" if question else "")
        return Reply(text, state.stage, "question", question, None, (), safety="ok")
    if answer == "not_ok" and category in ("crisis", "distress"):
        text, question = sp.support_text("crisis", ch)
        state.check_in = "crisis"
        return Reply(f"{text}\n\n{question}", state.stage, "support", question, None, (), safety="crisis")
    text, question = sp.check_in_text(category, ch, declined=answer == "not_ok")
    return Reply(f"{text}\n\n{question}", state.stage, "check_in", question, None, (), safety=category)


def decline_reply(state: CoachState, s: Screening) -> Reply:
    """Decline an off-topic request, a request for other people's data, or injected instructions,
    briefly, without echoing it and without treating it as a goal; repeat the open question."""
    if s.category == "privacy":
        text = sp.privacy_text()
    elif s.category == "injection":
        text = sp.injection_text()
    else:
        text = sp.off_topic_text(s.topics[0] if s.topics else "that")
    if state.stage == "done":
        question = None
    elif state.stage == "goal" and not state.goal:
        question = "What leadership challenge would you like to work on?"
    else:
        question = state.last_question or GENERAL_QUESTIONS["goal"]
    return Reply(text + (f"\n\n{question}" if question else ""), state.stage, "decline", question, None, (),
                 safety=s.category)


def prompt_reply(state: CoachState) -> Reply:
    """A gentle nudge after an empty message, repeating the open question."""
    question = state.last_question or GENERAL_QUESTIONS["goal"]
    if state.check_in is not None:
        question = sp.SAFE_QUESTION if state.check_in in ("crisis", "distress") else sp.CONTINUE_QUESTION
    elif state.stage == "done":
        question = None
    text = "Take your time; there are no wrong answers here, and a few words are enough."
    return Reply(text + (f"\n\n{question}" if question else ""), state.stage, "prompt", question, None, (), safety="empty")


# ------------------------------------------------------------------------------ session
class CoachSession:
    """One coaching conversation: screening, the reply generator, and the transcript.

    Parameters
    ----------
    library:
        The content library.
    context:
        What is known about the leader (development areas by need, current moment, name).
    competency:
        The competency to coach on; detected from the leader's words when None.
    generator:
        The :class:`ReplyGenerator`; :class:`OfflineCoach` by default.
    index:
        A fitted :class:`LibraryIndex` to share between sessions (built when None).
    clock, today:
        Time source for turn timestamps and the date that due dates are read against.
    conversation_id:
        Id for storing the turns; a random UUID when None.

    Raises
    ------
    ValueError
        For an unknown competency, development area or moment.
    """

    def __init__(
        self,
        library: Library,
        context: CoachContext | None = None,
        competency: str | None = None,
        generator: ReplyGenerator | None = None,
        index: LibraryIndex | None = None,
        clock: Callable[[], datetime] | None = None,
        today: date | None = None,
        conversation_id: str | None = None,
    ):
        context = context or CoachContext()
        known = set(library.competencies)
        if competency is not None and competency not in known:
            raise ValueError(f"unknown competency {competency!r}; expected one of {', '.join(library.competencies)}")
        bad = [a for a in context.development_areas if a not in known]
        if bad:
            raise ValueError(f"unknown development areas {', '.join(map(repr, bad))}; expected competency ids "
                             f"({', '.join(library.competencies)})")
        if context.moment is not None and context.moment not in library.moments:
            raise ValueError(f"unknown moment {context.moment!r}; expected one of {', '.join(library.moments)}")
        self.library = library
        self._clock = clock or (lambda: datetime.now(UTC))
        self.conversation_id = conversation_id or uuid.uuid4().hex
        self.state = CoachState(context=context, today=today or self._clock().date(), competency=competency,
                                competency_source="given" if competency else None)
        self.generator: ReplyGenerator = generator or OfflineCoach(library, Grounding(library, index))
        self.channels = sp.Channels.from_library(library)
        warm_up()  # the safety classifier trains in the background while the opening is shown
        self._turns: list[Turn] = []

    @property
    def turns(self) -> tuple[Turn, ...]:
        return tuple(self._turns)

    @property
    def stage(self) -> str:
        return self.state.stage

    @property
    def commitment(self) -> Commitment | None:
        """The confirmed commitment, once the leader said yes."""
        return self.state.commitment

    @property
    def done(self) -> bool:
        return self.state.stage == "done"

    @property
    def checking_in(self) -> bool:
        """True while coaching waits for the leader to say they are safe or want to continue."""
        return self.state.check_in is not None

    def open(self) -> Reply:
        """The coach's first message (once; later calls repeat it without recording it again)."""
        reply = self.generator.opening(self.state)
        if not self._turns:
            self._record("coach", reply.text, reply.stage)
        return reply

    def send(self, message: str | None) -> Reply:
        """Screen the leader's message, answer it, and record both turns."""
        if not self._turns:
            self.open()
        s = screen(message)
        self._record("leader", s.text, self.state.stage)
        if s.category == "empty":
            reply = prompt_reply(self.state)
        elif s.needs_support:
            reply = support_reply(self.state, s, self.channels)
        elif self.state.check_in is not None:
            reply = check_in_reply(self.state, s.text, self.channels)
        elif s.category in ("off_topic", "privacy", "injection"):
            reply = decline_reply(self.state, s)
        else:
            reply = self.generator.reply(self.state, s.text)
        if s.trimmed:
            note = (f"Your message was long ({s.original_length:,} characters), so I've worked with the first "
                    f"{MAX_CHARS:,}.")
            reply = replace(reply, note=note, text=f"{note}\n\n{reply.text}")
        self._record("coach", reply.text, reply.stage)
        return reply

    def transcript(self) -> str:
        """The conversation as plain text, one block per turn."""
        return "\n\n".join(f"{'Leader' if t.speaker == 'leader' else 'Coach'} [{t.stage}]: {t.text}" for t in self._turns)

    def _record(self, speaker: str, text: str, stage: str) -> None:
        self._turns.append(Turn(speaker, text, stage, self._clock()))


def _fmt(d: date) -> str:
    return f"{d:%A} {d.day} {d:%B %Y}"
