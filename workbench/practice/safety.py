"""Safety screening for the coaching chat: a small, curated lexicon of patterns, no model.

Every leader message passes :func:`screen` before the coach does anything with it. The result
routes the turn:

========== ===================================================================================
category   what happens
========== ===================================================================================
empty      a gentle prompt to write something; the coaching question is repeated
crisis     self-harm, suicide, or someone in danger: point to emergency services, a crisis
           line and the Employee Assistance Programme; no coaching in that turn
harassment harassment, discrimination, bullying, abuse, retaliation: point to HR, a trusted
           manager, the speak-up line and the Employee Assistance Programme; no coaching
distress   despair or self-reported burnout: point to the manager, HR, the Employee Assistance
           Programme or a doctor; no coaching in that turn
off_topic  requests outside leadership development (tax or money advice, programming, medical or
           legal questions, writing letters or CVs for someone, general trivia): declined
           politely with a short redirect to leadership topics
ok         coaching continues
========== ===================================================================================

Precedence is the order of that table: a message that mentions a lawsuit *and* harassment is
a harassment case. Very long messages (over :data:`MAX_CHARS` characters) are accepted, trimmed
at a word boundary, and flagged so the coach can say so.

The rules are deliberately narrow so that ordinary leadership talk passes: "my team is in
conflict", "I feel stuck coaching Sam", "my team is burnt out after the launch", "I'm
overwhelmed and want to delegate more" and "feedback on code reviews" are not flagged. Burnout
is flagged only when the leader describes it about themselves, or together with despair. The
rule table :data:`RULES` is the documented lexicon; each rule carries an example that the test
suite checks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_CHARS = 2000

CATEGORIES = ("empty", "crisis", "harassment", "distress", "off_topic", "ok")
SUPPORT_CATEGORIES = ("crisis", "harassment", "distress")

_CANT = r"(?:can\s*['’]?\s*t|cannot|can\s+not)"
_I = r"(?:i\s*['’]?\s*m|i\s+am|i\s+feel|i\s*['’]?\s*ve\s+been|i\s+have\s+been|feeling)"


@dataclass(frozen=True)
class Rule:
    """One pattern of the lexicon: its category, the topic it names, and an example it catches."""

    category: str
    topic: str
    pattern: str
    example: str

    @property
    def regex(self) -> re.Pattern[str]:
        return _compiled(self.pattern)


_CACHE: dict[str, re.Pattern[str]] = {}


def _compiled(pattern: str) -> re.Pattern[str]:
    if pattern not in _CACHE:
        _CACHE[pattern] = re.compile(pattern, re.IGNORECASE)
    return _CACHE[pattern]


RULES: tuple[Rule, ...] = (
    # --- crisis: self-harm, suicide, immediate danger -------------------------------------
    Rule("crisis", "self-harm", r"\b(kill|hurt|harm|cut)(ing)?\s+my\s*self\b", "Some days I want to hurt myself."),
    Rule("crisis", "suicide", r"\bsuicid\w*", "I've had suicidal thoughts this month."),
    Rule("crisis", "self-harm", r"\bself[-\s]?harm\w*", "I've started self-harming again."),
    Rule("crisis", "suicide", r"\bend(ing)?\s+(it\s+all|my\s+life)\b", "I think about ending it all."),
    Rule("crisis", "suicide", r"\b(don['’]?t|do\s+not)\s+want\s+to\s+(live|be\s+alive|wake\s+up|be\s+here\s+any\s?more)\b",
         "I don't want to live like this."),
    Rule("crisis", "suicide", r"\bbetter\s+off\s+(dead|without\s+me)\b", "Everyone would be better off without me."),
    Rule("crisis", "danger", r"\b(threaten\w*|going|wants?)\s+to\s+(kill|hurt|attack|beat)\s+(me|us|him|her|them|someone)\b",
         "A colleague threatened to hurt me after the meeting."),
    Rule("crisis", "danger", r"\b(i\s*['’]?\s*m|i\s+am|we\s*['’]?\s*re|we\s+are)\s+(not\s+safe|in\s+danger)\b",
         "I'm not safe at home."),
    # --- harassment, discrimination, abuse ------------------------------------------------
    Rule("harassment", "harassment", r"\bharass\w*", "My manager keeps harassing me about my private life."),
    Rule("harassment", "bullying", r"\bbull(y|ies|ied|ying)\b", "One of my reports is being bullied by a senior colleague."),
    Rule("harassment", "discrimination", r"\bdiscriminat\w*", "I think I'm being discriminated against in promotions."),
    Rule("harassment", "discrimination", r"\b(racist|sexist|homophobic|transphobic|ableist|misogynist\w*)\b",
         "A client made racist remarks to one of my agents."),
    Rule("harassment", "discrimination", r"\b(racial|ethnic|homophobic)?\s*slurs?\b", "Someone used a slur in the team chat."),
    Rule("harassment", "sexual harassment",
         r"\b(sexual(ly)?\s+(comment|remark|advance|joke|touch|assault|explicit)\w*|unwanted\s+(touch\w*|advances?|attention)"
         r"|touch(ed|es|ing)\s+me\b|inappropriately\s+touch\w*)",
         "A senior director touched me at the offsite and I froze."),
    Rule("harassment", "abuse", r"\b(assault\w*|abus(e|ed|es|ive|ing))\b", "My boss is verbally abusive in one-on-ones."),
    Rule("harassment", "retaliation", r"\bretaliat\w*", "I reported a problem and now I'm facing retaliation."),
    Rule("harassment", "intimidation", r"\b(intimidat\w*|hostile\s+work\s+environment|threaten\w*\s+(me|to\s+fire\s+me))\b",
         "My peer keeps intimidating the junior staff."),
    Rule("harassment", "discrimination",
         r"\b(because|for\s+being|since)\s+(she\s*['’]?\s*s|he\s*['’]?\s*s|they\s*['’]?\s*re|i\s*['’]?\s*m|i\s+am)\s+"
         r"(pregnant|gay|lesbian|trans|black|muslim|jewish|disabled|too\s+old|a\s+woman|foreign)\b",
         "She was left off the project because she's pregnant."),
    # --- distress: despair, self-reported burnout ----------------------------------------
    Rule("distress", "despair", r"\bi\s+(just\s+|really\s+|simply\s+|honestly\s+)?" + _CANT + r"\s+cope\b|\b(i\s*['’]?\s*m|i\s+am)\s+unable\s+to\s+cope\b", "I just can't cope anymore."),
    Rule("distress", "despair", r"\bi\s+(just\s+|really\s+|simply\s+|honestly\s+)?" + _CANT + r"\s+(go\s+on|take\s+(it|this|much\s+more|any\s?more))\b",
         "I can't take it anymore."),
    Rule("distress", "burnout", _I + r"\s+(so\s+|completely\s+|totally\s+|utterly\s+|really\s+|very\s+)?"
         r"(burn(ed|t|ing)?[-\s]?out|broken|at\s+breaking\s+point)\b",
         "I'm completely burnt out."),
    Rule("distress", "burnout", _I + r"\s+(so|completely|totally|utterly)\s+exhausted\b.{0,60}\b(can['’]?t|cannot|no\s+longer|nothing)\b",
         "I'm so exhausted I can't think straight any more."),
    Rule("distress", "despair", r"\b(hopeless|despair\w*|worthless)\b", "Everything feels hopeless at work."),
    Rule("distress", "despair", r"\b(falling\s+apart|breaking\s+down|breaking\s+point|end\s+of\s+my\s+rope|wits['’]?\s+end)\b",
         "I'm falling apart and nobody notices."),
    Rule("distress", "despair", r"\bcry(ing)?\s+(every|all)\s+(day|night|morning|the\s+time)\b", "I've been crying every night."),
    Rule("distress", "anxiety", r"\bpanic\s+attacks?\b", "I had a panic attack before the board meeting."),
    Rule("distress", "despair", r"\bnothing\s+left\s+to\s+give\b", "I have nothing left to give."),
    # --- off topic: not leadership development -------------------------------------------
    Rule("off_topic", "tax or money", r"\b(tax(es)?|tax\s+returns?|vat\s+return|deductible|irs|hmrc|mortgage|crypto\w*|bitcoin"
         r"|stock\s+(market|tips?|picks?)|pension\s+fund)\b",
         "How do I fill in my tax return?"),
    Rule("off_topic", "programming",
         r"\b(write|fix|debug)\s+(me\s+)?((some|a|an|my|this|the)\s+)?((python|javascript|typescript|java|sql|bash|vba|excel)\s+)?"
         r"(code|script|function|program|query|macro|regex|formula)\b",
         "Can you fix this Python function for me?"),
    Rule("off_topic", "programming",
         r"\b(python|javascript|typescript|java|c\+\+|c#|sql|regex|html|css|bash|vba|excel\s+formula)\b.{0,40}"
         r"\b(code|script|function|error|bug|loop|syntax|install|library|query|exception|compile)\w*",
         "My SQL query throws a syntax error."),
    Rule("off_topic", "programming", r"\b(stack\s?trace|syntax\s+error|segfault|compiler|null\s+pointer|debugg?ing\s+my)\b",
         "I get a stack trace when I run the build."),
    Rule("off_topic", "medical",
         r"\b(medications?|dosage|prescriptions?|side\s+effects?|antibiotics?|ibuprofen|paracetamol|medical\s+(advice|question)"
         r"|diagnos(is|ed)\s+(with|of)|my\s+symptoms)\b|\bshould\s+i\s+see\s+a\s+doctor\b"
         r"|\bsymptoms?\s+of\s+(covid|flu|cancer|diabetes|an?\s+infection|a\s+stroke|a\s+heart\s+attack)\b",
         "What dosage of ibuprofen is safe for a migraine?"),
    Rule("off_topic", "legal",
         r"\b(legal\s+(advice|question|action)|(?-i:sue|suing)|lawsuit|litigation|attorney|lawyer|solicitor|non[-\s]?compete"
         r"|(employment|contract|labou?r|immigration)\s+law|visa|divorce|custody|landlord)\b|\bis\s+it\s+(il)?legal\b",
         "Can I sue my landlord for the deposit?"),
    Rule("off_topic", "writing for you",
         r"\b(write|draft|compose)\b.{0,40}\b(resignation|cover\s+letter|cv|resume|résumé|wedding\s+speech|essay|homework|poem)\b"
         r"|\bresignation\s+letter\b",
         "Write my resignation letter for me."),
    Rule("off_topic", "general questions",
         r"\b(weather\s+(forecast|today|tomorrow)|recipe\s+for\s+(dinner|lunch|a\s+cake|soup|bread)|horoscope|lottery"
         r"|football\s+scores?|sports?\s+scores?|translate\s+(this|into)|what\s*(is|['’]s)\s+the\s+capital\s+of)\b",
         "What's the weather forecast for tomorrow?"),
)


@dataclass(frozen=True)
class Screening:
    """The outcome of screening one message.

    ``text`` is the message as the coach should use it (stripped, and trimmed when it was
    longer than :data:`MAX_CHARS`); ``topics`` names the matched rules' topics.
    """

    category: str
    topics: tuple[str, ...]
    text: str
    trimmed: bool = False
    original_length: int = 0

    @property
    def needs_support(self) -> bool:
        return self.category in SUPPORT_CATEGORIES

    @property
    def ok(self) -> bool:
        return self.category == "ok"


def trim(text: str, limit: int = MAX_CHARS) -> tuple[str, bool]:
    """``text`` cut to at most ``limit`` characters at a word boundary, and whether it was cut."""
    if len(text) <= limit:
        return text, False
    cut = text[:limit]
    space = cut.rfind(" ")
    if space > limit * 0.8:
        cut = cut[:space]
    return cut.rstrip(), True


def screen(message: str | None, limit: int = MAX_CHARS) -> Screening:
    """Classify a leader's message (see the module docstring for the categories and order)."""
    raw = (message or "").strip()
    if not raw or not re.search(r"\w", raw):
        return Screening("empty", (), "", False, len(raw))
    # screen the whole message, so a crisis at the end of a very long message is not trimmed away
    flat = re.sub(r"\s+", " ", raw)
    found: dict[str, list[str]] = {}
    for rule in RULES:
        if rule.regex.search(flat):
            topics = found.setdefault(rule.category, [])
            if rule.topic not in topics:
                topics.append(rule.topic)
    text, trimmed = trim(raw, limit)
    for category in ("crisis", "harassment", "distress", "off_topic"):
        if category in found:
            return Screening(category, tuple(found[category]), text, trimmed, len(raw))
    return Screening("ok", (), text, trimmed, len(raw))
