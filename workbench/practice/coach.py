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
* **Personal.** The competency is the one given by the caller, else the one the leader's words
  point to (retrieval, with the leader's development areas and current moment as a prior), else
  their most pressing development area. The current moment's checklist is offered when it fits.
* **Ends with a confirmed commitment.** The way-forward answer becomes a :class:`Commitment`
  (text, competency, due date); the leader confirms it with "yes" or changes it ("no, change it").
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
from .commitment import Commitment, default_due, parse_due, strip_due
from .grounding import Citation, Grounding
from .safety import MAX_CHARS, Screening, screen, warm_up

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
_CHANGE_LEAD = re.compile(r"^\s*((no|nope|nah|not quite|not really|wait|actually|edit|n)\b)?[\s,.!:-]*"
                          r"(please\s+)?(change|make|edit)?\s*(it|that)?\s*(to|into|so it says|to say)?[\s,:-]*",
                          re.IGNORECASE)
_HEDGE = re.compile(r"\b(but|change|instead|except|however)\b", re.IGNORECASE)
_UNSURE = re.compile(r"\b(not sure|no idea|don'?t know|dunno|no clue|can'?t think|nothing comes to mind)\b", re.IGNORECASE)


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
    competency_source: str | None = None  # given | detected | development-area
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
    """The default :class:`ReplyGenerator`: GROW dialogue over the library, no model."""

    def __init__(self, library: Library, grounding: Grounding | None = None):
        self.library = library
        self.grounding = grounding or Grounding(library)

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
        bridge = ""
        if state.competency is None:
            bridge = self._settle_competency(state, msg)
        reflection = f"What I'm hearing: {phrase}." if phrase else None
        state.stage = "reality"
        return self._ask(state, "reality", bridge, reflection, (), self._question(state, "reality", msg))

    def _reality(self, state: CoachState, msg: str) -> Reply:
        if self._too_thin(state, "reality", msg):
            return self._ask(state, "reality", "Could you say a bit more about what is happening?", None, (),
                             self._question(state, "reality", msg))
        state.reality = rf.shorten(msg, 80)
        bridge = ""
        if state.competency is None:
            bridge = self._settle_competency(state, state.goal + " " + msg)
        phrase = rf.paraphrase(msg)
        reflection = f"So right now, {phrase}." if phrase else None
        query = f"{state.goal} {msg}"
        cites = self._moment_citation(state, query) or self._suggest(state, query, ("tip", "framework"))
        state.stage = "options"
        lead = " ".join(p for p in (bridge, "Something that may help:" if cites else "") if p)
        return self._ask(state, "options", lead, reflection, cites, self._question(state, "options", query))

    def _options(self, state: CoachState, msg: str) -> Reply:
        query = f"{state.goal} {state.reality} {msg}"
        if (_UNSURE.search(msg) or not rf.content_words(msg)) and state.probes.get("options", 0) == 0:
            state.probes["options"] = 1
            cites = self._suggest(state, query, ("tip", "framework"), k=2)
            lead = "That's fine; here are two ideas from the library to get you started." if cites else \
                "That's fine; take a moment."
            return self._ask(state, "options", lead, None, cites, "Which of these, or something else, could work for you?")
        state.options = rf.options_from(msg) or [rf.paraphrase(msg)]
        if len(state.options) > 1:
            reflection = f"You have {len(state.options)} options on the table: " + "; ".join(state.options) + "."
        else:
            reflection = f"So one option is this: {state.options[0]}."
        cites = self._suggest(state, query, ("module",))
        lead = "If you want to go deeper first:" if cites else ""
        state.stage = "way_forward"
        return self._ask(state, "way_forward", lead, reflection, cites, self._question(state, "way_forward", query))

    def _way_forward(self, state: CoachState, msg: str) -> Reply:
        found = parse_due(msg, state.today)
        if state.awaiting_due:
            state.awaiting_due = False
            extra = rf.action_from(strip_due(msg, found.phrase) if found else msg)
            if not state.action and extra:
                state.action = extra
            state.due = found.due if found else default_due(state.today)
            return self._propose(state, assumed=found is None)
        action = rf.action_from(strip_due(msg, found.phrase) if found else msg)
        if not action or not rf.content_words(action):
            if found and state.action:  # only a new date for the same step
                state.due = found.due
                return self._propose(state)
            return self._ask(state, "way_forward", "Let's make it concrete.", None, (),
                             "What is one specific thing you will do?")
        state.action = action.rstrip(" .")
        if found is None and state.due is None:
            state.awaiting_due = True
            return self._ask(state, "way_forward", "", f"So your step is: \"{state.action}\".", (), "By when will you do that?")
        state.due = found.due if found else state.due
        return self._propose(state)

    def _propose(self, state: CoachState, assumed: bool = False) -> Reply:
        due = state.due or default_due(state.today)
        state.proposed = Commitment(state.action, state.competency, due, goal=rf.paraphrase(state.goal))
        state.stage = "confirm"
        comp = f" ({self._name(state.competency)})" if state.competency else ""
        when = _fmt(due) + (" (a week from today; tell me if you'd like another date)" if assumed else "")
        text = f"Here is the commitment I'd save to your plan: \"{state.proposed.text}\", by {when}{comp}."
        q = "Shall I save it? Reply \"yes\", or \"no, change it\"."
        return self._reply(state, "confirm", "proposal", text, None, (), q, proposed=state.proposed)

    def _confirm(self, state: CoachState, msg: str) -> Reply:
        if _NO.match(msg) and not _YES.match(msg):
            rest = _CHANGE_LEAD.sub("", msg, count=1).strip()
            state.stage = "way_forward"
            if rf.content_words(rest) and len(rf.words(rest)) >= 2:
                return self._way_forward(state, rest)
            state.proposed = None
            return self._ask(state, "way_forward", "Of course.", None, (), "What would you like the commitment to say?")
        new_date = parse_due(msg, state.today)
        if new_date is not None and not _YES.match(msg) and state.proposed is not None and \
                len(rf.content_words(strip_due(msg, new_date.phrase))) == 0:
            state.due = new_date.due  # only a new date: keep the step, move the date
            return self._propose(state)
        if _YES.match(msg) and not _HEDGE.search(msg):
            assert state.proposed is not None
            state.commitment = state.proposed
            state.stage = "done"
            c = state.commitment
            text = (f"Saved to your plan: \"{c.text}\", by {_fmt(c.due)}. Come back and tell me how it went; "
                    "what you learn from trying it is the real progress.")
            return self._reply(state, "done", "closing", text, None, (), None, commitment=c)
        q = f"Shall I save \"{state.proposed.text if state.proposed else state.action}\"? Please reply \"yes\" or \"no, change it\"."
        return self._reply(state, "confirm", "question", "Just to be sure.", None, (), q, proposed=state.proposed)

    def _done(self, state: CoachState, msg: str) -> Reply:
        c = state.commitment
        text = (f"Your commitment is saved (\"{c.text}\", by {_fmt(c.due)}). " if c else "") + \
            "To work on something else, start a new conversation."
        return self._reply(state, "done", "done", text, None, (), None)

    # ---------------------------------------------------------------- helpers
    def _settle_competency(self, state: CoachState, text: str) -> str:
        """Pick the competency from the words, else from the top development area; say which."""
        det = self.grounding.detect(text, state.context.prior(self.library))
        if det.competency is not None:
            state.competency, state.competency_source = det.competency, "detected"
            return f"That sounds like a question about {self._name(det.competency).lower()}."
        areas = [a for a in state.context.development_areas if a in self.library.competencies]
        if areas:
            state.competency, state.competency_source = areas[0], "development-area"
            return f"Let's look at it through {self._name(areas[0]).lower()}, your current development focus."
        return ""

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
