"""What kind of thing a question asks for, and the spans of a sentence that are that kind
of thing (an amount, a number, a date, a name) without being words of the question."""

from __future__ import annotations

import re
from dataclasses import dataclass

QTYPES = ("money", "number", "date", "person", "place", "org", "name", "other")
FACTOID = {"money", "number", "date", "person", "place", "org", "name"}

_PERSON_NOUNS = (
    r"official|person|people|man|woman|secretary|minister|president|leader|spokes\w+|officer|"
    r"head|chief|director|author|writer|player|coach|king|queen|emperor|scientist|founder|"
    r"general|ceo|chairman|chairwoman|manager|mayor|governor|senator|judge|composer|artist|"
    r"actor|singer|architect|inventor|pope|bishop|member|student|professor|son|daughter|wife|"
    r"husband|father|mother|brother|sister"
)
_PLACE_NOUNS = (
    r"city|country|state|place|region|town|village|nation|continent|island|river|province|"
    r"county|area|location|district|capital|port|street|building|stadium|venue|mountain|"
    r"lake|sea|ocean|border|territory"
)
_ORG_NOUNS = (
    r"company|organi[sz]ation|team|party|group|agency|university|college|school|ministry|"
    r"department|institution|firm|club|network|bank|government|army|church|league|band|"
    r"newspaper|court|council|body|committee|union|corporation|airline|channel|station"
)
_UNIT_NOUNS = r"percent(age)?|proportion|rate|number|amount|total|population|score|age|size"


_MONEY_Q = re.compile(
    r"\b(what|which) (was |is )?(the )?(amount|sum|price|cost|fee|budget|salary|revenue|"
    r"value|reward|fine)\b|\bhow much (money|funding|aid)\b|"
    r"\bhow much\b.*\b(cost|pay|paid|worth|spend|spent|grant|fund|give|gave|given|earn|"
    r"raise|charge|price|budget|invest|donat)"
)
_NUMBER_Q = re.compile(
    r"\bhow (many|much|long|old|far|big|large|tall|high|deep|wide|often|fast)\b|"
    rf"\bwhat (is |was )?(the )?({_UNIT_NOUNS})\b"
)


def question_type(question: str) -> str:
    """One of QTYPES."""
    q = " ".join(question.lower().split())
    if _MONEY_Q.search(q):
        return "money"
    if _NUMBER_Q.search(q):
        return "number"
    if re.search(
        r"\bwhen\b|\b(what|which) (year|day|date|month|century|decade|time|period|era|season)\b|"
        r"\bin what (year|month|century|decade)\b|\bwhat years?\b",
        q,
    ):
        return "date"
    if re.search(r"^\s*(who|whom|whose)\b|\b(by|to|for|with) whom\b|\bwho\b", q) or re.search(
        rf"\b(which|what)\b[\w\s'’-]{{0,30}}\b({_PERSON_NOUNS})s?\b", q
    ):
        return "person"
    if re.search(r"\bwhere\b", q) or re.search(
        rf"\b(which|what|in what|in which)\b[\w\s'’-]{{0,30}}\b({_PLACE_NOUNS})s?\b", q
    ):
        return "place"
    if re.search(rf"\b(which|what)\b[\w\s'’-]{{0,30}}\b({_ORG_NOUNS})s?\b", q):
        return "org"
    if re.search(r"\bwhat (is|was|are|were) (the )?name\b|\bcalled\b|\bnamed\b|\bknown as\b", q):
        return "name"
    return "other"


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    text: str
    kind: str


_SCALE = r"(?:\s?(?:million|billion|trillion|thousand|hundred|m|bn|k)\b)?"
_MONEY = re.compile(
    rf"(?:US\$|[$€£¥]|USD ?|EUR ?)\s?\d[\d,.]*\d{_SCALE}|(?:US\$|[$€£¥])\s?\d{_SCALE}|"
    rf"\b\d(?:[\d,.]*\d)?{_SCALE}\s?(?:dollars|euros|pounds|yen|yuan|rupees|francs|marks|"
    r"pesos|lire|rubles|roubles|cents|pence)\b",
    re.I,
)
_NUMBER_WORDS = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    r"fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|"
    r"eighty|ninety|hundred|thousand|million|billion|dozen|dozens|half|hundreds|thousands|"
    r"millions|once|twice|first|second|third|fourth|fifth"
)
_NUMBER = re.compile(
    r"\b\d[\d,.]*\s?(?:–|-|to)\s?\d(?:[\d,.]*\d)?(?:\s?(?:%|percent|per cent))?|"
    rf"\b\d(?:[\d,.]*\d)?(?:\s?(?:%|percent|per cent))?{_SCALE}(?:\s?(?:%|percent|per cent))?|"
    rf"\b(?:{_NUMBER_WORDS})(?:[\s-]+(?:{_NUMBER_WORDS}|and))*\b",
    re.I,
)
_MONTHS = (
    r"January|February|March|April|May|June|July|August|September|October|November|December|"
    r"Jan\.|Feb\.|Mar\.|Apr\.|Jun\.|Jul\.|Aug\.|Sept?\.|Oct\.|Nov\.|Dec\."
)
_DATE = re.compile(
    rf"(?<![\d,.$€£])\b(?:(?:{_MONTHS})\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{3,4}})?|"
    rf"\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTHS})(?:,?\s+\d{{3,4}})?|"
    rf"(?:(?:early|mid|late)[\s-])?(?:{_MONTHS})(?:\s+(?:of\s+)?\d{{3,4}})?|"
    r"(?:(?:the\s+)?(?:early|mid|late)[\s-])?\d{1,2}(?:st|nd|rd|th)\s+century|"
    r"(?:(?:early|mid|late)[\s-])?\d{3,4}s?(?:\s?(?:BC|BCE|AD|CE))?|"
    r"Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|yesterday|today|tomorrow|"
    r"(?:last|next|this)\s+(?:week|month|year|spring|summer|autumn|fall|winter)|"
    r"\d+\s+(?:days|weeks|months|years|decades|centuries)\s+(?:ago|later|earlier|before|after))\b(?![.,]?\d)"
)
# Proper-noun runs: capitalised words, allowing a few lower-case joiners inside.
_NAME = re.compile(
    r"\b[A-Z][\w'’.&-]*(?:\s+(?:(?:of|the|de|del|la|le|von|van|der|da|di|du|for|al|bin)\s+)*"
    r"[A-Z][\w'’.&-]*)*"
)
_PATTERNS = {"money": [_MONEY], "number": [_MONEY, _NUMBER], "date": [_DATE]}
_NAME_TYPES = {"person", "place", "org", "name"}


def _strip_name(text: str, start: int) -> tuple[str, int]:
    """A name run without a leading article or trailing punctuation."""
    m = re.match(r"(?:The|A|An)\s+", text)
    if m:
        text, start = text[m.end() :], start + m.end()
    text = text.rstrip(".’'-&")
    return text, start


def typed_spans(sentence: str, qtype: str, question_words: set[str]) -> list[Span]:
    """Spans of `sentence` of the asked kind, leaving out those made only of the
    question's own words."""
    found: list[Span] = []
    if qtype in _PATTERNS:
        for pattern in _PATTERNS[qtype]:
            for m in pattern.finditer(sentence):
                found.append(Span(m.start(), m.end(), m.group(0).strip(), qtype))
    elif qtype in _NAME_TYPES:
        for m in _NAME.finditer(sentence):
            text, start = _strip_name(m.group(0), m.start())
            if not text:
                continue
            if start == 0 and " " not in text:
                continue  # a lone sentence-initial word is capitalised anyway
            found.append(Span(start, start + len(text), text, qtype))
    out: list[Span] = []
    seen: set[tuple[int, int]] = set()
    for s in sorted(found, key=lambda s: (s.start, -(s.end - s.start))):
        if any(a <= s.start and s.end <= b for a, b in seen):
            continue  # inside a longer span already taken
        words = set(re.findall(r"\w+", s.text.lower()))
        if not words or words <= question_words:
            continue
        seen.add((s.start, s.end))
        out.append(s)
    return out
