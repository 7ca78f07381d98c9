"""What the coach says on the support path: who to contact, the safety check, the check-in.

:mod:`workbench.practice.safety` decides the route of a message; this module words the reply for
each route, using the organization's own support channels when its profile names them
(``support:`` in ``organization.yaml``, :class:`~workbench.content.schema.SupportChannels`) and
generic wording otherwise. It also reads the leader's answer to a check-in
(:func:`check_in_answer`). The policy these texts follow is in ``docs/practice.md``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .safety import normalize

SAFE_QUESTION = "Are you safe right now?"
CONTINUE_QUESTION = "Would you like to go back to your coaching now?"
#: Check-in severity: when a new support message arrives during a check-in, the more serious
#: category is the one the check-in keeps.
SEVERITY = ("crisis", "distress", "harassment", "hr_legal", "medical")


@dataclass(frozen=True)
class Channels:
    """The support channels named in replies; ``None`` fields get generic wording.

    Each field is free text that follows the generic name in brackets, e.g. ``hr="the People
    Team, people@example.org, ext. 4400"`` gives "HR or employee relations (the People Team,
    people@example.org, ext. 4400)".
    """

    emergency: str | None = None
    crisis_line: str | None = None
    eap: str | None = None
    hr: str | None = None
    speak_up: str | None = None
    occupational_health: str | None = None

    @classmethod
    def from_library(cls, library) -> Channels:
        """The channels of the library's organization profile (generic ones without a profile)."""
        org = getattr(library, "organization", None)
        support = getattr(org, "support", None)
        if support is None:
            return cls()
        return cls(**{f: getattr(support, f, None) for f in cls.__dataclass_fields__})

    @property
    def emergency_text(self) -> str:
        return self.emergency or "999 or 112 in the UK and Europe, 911 in North America, or your local emergency number"

    @property
    def crisis_text(self) -> str:
        return self.crisis_line or ("Samaritans on 116 123 in the UK and Ireland, 988 in the US and Canada, "
                                    "or your local crisis line")

    def eap_phrase(self) -> str:
        return self.eap if self.eap else "your Employee Assistance Programme, if your organization has one"

    def hr_phrase(self) -> str:
        return f"HR or employee relations ({self.hr})" if self.hr else "HR or employee relations"

    def speak_up_phrase(self) -> str:
        return (f"the speak-up line ({self.speak_up})" if self.speak_up
                else "your organization's speak-up (whistleblowing) line")

    def occupational_health_phrase(self) -> str:
        return f"occupational health ({self.occupational_health})" if self.occupational_health else "occupational health"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def support_text(category: str, ch: Channels) -> tuple[str, str | None]:
    """The reply for a support ``category`` and the one question it ends with (or None)."""
    if category == "crisis":
        text = (f"If you or anyone else is in immediate danger, call the emergency services now ({ch.emergency_text}). "
                "If you are thinking about ending your life or harming yourself, or someone has told you they are, "
                f"please contact a crisis line now ({ch.crisis_text}); they are there for exactly this, at any hour.\n\n"
                "I'm really glad you told me. I'm a leadership practice tool and not the right help for this, so I'll "
                f"pause our coaching here. {_cap(ch.eap_phrase())} offers confidential support too, and it can "
                "help to tell someone you trust how you are doing.")
        return text, SAFE_QUESTION
    if category == "distress":
        text = ("That sounds really hard, and how you are doing matters more than any leadership exercise. Please talk to "
                f"someone who can help: {ch.eap_phrase()}, your doctor, or someone you trust. If you ever feel unsafe or "
                f"think about harming yourself, call the emergency services ({ch.emergency_text}) or a crisis line "
                f"({ch.crisis_text}) straight away. I'll pause our coaching here.")
        return text, SAFE_QUESTION
    if category == "harassment":
        text = ("What you describe may be harassment, bullying or discrimination. That needs people with the authority "
                "to act, not a coaching exercise, so I'll pause our coaching here.\n\n"
                "If it is happening to someone in your team, you have a duty to act on it: don't investigate it yourself "
                f"or promise to keep it secret; take it to {ch.hr_phrase()} today, and keep a short factual note of dates, "
                "what was said or done and who saw it. If it is happening to you, including from your own manager, you "
                f"can go to HR or employee relations directly, or use {ch.speak_up_phrase()} to raise it confidentially or "
                f"outside your reporting line. {_cap(ch.eap_phrase())} offers confidential support. If anyone "
                f"is in immediate danger, call the emergency services ({ch.emergency_text}).")
        return text, None
    if category == "hr_legal":
        text = (f"This is an HR and employment-law question, so the right people to answer it are {ch.hr_phrase()}. "
                "The answer depends on your organization's policies, the person's contract and the law where you work, "
                "and getting it wrong can harm the person and expose you and the organization, so please speak to them "
                "before you act or say anything to the person. If it is about your own employment, a trade union "
                "representative or an independent employment adviser can help too. I won't coach on this part; once "
                "you have their advice, I'm glad to help you prepare how you will handle the conversation itself.")
        return text, None
    if category == "medical":
        text = ("That's a medical or substance-use question, and I'm not the right source for it: please talk to a "
                f"doctor or pharmacist, or {ch.occupational_health_phrase()}. {_cap(ch.eap_phrase())} offers "
                "confidential help with alcohol, drugs, gambling and health worries. If it is about someone in your "
                "team who may be impaired in safety-critical work (driving, machinery, patient care), stop them doing "
                f"that work now and speak to {ch.hr_phrase()} or occupational health today. If anyone is in immediate "
                f"danger, call the emergency services ({ch.emergency_text}). I'll pause our coaching here.")
        return text, None
    raise ValueError(f"not a support category: {category!r}")


def check_in_text(category: str, ch: Channels, declined: bool = False) -> tuple[str, str]:
    """The check-in before coaching resumes after a support reply (``declined``: the leader said
    they are not ready or not safe, for the non-crisis routes)."""
    if category in ("crisis", "distress"):
        text = ("Before we go back to coaching, I'd like to check in with you first. If you are safe and would like to "
                "carry on, just tell me (for example, \"I'm safe, let's continue\"). If you are not, please call the "
                f"emergency services ({ch.emergency_text}) or a crisis line ({ch.crisis_text}) now.")
        return text, SAFE_QUESTION
    where = {"harassment": f"{ch.hr_phrase()} or {ch.speak_up_phrase()}",
             "hr_legal": ch.hr_phrase(),
             "medical": f"a doctor, {ch.occupational_health_phrase()} or {ch.eap_phrase()}"}[category]
    if declined:
        text = (f"That's fine; take the time you need, and do take it to {where}. Whenever you'd like to go back to your "
                "coaching, say \"let's continue\".")
    else:
        text = (f"Before we go back to coaching, a quick check-in about what you raised: {where} is the right place "
                "for it. When you're ready to carry on with your coaching, say \"let's continue\".")
    return text, CONTINUE_QUESTION


def resume_text(category: str, ch: Channels) -> str:
    """The line that re-opens coaching after a check-in."""
    if category in ("crisis", "distress"):
        return (f"Thank you for telling me. If things get hard again, {ch.eap_phrase()} and a crisis line "
                f"({ch.crisis_text}) are there at any hour. Let's carry on where we were.")
    return "Thank you. Let's carry on where we were."


_NEGATIVE = re.compile(
    r"\b(not\s+(safe|ok|okay|alright|all\s+right|fine|good|great|really|sure|yet|now|ready|today)|unsafe|never|"
    r"do\s+not\s+(want|know|feel|think)|cannot|scared|afraid|frightened|in\s+danger|help\s+me)\b")
_BARE_NO = re.compile(r"^(no|nope|nah|n)\b")
_POSITIVE = re.compile(
    r"\b(i\s+am|i\s+feel|feeling|i\s+will\s+be|we\s+are|im)\s+(\w+\s+)?(safe|ok|okay|alright|all\s+right|fine|good|better)\b"
    r"|^(yes|yeah|yep|yup|y|safe|all\s+good|of\s+course|absolutely|definitely)\b"
    r"|\b(continue|carry\s+on|go\s+on|keep\s+going|resume|move\s+on|back\s+to\s+(the\s+|my\s+)?(coaching|goal|plan|it|work)|"
    r"let\s+us\s+(go|continue|carry)|proceed|where\s+we\s+(left\s+off|were)|ready)\b")


def check_in_answer(message: str) -> str:
    """Read the leader's answer to a check-in: ``resume``, ``not_ok`` or ``unclear``.

    Any sign of not being safe or not wanting to go on wins over a "yes", so "yes, but I'm not
    okay" is ``not_ok``; a bare "no" is ``not_ok``; "I'm safe, let's continue" and a "yes" (to
    "are you safe right now?") are ``resume``; a bare "ok" or "thanks" is ``unclear``, so the
    coach asks again rather than guessing.
    """
    t = normalize(message)
    if _NEGATIVE.search(t):
        return "not_ok"
    if _POSITIVE.search(t):
        return "resume"
    if _BARE_NO.search(t):
        return "not_ok"
    return "unclear"


def more_severe(a: str | None, b: str) -> str:
    """The more serious of two support categories (``a`` may be None)."""
    if a is None:
        return b
    return min(a, b, key=SEVERITY.index)


def privacy_text() -> str:
    return ("I can't show anyone else's results, and I can't tell you who gave which rating. Each leader sees only "
            "their own report, and peers' and direct reports' answers are only shown pooled, once at least three people "
            "in that role have answered, so nobody's individual answers can be picked out. Your own results are in your "
            "report. If you'd like, we can work on how to ask your team for feedback directly.")


def injection_text() -> str:
    return ("I'll keep to my role as your leadership coach: I don't change my instructions, take on other roles, or "
            "share settings or other people's data. If there is a leadership question behind this, I'm glad to help "
            "with it.")


def off_topic_text(topic: str) -> str:
    return (f"That's outside what I can help with ({topic}); I'm a coach for your leadership development. If there is "
            "a leadership side to it, I'm glad to work on that.")
