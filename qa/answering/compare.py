"""A claim's values compared with a sentence's: figures with the comparison the claim
makes of them ("more than 20 people", "under $115 million", "nearly half", "at least
3"), years, negation ("did not") and relations read the wrong way round ("the older
brother" against "the younger brother").

Each comparison is a feature for the claim verifier's stacker (`qa.answering.verifier`),
beside the reading model's logits: the model reads paraphrase, these read values, which
a model of this size reads poorly ("24 deaths" does not look like "more than 23").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..reading.text import terms

_SCALE = {
    "thousand": 1e3,
    "million": 1e6,
    "m": 1e6,
    "mn": 1e6,
    "billion": 1e9,
    "bn": 1e9,
    "b": 1e9,
    "trillion": 1e12,
}
_NUMBER = re.compile(
    r"(?<![\w.,])(?<![A-Za-z]-)(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?![\d,]*\d)"
    # "$5m" is five million, "1.80 m" a height: a one-letter scale follows the digits.
    r"(?:\s*(%|percent\b|per cent\b|thousand\b|million\b|mn\b|billion\b|bn\b|trillion\b)|"
    r"(m|b)\b)?",
    re.I,
)
_WORDS = {
    w: float(n)
    for n, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve".split()
    )
}
_WORD_NUMBER = re.compile(rf"\b({'|'.join(_WORDS)})\b", re.I)
# The comparison a figure is stated with, by the words just before it.
_OPS = [
    (re.compile(r"\b(?:at least|no less than|no fewer than|a minimum of)\s+\W?$", re.I), ">="),
    (
        re.compile(
            r"\b(?:more than|over|above|exceed(?:s|ed|ing)?|in excess of|upwards of|greater than|"
            r"higher than|beyond|surpass(?:es|ed|ing)?|top(?:s|ped|ping))\s+\W?$",
            re.I,
        ),
        ">",
    ),
    (re.compile(r"\b(?:at most|no more than|up to|a maximum of)\s+\W?$", re.I), "<="),
    (
        re.compile(
            r"\b(?:less than|under|below|fewer than|lower than|nearly|almost|just under|"
            r"short of)\s+\W?$",
            re.I,
        ),
        "<",
    ),
    (
        re.compile(
            r"\b(?:about|around|approximately|roughly|some|close to|circa|an estimated|"
            r"estimated)\s+\W?$",
            re.I,
        ),
        "~",
    ),
]
# Of a year: a month and day may stand between ("before May 20, 2016").
_YEAR_OPS = [
    (re.compile(r"\b(?:before|prior to|earlier than|until)\s+(?:[\w,]+\s+){0,3}$", re.I), "<"),
    (re.compile(r"\b(?:after|later than)\s+(?:[\w,]+\s+){0,3}$", re.I), ">"),
    (re.compile(r"\b(?:since)\s+(?:[\w,]+\s+){0,3}$", re.I), ">="),
]
_NEGATION = re.compile(
    r"\b(?:not|no|never|none|neither|nor|without|cannot|n't|failed to|refused to|denied)\b|n't\b",
    re.I,
)
# Words whose opposite, in the sentence in place of the claim's, reverses a relation.
_OPPOSITES = [
    ("older", "younger"),
    ("elder", "younger"),
    ("oldest", "youngest"),
    ("larger", "smaller"),
    ("largest", "smallest"),
    ("bigger", "smaller"),
    ("biggest", "smallest"),
    ("higher", "lower"),
    ("highest", "lowest"),
    ("more", "less"),
    ("more", "fewer"),
    ("most", "least"),
    ("increase", "decrease"),
    ("increased", "decreased"),
    ("rise", "fall"),
    ("rose", "fell"),
    ("before", "after"),
    ("earlier", "later"),
    ("first", "last"),
    ("won", "lost"),
    ("win", "lose"),
    ("wins", "losses"),
    ("above", "below"),
    ("north", "south"),
    ("east", "west"),
    ("northern", "southern"),
    ("eastern", "western"),
    ("male", "female"),
    ("men", "women"),
    ("maximum", "minimum"),
    ("majority", "minority"),
    ("positive", "negative"),
    ("best", "worst"),
    ("better", "worse"),
    ("longer", "shorter"),
    ("longest", "shortest"),
    ("heavier", "lighter"),
    ("faster", "slower"),
    ("richer", "poorer"),
    ("gained", "lost"),
    ("success", "failure"),
    ("successful", "unsuccessful"),
]
_OPPOSITE: dict[str, set[str]] = {}
for _a, _b in _OPPOSITES:
    _OPPOSITE.setdefault(_a, set()).add(_b)
    _OPPOSITE.setdefault(_b, set()).add(_a)
# For the claim checker's reversals only (`reversal`), beside _OPPOSITES (which the
# verifier's stacker was fitted with): actions undone and units of one scale, where the
# one word in place of the other turns the claim ("lifted visa requirements" against
# "imposed visa requirements", "in the next few months" against "weeks").
_UNDONE = [
    ("open", "close"),
    ("opened", "closed"),
    ("opens", "closes"),
    ("lift", "impose"),
    ("lifted", "imposed"),
    ("lifts", "imposes"),
    ("approve", "reject"),
    ("approved", "rejected"),
    ("accept", "reject"),
    ("accepted", "rejected"),
    ("allow", "ban"),
    ("allowed", "banned"),
    ("allowed", "barred"),
    ("raise", "cut"),
    ("raised", "cut"),
    ("increase", "reduce"),
    ("increased", "reduced"),
    ("start", "end"),
    ("started", "ended"),
    ("began", "ended"),
    ("join", "leave"),
    ("joined", "left"),
    ("signed", "rejected"),
    ("attended", "skipped"),
    ("attended", "missed"),
    ("guilty", "innocent"),
    ("acquitted", "convicted"),
    ("alive", "dead"),
    ("legal", "illegal"),
    ("public", "private"),
    ("domestic", "foreign"),
    ("support", "oppose"),
    ("supported", "opposed"),
    ("supports", "opposes"),
]
_UNITS = [
    ("seconds", "minutes", "hours", "days", "weeks", "months", "years", "decades"),
    ("second", "minute", "hour", "day", "week", "month", "year", "decade"),
]
_REVERSE: dict[str, set[str]] = {k: set(v) for k, v in _OPPOSITE.items()}
for _a, _b in _UNDONE:
    _REVERSE.setdefault(_a, set()).add(_b)
    _REVERSE.setdefault(_b, set()).add(_a)
for _scale in _UNITS:
    for _u in _scale:
        _REVERSE.setdefault(_u, set()).update(set(_scale) - {_u})
_STOP = {"the", "a", "an", "of", "in", "on", "and", "to", "is", "was", "be", "for", "by", "as"}

NAMES = (
    "claim_has_figure",
    "figures_equal",
    "figure_differs",
    "comparison_holds",
    "comparison_fails",
    "figure_missing",
    "years_equal",
    "year_differs",
    "negation_claim",
    "negation_sentence",
    "negation_differs",
    "opposite",
    "cover",
    "names_cover",
)


@dataclass(frozen=True)
class Figure:
    value: float
    percent: bool
    year: bool  # a bare four-digit number from 1000 to 2100
    op: str  # "=", ">", ">=", "<", "<=", "~"
    at: int = field(default=-1, compare=False)  # where the text states it
    end: int = field(default=-1, compare=False)  # where its digits (and scale word) end


def figures(text: str) -> list[Figure]:
    """The figures a text states, scale words applied ("$6.5 million" = 6,500,000),
    each with the comparison the words before it make."""
    out: list[Figure] = []
    spans: list[tuple[int, int]] = []
    for m in _NUMBER.finditer(text):
        digits = m.group(1).replace(",", "")
        value = float(digits + (m.group(2) or ""))
        unit = (m.group(3) or m.group(4) or "").lower()
        percent = unit in ("%", "percent", "per cent")
        value *= _SCALE.get(unit, 1.0)
        year = not unit and m.group(1) == digits and len(digits) == 4 and 1000 <= value <= 2100
        out.append(Figure(value, percent, year, op_before(text[: m.start()]), m.start(), m.end()))
        spans.append((m.start(), m.end()))
    for m in _WORD_NUMBER.finditer(text):
        if not any(s <= m.start() < e for s, e in spans):
            out.append(
                Figure(_WORDS[m.group(1).lower()], False, False, op_before(text[: m.start()]))
            )
    return out


def op_before(before: str, year: bool = False) -> str:
    """The comparison the words just before a figure make of it ("more than" is ">");
    of a year, "before" and "after" too ("released before 2018")."""
    return op_words(before, year)[0]


def op_words(before: str, year: bool = False) -> tuple[str, int]:
    """The comparison and where its words start in `before` (its length for "=")."""
    start = max(len(before) - 30, 0)
    for pattern, op in _YEAR_OPS if year else _OPS:
        m = pattern.search(before[start:])
        if m:
            return op, start + m.start()
    return "=", len(before)


def _holds(op: str, stated: float, claimed: float) -> bool:
    """Whether a stated value satisfies the claim's comparison with its value."""
    if op == ">":
        return stated > claimed
    if op == ">=":
        return stated >= claimed
    if op == "<":
        return stated < claimed
    if op == "<=":
        return stated <= claimed
    if op == "~":
        return abs(stated - claimed) <= 0.1 * max(abs(claimed), 1.0)
    return abs(stated - claimed) <= 1e-6 * max(abs(claimed), 1.0)


def bound_holds(claimed: Figure, stated: Figure) -> bool:
    """Whether the stated figure (itself exact, or a bound) satisfies the claim's bound:
    "more than 23" by "24", or by "more than 24"."""
    if stated.op in ("=", "~"):
        return _holds(claimed.op, stated.value, claimed.value)
    if claimed.op in (">", ">=") and stated.op in (">", ">="):
        return stated.value >= claimed.value
    if claimed.op in ("<", "<=") and stated.op in ("<", "<="):
        return stated.value <= claimed.value
    return False


def bound_fails(claimed: Figure, stated: Figure) -> bool:
    """Whether the stated figure rules the claim's bound out: "under 23.5 million" by
    "24 million" or "more than 24 million"."""
    if stated.op in ("=", "~"):
        return not _holds(claimed.op, stated.value, claimed.value)
    if claimed.op in ("<", "<=") and stated.op in (">", ">="):
        return stated.value >= claimed.value
    if claimed.op in (">", ">=") and stated.op in ("<", "<="):
        return stated.value <= claimed.value
    return False


def comparable(a: Figure, b: Figure) -> bool:
    """Figures of one kind and of like size (a count is not a percentage or a year)."""
    if a.percent != b.percent or a.year != b.year:
        return False
    if a.year:
        return True
    lo, hi = sorted((abs(a.value), abs(b.value)))
    return hi == 0 or (lo > 0 and hi / lo <= 20)


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]+", text.lower()) if w not in _STOP}


_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DAY_AFTER_MONTH = re.compile(rf"\b{_MONTH}\s+$", re.I)
_MONTH_AFTER_DAY = re.compile(rf"^(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}\b", re.I)


def is_day(text: str, figure: Figure) -> bool:
    """Whether the figure is the day of a date ("22 April", "March 21st", "the 3rd of
    May"): a date's day is no count to compare."""
    if figure.end < 0 or figure.value > 31 or figure.percent:
        return False
    return bool(
        _MONTH_AFTER_DAY.match(text[figure.end : figure.end + 16])
        or _DAY_AFTER_MONTH.search(text[max(figure.at - 12, 0) : figure.at])
    )


def ratio(a: float, b: float) -> float:
    """How far apart two values are, as a ratio: 1 when equal, infinite when one is 0."""
    lo, hi = sorted((abs(a), abs(b)))
    return float("inf") if lo == 0 else hi / lo


def nearest(claimed: Figure, like: list[Figure]) -> Figure:
    """The stated figure a claim's figure is about, of those of like kind: the nearest
    in value, as a ratio ("more than 60 recoveries" against "858 cases, 57 recoveries
    and 48 deaths" is about 57; a claim's figure is most often the stated one, a little
    off or bounded)."""
    return min(like, key=lambda f: ratio(claimed.value, f.value))


@dataclass(frozen=True)
class Reversal:
    """How a sentence reverses a claim: the claim's word, and the sentence's in its place
    ("" where the sentence simply lacks the claim's negation); `also`: the claim's other
    words the sentence turns the same way ("rose to the highest" for "fell to the
    lowest")."""

    word: str
    instead: str
    also: tuple[tuple[str, str], ...] = ()

    @property
    def how(self) -> str:
        if self.instead:
            return "; ".join(f"{b}, not {a}" for a, b in ((self.word, self.instead), *self.also))
        return f"the claim says {self.word!r}, the passage does not"

    def applied(self, claim: str) -> str:
        """The claim as the sentence would have it."""
        for word, instead in ((self.word, self.instead), *self.also):
            claim = re.sub(rf"\b{re.escape(word)}\b", instead, claim, flags=re.I)
        return claim


def reversal(claim: str, sentence: str) -> Reversal | None:
    """How a sentence reverses the claim, or None: a word of the claim whose opposite the
    sentence has instead ("the younger brother" for "the older brother"), or a negated
    claim against a sentence with no negation ("approved" for "did not approve"). A
    negated sentence against a plain claim is not taken as one: "no one was hurt" says
    nothing against "the bridge opened"."""
    cw, sw = _words(claim), _words(sentence)
    swaps = []
    for w in sorted(cw - sw):
        other = sorted(_REVERSE.get(w, set()) & (sw - cw))
        if other:
            swaps.append((w, other[0]))
    if swaps:
        return Reversal(*swaps[0], also=tuple(swaps[1:]))
    negated = _NEGATION.search(claim)
    if negated and not _NEGATION.search(sentence):
        return Reversal(negated.group(0), "")
    return None


def features(claim: str, sentence: str) -> list[float]:
    """The comparisons, in the order of NAMES: each 0 or 1 but the two covers (shares)."""
    claimed = figures(claim)
    c_figs = [f for f in claimed if not f.year and not is_day(claim, f)]
    s_figs = [f for f in figures(sentence) if not is_day(sentence, f)]
    equal = differs = holds = fails = missing = 0
    for f in c_figs:
        like = [s for s in s_figs if comparable(f, s)]
        if not like:
            missing = 1
            continue
        if f.op == "=":
            if any(_holds("=", s.value, f.value) for s in like):
                equal += 1
            else:
                differs = 1
        else:
            # judged by the figure it is about, not by any ("more than 60 recoveries"
            # is not held by "858 cases")
            stated = nearest(f, like)
            holds |= bound_holds(f, stated)
            fails |= bound_fails(f, stated)
    # A year bounded ("after 2015", "before 2018") is a bound on the nearest stated year.
    s_years = {f.value for f in s_figs if f.year}
    c_years: set[float] = set()
    for f in (f for f in claimed if f.year):
        op = op_before(claim[: f.at], year=True)
        if op == "=":
            c_years.add(f.value)
        elif s_years:
            year = min(s_years, key=lambda y: abs(y - f.value))
            holds |= _holds(op, year, f.value)
            fails |= not _holds(op, year, f.value)
    years_equal = float(bool(c_years) and c_years <= s_years)
    year_differs = float(bool(c_years - s_years) and bool(s_years))
    neg_c = bool(_NEGATION.search(claim))
    neg_s = bool(_NEGATION.search(sentence))
    cw, sw = _words(claim), _words(sentence)
    opposite = float(any(w not in sw and _OPPOSITE.get(w, set()) & (sw - cw) for w in cw))
    c_terms, s_terms = set(terms(claim)), set(terms(sentence))
    cover = len(c_terms & s_terms) / max(len(c_terms), 1)
    caps = {w.lower() for w in re.findall(r"(?<!^)\b[A-Z][\w'-]+", claim)}
    names_cover = len({w for w in caps if w in sentence.lower()}) / len(caps) if caps else 1.0
    return [
        float(bool(c_figs)),
        equal / len(c_figs) if c_figs else 0.0,
        float(differs),
        float(holds),
        float(fails),
        float(missing),
        years_equal,
        year_differs,
        float(neg_c),
        float(neg_s),
        float(neg_c != neg_s),
        opposite,
        cover,
        names_cover,
    ]
