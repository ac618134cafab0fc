"""The short answer: the span of the quoted sentence that is the asked fact (an amount,
a number, a date, a name), copied verbatim, chosen by a small learned model.

Candidates are the sentence's spans of the asked kind that the question does not
already say (`qa.answering.qtype.typed_spans`); each is described by where it sits against the
question's words in the sentence, and a logistic model fitted by `qa.answering.training` on SQuAD
gold sentences picks one, or none when no candidate is likely enough.
"""

from __future__ import annotations

import re

import numpy as np

from ..reading.text import terms
from .qtype import FACTOID, QTYPES, Span, question_type, typed_spans

SPAN_FEATURES = (
    [f"q_{t}" for t in QTYPES if t in FACTOID]
    + ["near", "before", "after", "gap_words", "words", "only", "first", "last", "count"]
    + ["in_parens", "after_prep", "has_digit", "q_overlap", "position"]
)
_PREP = re.compile(
    r"\b(in|on|at|by|from|of|to|for|since|until|during|as|was|is|were|are)\s*$", re.I
)


# "How long ...?" asks for a measure: the unit the sentence gives the number is part of
# the answer ("two" -> "two weeks"). Not "How old" ("Maria Lopez, 41, said").
_MEASURE_Q = re.compile(r"\bhow (long|far|tall|high|deep|wide|fast|heavy|big|large)\b", re.I)
_UNITS = (
    r"seconds?|minutes?|hours?|days?|nights?|weeks?|months?|years?|decades?|century|"
    r"centuries|laps?|miles?|kilomet(?:re|er)s?|km|met(?:re|er)s?|feet|foot|ft|inch(?:es)?|"
    r"yards?|acres?|hectares?|square\s+(?:miles?|kilomet(?:re|er)s?|met(?:re|er)s?|feet)|"
    r"mph|km/h|knots?|kilograms?|kg|tonnes?|tons?|storeys|stories|floors"
)
_UNIT_AFTER = re.compile(rf"[\s-]?(?:{_UNITS})\b", re.I)


def with_unit(question: str, sentence: str, short: str) -> str:
    """A short answer to "How long / far / tall ...?" with the unit that follows it in
    the sentence ("two" -> "two weeks", "40" -> "40-minute"); else as it was."""
    if not short or not _MEASURE_Q.search(question):
        return short
    for found in re.finditer(rf"(?<![\w.,]){re.escape(short)}(?!\w|[.,]\d)", sentence):
        unit = _UNIT_AFTER.match(sentence, found.end())
        if unit:
            return sentence[found.start() : unit.end()]
    return short


def _anchors(sentence: str, question: str) -> list[int]:
    """Character offsets of the sentence's words that are question words (stemmed)."""
    q = set(terms(question))
    return [m.start() for m in re.finditer(r"[\w$€£%’'-]+", sentence) if set(terms(m.group(0))) & q]


def _words_between(sentence: str, start: int, distance: int | None) -> float:
    """Words between the nearest question word before a span and the span, scaled."""
    if distance is None:
        return 1.0
    return min(len(sentence[start - distance : start].split()), 30) / 30.0


def span_rows(question: str, sentence: str) -> tuple[list[Span], np.ndarray]:
    """The candidate spans of a sentence and their features."""
    qtype = question_type(question)
    if qtype not in FACTOID:
        return [], np.zeros((0, len(SPAN_FEATURES)))
    q_words = set(re.findall(r"\w+", question.lower()))
    spans = typed_spans(sentence, qtype, q_words)
    if not spans:
        return [], np.zeros((0, len(SPAN_FEATURES)))
    anchors = _anchors(sentence, question)
    rows = []
    for i, s in enumerate(spans):
        before = [s.start - a for a in anchors if a < s.start]
        after = [a - s.end for a in anchors if a >= s.end]
        gap = min([*before, *after], default=len(sentence))
        words = re.findall(r"\w+", s.text.lower())
        f = {f"q_{t}": 1.0 if qtype == t else 0.0 for t in QTYPES if t in FACTOID}
        f.update(
            near=1.0 / (1.0 + gap / 20.0),
            before=1.0 / (1.0 + min(before, default=200) / 20.0),
            after=1.0 / (1.0 + min(after, default=200) / 20.0),
            gap_words=_words_between(sentence, s.start, min(before, default=None)),
            words=min(len(words), 12) / 12.0,
            only=1.0 if len(spans) == 1 else 0.0,
            first=1.0 if i == 0 else 0.0,
            last=1.0 if i == len(spans) - 1 else 0.0,
            count=min(len(spans), 10) / 10.0,
            in_parens=1.0
            if sentence[: s.start].count("(") > sentence[: s.start].count(")")
            else 0.0,
            after_prep=1.0 if _PREP.search(sentence[: s.start]) else 0.0,
            has_digit=1.0 if re.search(r"\d", s.text) else 0.0,
            q_overlap=len(set(words) & q_words) / max(len(words), 1),
            position=s.start / max(len(sentence), 1),
        )
        rows.append([f[name] for name in SPAN_FEATURES])
    return spans, np.array(rows, dtype=np.float64)


def span_matches(span: str, answers: list[str]) -> bool:
    """A span is right when it is a gold answer, give or take an article or a unit word."""
    s = re.findall(r"\w+", span.lower())
    for a in answers:
        g = re.findall(r"\w+", a.lower())
        if not g:
            continue
        if s == g:
            return True
        inner, outer = (s, g) if len(s) <= len(g) else (g, s)
        joined_inner, joined_outer = f" {' '.join(inner)} ", f" {' '.join(outer)} "
        if joined_inner in joined_outer and len(outer) - len(inner) <= 1:
            return True
    return False


class Picker:
    """The fitted span picker: logistic weights over SPAN_FEATURES and a threshold."""

    def __init__(self, weights: list[float], bias: float, threshold: float) -> None:
        self.weights = np.asarray(weights, dtype=np.float64)
        self.bias = bias
        self.threshold = threshold

    def pick(self, question: str, sentence: str) -> Span | None:
        """The likeliest span of the asked kind, if likely enough."""
        return self.pick_from(*span_rows(question, sentence))

    def pick_from(self, found: list[Span], x: np.ndarray) -> Span | None:
        """`pick` over the spans and features `span_rows` already gave."""
        if not found:
            return None
        p = 1.0 / (1.0 + np.exp(-(x @ self.weights + self.bias)))
        best = int(np.argmax(p))
        return found[best] if p[best] >= self.threshold else None


def picker(meta: dict[str, object]) -> Picker:
    """The picker stored beside the support model (`qa.answering.training` writes both)."""
    if list(meta.get("span_features", [])) != SPAN_FEATURES:  # type: ignore[call-overload]
        raise ValueError("the span picker was fitted on other features; run make train-answerer")
    return Picker(meta["span_weights"], float(meta["span_bias"]), float(meta["span_threshold"]))  # type: ignore[arg-type]
