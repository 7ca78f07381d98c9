"""Reflecting back what the leader said, in their own words.

The coach paraphrases by *extraction*, not by template filling: it splits the message into
clauses, keeps the clause that carries the most content words (a light-weight key-phrase
extraction in the spirit of RAKE), drops hedges and fillers at its start, shortens it, and
turns the point of view around ("I", "my", "me" become "you", "your", "you"). Options are the
alternatives the leader listed, split on "or", commas and semicolons; an action is the clause
with a first-person intention ("I'll", "I will", "I'm going to" ...) with that marker removed.
"""

from __future__ import annotations

import re

MAX_WORDS = 20

_FILLERS = {
    "really", "just", "think", "guess", "maybe", "actually", "basically", "honestly", "kind", "sort",
    "like", "stuff", "thing", "things", "want", "need", "feel", "know", "lot", "bit", "pretty", "quite",
    "yeah", "okay", "ok", "well", "um", "uh", "get", "got", "make", "trying", "try", "hmm", "hmmm", "mmm", "erm",
    "idk", "nah", "yes", "yep", "sure", "fine", "thanks",
}
# English function words (pronouns, articles, auxiliaries, prepositions, conjunctions, common
# adverbs); a short list of our own so that importing the coach stays light
_FUNCTION_WORDS = frozenset("""
a about above across after again against all almost alone along already also although always am among an and
another any anyone anything anyway anywhere are around as at back be became because become becomes been before
behind being below beside besides between beyond both but by can cannot could did do does doing done down during
each either else elsewhere enough even ever every everyone everything everywhere except few first for former from
further had has have having he her here hers herself him himself his how however i if in indeed into is it its
itself just last least less many may me meanwhile might mine more moreover most mostly much must my myself neither
never nevertheless next no nobody none nor not nothing now nowhere of off often on once one only onto or other
others otherwise our ours ourselves out over own per perhaps please rather same several she should since so some
somehow someone something sometime sometimes somewhere still such than that the their theirs them themselves then
there thereafter therefore these they this those though through throughout thus to together too toward towards
under until up upon us very via was we were what whatever when whenever where whereas wherever whether which while
who whoever whole whom whose why will with within without would yet you your yours yourself yourselves
""".split())
_STOP = _FUNCTION_WORDS | _FILLERS

_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
_SENTENCES = re.compile(r"(?<=[.!?])\s+|\n+|;\s*")
_CLAUSES = re.compile(r",\s*(?:but|because|although|though|so|however)\s+|\s+(?:but|because|although|however)\s+|:\s+|\s+-\s+")
_LEADING = re.compile(
    r"^(?:(?:well|so|um+|uh+|yeah|yes|ok(?:ay)?|hmm+|honestly|basically|actually|to be honest|i think(?: that)?|i guess"
    r"|i suppose|i mean|i feel like|i feel that|it'?s just that|the thing is(?: that)?|and|but|also|right now|currently"
    r"|at the moment|these days|lately|at present)[,\s]+)+",
    re.IGNORECASE,
)

# first person -> second person, applied word by word (longest phrases first)
_SWAPS: tuple[tuple[str, str], ...] = (
    (r"\bi\s*['’]\s*m\b", "you're"),
    (r"\bi\s+am\b", "you are"),
    (r"\bi\s*['’]\s*ve\b", "you've"),
    (r"\bi\s*['’]\s*ll\b", "you'll"),
    (r"\bi\s*['’]\s*d\b", "you'd"),
    (r"\bi\s+was\b", "you were"),
    (r"\bmyself\b", "yourself"),
    (r"\bourselves\b", "yourselves"),
    (r"\bmine\b", "yours"),
    (r"\bmy\b", "your"),
    (r"\bme\b", "you"),
    (r"\bi\b", "you"),
    (r"\bwe\s*['’]\s*re\b", "you're"),
    (r"\bours\b", "yours"),
    (r"\bour\b", "your"),
    (r"\bus\b", "you"),
    (r"\bwe\b", "you"),
)
_SWAP_RE = [(re.compile(p, re.IGNORECASE), r) for p, r in _SWAPS]

_INTENT = re.compile(
    r"\b(?:i\s*['’]\s*ll|i\s+will|i\s*['’]\s*m\s+going\s+to|i\s+am\s+going\s+to|i\s+plan\s+to|i\s*['’]\s*m\s+planning\s+to"
    r"|i\s+am\s+planning\s+to|i\s+want\s+to|i\s+would\s+like\s+to|i\s*['’]\s*d\s+like\s+to|i\s+intend\s+to|i\s+can|i\s+could"
    r"|i\s+should|i\s+commit\s+to|i\s+promise\s+to|going\s+to|my\s+first\s+step\s+(?:is|will\s+be)(?:\s+to)?|first\s+step:?"
    r"|first,?|next,?|then,?)\s+",
    re.IGNORECASE,
)


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def content_words(text: str) -> list[str]:
    """Words that carry meaning: not stop words or fillers, at least three letters."""
    return [w for w in words(text)
            if len(w) >= 3 and "'" not in w and "’" not in w and w.lower() not in _STOP]


def sentences(text: str) -> list[str]:
    return [p.strip() for p in _SENTENCES.split(text.strip()) if p.strip(" ,.;:!-–—\"'")]


def clauses(text: str) -> list[str]:
    """Sentences split further at "but", "because", "although", colons and dashes."""
    out = []
    for sentence in sentences(text):
        for part in _CLAUSES.split(sentence):
            part = part.strip(" ,.;:!-–—\"'")
            if part:
                out.append(part)
    return out


def clean(clause: str) -> str:
    """Drop leading hedges and fillers ("well, I think that ...")."""
    return _LEADING.sub("", clause.strip()).strip(" ,.;:!?")


def shorten(text: str, max_words: int = MAX_WORDS) -> str:
    ws = text.split()
    if len(ws) <= max_words:
        return text
    return " ".join(ws[:max_words]).rstrip(",;:") + " …"


def second_person(text: str) -> str:
    """Turn the point of view around: "I want my team" -> "you want your team"."""
    out = text
    for pattern, repl in _SWAP_RE:
        out = pattern.sub(lambda m, r=repl: _match_case(m.group(0), r), out)
    # "you is/was" after swapping "I ... " rarely occurs; fix the common verb forms
    out = re.sub(r"\byou\s+was\b", "you were", out, flags=re.IGNORECASE)
    out = re.sub(r"\byou\s+(has|does|doesn['’]t)\b",
                 lambda m: "you " + {"has": "have", "does": "do"}.get(m.group(1).lower(), "don't"), out,
                 flags=re.IGNORECASE)
    return out


def _match_case(src: str, repl: str) -> str:
    """Keep a capital for "My" -> "Your"; "I" is always capitalized, so its forms are not."""
    if src[:1].isupper() and not src.lower().startswith("i"):
        return repl[0].upper() + repl[1:]
    return repl


def key_phrase(text: str, max_words: int = MAX_WORDS) -> str:
    """The most informative part of ``text`` in the speaker's own words (first person kept).

    Candidates are the sentences short enough to quote whole (at most ``max_words`` words) and
    the clauses of longer ones; the candidate with the most content words wins, the earlier
    one on a tie. Returns an empty string when the text has no content words.
    """
    best, best_score = "", 0
    for sentence in sentences(text):
        whole = clean(sentence.strip(" ,.;:!-–—\"'"))
        parts = [whole] if len(whole.split()) <= max_words else [clean(c) for c in clauses(sentence)]
        for c in parts:
            score = len(content_words(c))
            if score > best_score:
                best, best_score = c, score
    return shorten(best, max_words) if best else ""


def paraphrase(text: str, max_words: int = MAX_WORDS) -> str:
    """The key phrase of ``text`` turned to the second person, lower-cased at the start."""
    phrase = _as_statement(key_phrase(text, max_words))
    phrase = second_person(phrase)
    return _lower_first(phrase)


def _as_statement(phrase: str) -> str:
    """Questions become statements: "how do I delegate" -> "how to delegate" ..."""
    q = phrase.rstrip("?").strip()
    m = re.match(r"^(how|what|when|where|who|which|why)\s+(?:do|can|should|could|would|might)\s+i\s+(.*)$", q, re.IGNORECASE)
    if m:
        return f"you want to know {m.group(1).lower()} to {m.group(2)}" if m.group(1).lower() != "why" \
            else f"you are wondering why you {m.group(2)}"
    m = re.match(r"^(?:should|could|can|do)\s+i\s+(.*)$", q, re.IGNORECASE)
    if m:
        return f"you are weighing whether to {m.group(1)}"
    return q


def options_from(text: str, max_options: int = 3) -> list[str]:
    """The alternatives the leader listed (each in the second person, without "I could")."""
    parts = re.split(r"\s*(?:;|\n|,?\s+or\s+(?:else\s+)?|,\s*(?:and\s+)?(?=(?:i\s+could|maybe|perhaps|or|ask|talk|try|tell|"
                     r"give|set|hand|split|meet|write|share|agree|invite|stop|start)\b)|\.\s+)\s*", text.strip(),
                     flags=re.IGNORECASE)
    out = []
    for p in parts:
        p = clean(p)
        p = re.sub(r"^(?:i\s+could|i\s+can|i\s+might|i\s+would|maybe|perhaps|or|also|option\s*\d*:?)\s+", "", p, flags=re.IGNORECASE)
        p = re.sub(r"^(?:i\s+could|i\s+can|i\s+might|maybe|perhaps)\s+", "", p, flags=re.IGNORECASE)
        if len(content_words(p)) >= 1 and len(words(p)) >= 2:
            out.append(_lower_first(second_person(shorten(p.strip(" .,"), 12))))
        if len(out) == max_options:
            break
    return out


def action_from(text: str, max_words: int = 20) -> str:
    """The concrete step in the leader's words, as an imperative: "I'll ask Sam ..." -> "Ask Sam ...".

    Prefers a clause with a first-person intention; otherwise the key phrase. Returns an empty
    string when nothing usable is found.
    """
    candidates = []
    for c in clauses(text):
        c = clean(c)
        m = _INTENT.search(c)
        if m:
            candidates.append(c[m.end():])
    if not candidates:
        candidates = [key_phrase(text, max_words)]
    best = max(candidates, key=lambda c: len(content_words(c)), default="")
    best = re.sub(r"^(?:to|and|then)\s+", "", best.strip(" ,.;:!"), flags=re.IGNORECASE)
    best = shorten(best, max_words)
    if not content_words(best):
        return ""
    return best[:1].upper() + best[1:]


def _lower_first(text: str) -> str:
    if not text:
        return text
    first = text.split()[0]
    if first.isupper() and len(first) > 1:  # an acronym
        return text
    if first[:1].isupper() and first.lower() in ("you", "you're", "you've", "you'll", "you'd", "your", "how", "what",
                                                  "when", "why", "who", "which", "the", "a", "an", "my", "our", "it",
                                                  "there", "they", "we", "she", "he", "this", "that", "everyone",
                                                  "nobody", "someone", "people", "team", "getting", "being",
                                                  "they're", "they've", "they'd", "they'll", "it's", "there's",
                                                  "every", "each", "two", "one", "some", "since", "after"):
        return text[0].lower() + text[1:]
    return text
