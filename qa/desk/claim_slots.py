"""The parts of a claim that can be compared with what the articles state: its figures,
dates and names ("slots", found with `qa.answering.qtype`'s span patterns), the question that asks
for each ("The US gave Panama how much for deportation flights?"), and whether two spans
state the same value ("$8 million" is $8,000,000; "Mayorkas" is "Alejandro Mayorkas";
"Ministry of Health" is not "Ministry of Security")."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ..answering import compare, grounding
from ..answering.extractive import Pick
from ..answering.qtype import Span, typed_spans
from ..reading.dates import MONTHS, WEEKDAYS
from ..reading.speakers import near
from ..reading.text import terms

# A name stands in the slot's place when it is on the same side as the slot of this
# share of the words the claim and the sentence share.
SAME_SIDE = 0.6

_WH = {"money": "how much", "number": "how many", "date": "when", "name": "who"}
# Words before a slot that the question drops: "on Monday" -> "when", "more than 20,000
# people" -> "how many people".
_LEAD = {
    "date": re.compile(r"\b(?:on|in|at|during|since|by|until|from)\s+(?:the\s+)?$", re.I),
    "number": re.compile(
        r"\b(?:more than|over|about|nearly|almost|some|around|at least|up to|fewer than|"
        r"less than|roughly|approximately)\s+$",
        re.I,
    ),
}
_LEAD["money"] = _LEAD["number"]
ALIASES = {
    "us": "united states",
    "u.s": "united states",
    "u.s.": "united states",
    "usa": "united states",
    "america": "united states",
    "uk": "united kingdom",
    "u.k.": "united kingdom",
}
_WORD_NUMBERS = {
    w: float(n)
    for n, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen "
        "fourteen fifteen sixteen seventeen eighteen nineteen".split()
    )
}
_WORD_NUMBERS.update(
    {
        w: 10.0 * n
        for n, w in enumerate(
            "twenty thirty forty fifty sixty seventy eighty ninety".split(), start=2
        )
    }
)
_WORD_NUMBERS.update({"half": 0.5, "a": 1.0, "an": 1.0, "dozen": 12.0})
_WORD_SCALE = {"hundred": 1e2, "thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
_WORD_AMOUNT = re.compile(
    rf"\b({'|'.join(_WORD_NUMBERS)})(?:\s+a)?(?:\s+({'|'.join(_WORD_SCALE)}))?\b", re.I
)
DATE_WORD = re.compile(
    r"^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|January|February|March|"
    r"April|May|June|July|August|September|October|November|December)\b"
)


@dataclass
class Slot:
    """A figure, date or name of the claim, and what the articles state in its place."""

    kind: str  # money, number, date or name
    text: str  # as the claim writes it
    question: str  # the claim, asking for it
    status: str = ""  # "supported", "contradicted", or "" (the articles do not say)
    stated: str = ""  # what the answering sentence states instead (or the same)
    pick: Pick | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "text": self.text,
            "question": self.question,
            "status": self.status or "unresolved",
            "stated": self.stated,
        }


# --- values ------------------------------------------------------------------------


def amounts(text: str) -> set[float]:
    """The numbers a text states, digits with scale words ("$6 million" = 6,000,000) and
    number words ("half a million", "nineteen")."""
    out = set(grounding.values(text))
    for m in _WORD_AMOUNT.finditer(text):
        word = m.group(1).lower()
        if word in ("a", "an") and not m.group(2):
            continue
        out.add(_WORD_NUMBERS[word] * _WORD_SCALE.get((m.group(2) or "").lower(), 1.0))
    return out


def _date_parts(text: str) -> dict[str, str]:
    low = text.lower()
    parts: dict[str, str] = {}
    year = re.search(r"\b(1\d{3}|20\d{2})s?\b", low)
    if year:
        parts["year"] = year.group(0)
    for name, words in (("month", MONTHS), ("weekday", WEEKDAYS)):
        for w in words:
            if re.search(rf"\b{w[:3]}", low):
                parts[name] = w
                break
    day = re.search(r"\b(\d{1,2})(?:st|nd|rd|th)?\b(?!\d)", re.sub(r"\b\d{3,4}s?\b", "", low))
    if day and "month" in parts:
        parts["day"] = day.group(1)
    return parts


def name_words(text: str) -> set[str]:
    low = re.sub(r"[’']s\b", "", text.lower())
    for short, full in ALIASES.items():
        low = re.sub(rf"(?<![\w.]){re.escape(short)}(?![\w])", full, low)
    return {w for w in re.findall(r"\w+", low) if len(w) > 2 and w not in ("the", "and", "del")}


def same(kind: str, claimed: str, stated: str) -> bool | None:
    """Whether two spans of a kind state the same value; None when they can't be
    compared (no figure in one of them, no date part in common)."""
    if kind in ("money", "number"):
        a, b = amounts(claimed), amounts(stated)
        if not a or not b:
            return None
        return any(abs(x - y) <= 1e-6 * max(abs(x), 1.0) for x in a for y in b)
    if kind == "date":
        da, db = _date_parts(claimed), _date_parts(stated)
        shared = set(da) & set(db)
        if not shared:
            return None
        return all(da[k] == db[k] for k in shared)
    wa, wb = name_words(claimed), name_words(stated)
    if not wa or not wb:
        return None
    # The same when the shorter name's words are all in the longer ("Mayorkas", "Alejandro
    # Mayorkas"), spelling variants allowed (Jacobstein, Jocobstein); "Ministry of Health
    # of Panama" is not "Ministry of Security of Panama".
    small, large = (wa, wb) if len(wa) <= len(wb) else (wb, wa)
    return all(any(near(w, o) or _singular(w) == _singular(o) for o in large) for w in small)


def _singular(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


YEAR = re.compile(r"\b(1\d{3}|20\d{2})\b")


def _bound_at(claim: str, slot: Slot) -> tuple[compare.Figure, int] | None:
    """The slot's bound (`bound`) and where the words of its comparison start."""
    at = claim.find(slot.text)
    if at < 0 or slot.kind not in ("money", "number", "date"):
        return None
    if slot.kind == "date":
        year = YEAR.search(slot.text)
        if not year:
            return None
        op, start = compare.op_words(claim[:at] + slot.text[: year.start()], year=True)
        figure = compare.Figure(float(year.group(1)), False, True, op)
    else:
        op, start = compare.op_words(claim[:at])
        found = [f for f in stated_figures(slot.text) if not f.year]
        if not found:
            return None
        figure = compare.Figure(found[0].value, found[0].percent, False, op)
    return None if op == "=" else (figure, min(start, at))


def bound(claim: str, slot: Slot) -> compare.Figure | None:
    """The slot's figure where the claim states it as a bound or an estimate ("more than
    $412 million", "under 20", "about 300", "before 2018"); None where it is stated
    exactly."""
    got = _bound_at(claim, slot)
    return None if got is None else got[0]


def stated_figures(text: str) -> list[compare.Figure]:
    """A text's figures, each with the comparison its words make ("more than 20,000"),
    amounts in words too ("half a million")."""
    out = compare.figures(text)
    for m in _WORD_AMOUNT.finditer(text):
        word = m.group(1).lower()
        if (m.group(2) and word not in ("a", "an")) or _WORD_NUMBERS[word] >= 13:
            value = _WORD_NUMBERS[word] * _WORD_SCALE.get((m.group(2) or "").lower(), 1.0)
            out.append(
                compare.Figure(value, False, False, compare.op_before(text[: m.start()]), m.start())
            )
    return out


# Two bounds of one direction, as news writes them, are near their figures: "more than
# 20,000 people" is not "more than 2,000", though it does not rule it out.
NEAR_BOUND = 1.25


def _bound_against(b: compare.Figure, f: compare.Figure) -> bool | None:
    same_way = (b.op in (">", ">=")) == (f.op in (">", ">=")) and f.op not in ("=", "~")
    if same_way and b.op != "~":
        lo, hi = sorted((abs(b.value), abs(f.value)))
        if hi > NEAR_BOUND * lo:
            return False
        # "over 19.4 million" neither holds nor rules out "more than 19.5 million".
        return True if compare.bound_holds(b, f) else None
    if compare.bound_holds(b, f):
        return True
    return False if compare.bound_fails(b, f) else None


def bound_held(b: compare.Figure, text: str, span: str = "") -> bool | None:
    """Whether a text's figures (only those in `span`, where given, with the words before
    it) satisfy the bound, judged by the figure of like kind nearest the bound's: True
    where it holds, False where it rules it out, None where it neither does or the text
    states none of like kind."""
    found = stated_figures(text)
    located = re.search(rf"(?<![\w.,]){re.escape(span)}(?!\w)", text) if span else None
    at = located.start() if located else -1
    if span and at < 0:
        found = stated_figures(span)
    elif span:
        found = [f for f in found if at <= f.at < at + len(span)]
    like = [f for f in found if compare.comparable(b, f)]
    if not like:
        return None
    # The figure the claim compares is the one nearest its own ("less than 470 cases"
    # against "reached 479, 41% (189 cases)" is about 479, not 189).
    return _bound_against(b, compare.nearest(b, like))


def apart(value: float, stated: set[float]) -> float:
    """How far the nearest of the stated values is from a figure, as a ratio (0 when
    equal; infinite when there is none, or one is 0)."""
    return min((compare.ratio(value, v) - 1.0 for v in stated), default=float("inf"))


_SAID = {">": "more than", ">=": "at least", "<": "less than", "<=": "at most", "~": "about"}
_SAID_OF_YEAR = {"<": "before", ">": "after", ">=": "since"}


def as_claimed(claim: str, slot: Slot) -> str:
    """The slot as the claim compares it: "more than 20", "before 2018", or its text."""
    b = bound(claim, slot)
    if b is None:
        return slot.text
    return f"{(_SAID_OF_YEAR if b.year else _SAID)[b.op]} {slot.text}"


def bound_text(claim: str, slot: Slot) -> str:
    """The slot with its comparison's words as the claim writes them ("More than 20")."""
    got = _bound_at(claim, slot)
    if got is None:
        return slot.text
    return claim[got[1] : claim.find(slot.text) + len(slot.text)]


def holds(claim: str, slot: Slot, text: str) -> bool | None:
    """Whether a text states the slot's value: by its bound where the claim gives one
    (`bound`), else the same value (`same`)."""
    b = bound(claim, slot)
    return same(slot.kind, slot.text, text) if b is None else bound_held(b, text)


# --- slots -------------------------------------------------------------------------


def _spans(claim: str, common: Callable[[str], bool]) -> list[Span]:
    """The claim's figures, dates and names, without overlaps (a date wins over the
    number inside it, an amount over its figure)."""
    found: list[Span] = []
    for kind in ("money", "date", "number", "person"):
        for s in figures_in(claim, kind) if kind == "number" else typed_spans(claim, kind, set()):
            if any(s.start < o.end and o.start < s.end for o in found):
                continue
            if kind == "date" and _count_not_year(claim, s):
                continue  # "more than 140 reviews": a count, taken as a number below
            if kind == "number" and (not amounts(s.text) or _in_name(claim, s)):
                continue  # "first", "once": nothing to compare; "COVID-19": a name's
            if kind == "person":
                trimmed = _trimmed(s)
                if trimmed is None or common(trimmed.text) or DATE_WORD.search(trimmed.text):
                    continue
                s = Span(trimmed.start, trimmed.end, trimmed.text, "name")
            found.append(s)
    first = _first_name(claim, common)
    if first and not any(s.start == 0 for s in found):
        found.append(first)
    return sorted(found, key=lambda s: s.start)


def _first_name(text: str, common: Callable[[str], bool]) -> Span | None:
    """A lone first word is a name when the articles never write it in lower case
    (`qa.answering.qtype` leaves it out: any first word has a capital)."""
    first = re.match(r"[A-Z][\w'’-]+", text)
    if not first or first.group(0) in _LEAD_WORDS or common(first.group(0)):
        return None
    if any(s.start == 0 for s in typed_spans(text[:1].lower() + text[1:], "date", set())):
        return None  # "Last month ...", "This year ...": a date, in lower case mid-sentence
    word = re.sub(r"[’']s$", "", first.group(0))
    return Span(0, len(word), word, "name")


def figures_in(text: str, kind: str) -> list[Span]:
    """A sentence's spans of a kind; for figures, amounts in words ("half a million") as
    one span, and no year."""
    if kind not in ("money", "number"):
        return typed_spans(text, kind, set())
    money = typed_spans(text, "money", set())
    if kind == "money":
        return money
    found = [
        Span(m.start(), m.end(), m.group(0), kind)
        for m in _WORD_AMOUNT.finditer(text)
        if m.group(2) and m.group(1).lower() not in ("a", "an")
    ]
    dates = [d for d in typed_spans(text, "date", set()) if not _count_not_year(text, d)]
    for s in typed_spans(text, kind, set()):
        if not any(s.start < o.end and o.start < s.end for o in [*found, *dates, *money]):
            found.append(s)
    return sorted(found, key=lambda s: s.start)


def _count_not_year(text: str, span: Span) -> bool:
    """Whether a bare number the date pattern took for a year is a count: after words
    of comparison ("more than 140 reviews", "over 3000 hospitalizations"), or of three
    digits before a lower-case word ("based on 141 reviews", "455 confirmed cases")."""
    if not re.fullmatch(r"\d{3,4}", span.text):
        return False
    if compare.op_words(text[: span.start])[0] != "=":
        return True
    return len(span.text) == 3 and re.match(r"\s+[a-z]", text[span.end :]) is not None


def _in_name(text: str, span: Span) -> bool:
    """Whether a number is part of a name: joined to a word by a hyphen ("COVID-19",
    "F-16"), opening the text before a capitalised word ("2 Hearts"), or a small
    number after a capitalised word of a title ("Dolphin Tale 2", "Cars 3"), not a
    month's or a lead word's ("In 2009")."""
    before = text[: span.start]
    if re.search(r"[A-Za-z]-$", before):
        return True
    if span.start == 0 and re.match(r" [A-Z]", text[span.end :]):
        return True  # "2 Hearts is a song by ..."
    word = re.search(r"\b([A-Z][\w'’]*)\s$", before)
    return (
        word is not None
        and re.fullmatch(r"\d{1,2}", span.text) is not None
        and word.group(1) not in _LEAD_WORDS
        and not DATE_WORD.match(word.group(1))
        and not re.match(r"\s*(?:%|percent|per cent)", text[span.end :])
    )


# Capitalised at the start of a sentence, not part of the name after them ("After Zohoré
# joined", "In Book Club", "On Saturday").
_LEAD_WORDS = frozenset(
    "After Before During In On At For From With Without When While Since Until Under Over "
    "By As If Although Though Because The A An And But Or Then Meanwhile However Unlike "
    "Like Despite Following Later Earlier There Here It This That These Those".split()
)


def _trimmed(span: Span) -> Span | None:
    first, _, rest = span.text.partition(" ")
    if first not in _LEAD_WORDS:
        return span
    if not rest:
        return None
    start = span.start + len(first) + 1
    return Span(start, span.end, rest, span.kind)


def names_in(text: str, common: Callable[[str], bool]) -> list[Span]:
    found = [_trimmed(s) for s in typed_spans(text, "person", set())]
    spans = [s for s in found if s is not None and not DATE_WORD.search(s.text)]
    first = _first_name(text, common)
    return ([first] if first and not any(s.start == 0 for s in spans) else []) + spans


def _positions(text: str) -> dict[str, int]:
    """Where each (stemmed) word of a text first occurs."""
    out: dict[str, int] = {}
    for m in re.finditer(r"[\w$€£%’'-]+", text):
        for t in terms(m.group(0)):
            out.setdefault(t, m.start())
    return out


def same_place(claim: str, slot: str, sentence: str, span: str) -> bool:
    """Whether a name of the sentence stands where the slot stands in the claim: on the
    same side of most of the words they share ("Ecuador imposed visas" against "Colombia
    imposed visas"; not the place after them in "who offered ... in the Darien jungle")."""
    at_c, at_s = claim.find(slot), sentence.find(span)
    pc = {t: p for t, p in _positions(claim).items() if not at_c <= p < at_c + len(slot)}
    ps = {t: p for t, p in _positions(sentence).items() if not at_s <= p < at_s + len(span)}
    shared = set(pc) & set(ps)
    if at_c < 0 or at_s < 0 or not shared:
        return False
    agree = sum(1 for t in shared if (pc[t] < at_c) == (ps[t] < at_s))
    return agree / len(shared) >= SAME_SIDE


def swapped_roles(claim: str, names: list[str], text: str) -> bool:
    """Whether a text names two of the claim's names the other way round about a word
    between them ("Panamanian officials will train U.S. authorities" against "U.S.
    officials will train Panamanian authorities"). Not when either side says "by" between
    them (a passive states the same roles in the other order)."""

    def where(name: str, within: str) -> int:
        found = re.search(rf"(?<!\w){re.escape(name)}(?!\w)", within, re.I)
        return found.start() if found else -1

    at = [(where(n, claim), where(n, text), n) for n in names]
    placed = sorted((c, t, n) for c, t, n in at if c >= 0 and t >= 0)
    for i, (c1, t1, n1) in enumerate(placed):
        for c2, t2, n2 in placed[i + 1 :]:
            if t2 >= t1 or same("name", n1, n2):
                continue
            between_c = claim[c1 + len(n1) : c2]
            between_t = text[t2 + len(n2) : t1]
            if re.search(r"\bby\b", between_c + " " + between_t, re.I):
                continue
            if set(terms(between_c)) & set(terms(between_t)):
                return True
    return False


def relation_held(claim: str, slot: str, sentence: str) -> bool:
    """Whether the sentence holds the word that ties a name slot to the rest of the claim:
    the nearest word in lower case each side of it, either of them ("based" or "region" of
    "is based in Colombia's Antioquia region"). A sentence that puts another name in
    another relation ("which operates in the Darien jungle") does not contradict it."""
    at = claim.find(slot)
    if at < 0:
        return True

    def lower_terms(text: str) -> list[str]:
        return [t for w in re.findall(r"[\w'’-]+", text) if w[:1].islower() for t in terms(w)]

    near = set(lower_terms(claim[:at])[-1:] + lower_terms(claim[at + len(slot) :])[:1])
    return not near or bool(near & set(terms(sentence)))


def _question(claim: str, span: Span) -> str:
    head = claim[: span.start]
    lead = _LEAD.get(span.kind)
    if lead:
        head = lead.sub("", head)
    head = re.sub(r"\b(an?|the)\s+$", "", head, flags=re.I)
    tail = claim[span.end :].rstrip(" .!")
    text = f"{head}{_WH[span.kind]}{tail}?"
    return text[:1].upper() + text[1:]


def slots(claim: str, common: Callable[[str], bool]) -> list[Slot]:
    """The claim's comparable slots, each with the question that asks for it.
    `common(word)`: whether a capitalised word is an ordinary word (not a name)."""
    return [Slot(s.kind, s.text, _question(claim, s)) for s in _spans(claim, common)]


def counted_unit(tail: str) -> str:
    """The word a figure counts ("19 other countries": "other countries"), stemmed."""
    return " ".join(terms(" ".join(tail.split()[:2])))


def without(claim: str, texts: list[str]) -> str:
    for t in texts:
        claim = claim.replace(t, " ")
    return " ".join(claim.split())
