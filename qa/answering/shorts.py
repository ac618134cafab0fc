"""Whether the reader's span is shown as the short answer: a logistic model over what the
span and its sentence say about it, fitted with the reader (`reader_training.fit_stacker`,
on the SQuAD fit part's articles the reader did not train on) and stored in reader.json.

The reader's own probability for its span says much, not all: a span made of the
question's words ("Ministry of Security of Panama" for "Panama's Minister of Security")
or of the wrong kind (no figure for "How many ...?") is wrong more often than that
probability says; one that is the typed span the span picker would pick, less often."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..reading.text import terms
from . import spans
from .qtype import QTYPES, Span, question_type

FEATURES = (
    "span_logit",  # the reader's probability for its span, as a logit
    "support_logit",  # the sentence's score (it states the answer), as a logit
    "picker_agrees",  # the span picker's pick overlaps the span
    "picker_found",  # the span picker picks something in the sentence
    "typed",  # the span is (or was widened or narrowed to) a span of the asked kind
    "typed_found",  # the sentence holds spans of the asked kind
    "words",  # log(1 + its words)
    "question_words",  # the share of its words that are the question's
    "figure",  # it holds a digit
    "capital",  # it starts with a capital
    "sentence_share",  # its length over the sentence's
) + tuple(f"asks_{t}" for t in QTYPES)


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return float(np.log(p / (1 - p)))


def candidate(
    question: str, sentence: str, text: str, found: list[Span] | None = None
) -> tuple[str, bool, bool]:
    """The span as shown: widened to the whole typed span holding it ("6,000,000" ->
    "$6,000,000") or narrowed to the one typed span it holds ("number of migrants ...
    stands at 212,000" -> "212,000" for "How many"); whether it is typed, and whether the
    sentence holds any typed span. `found`: the sentence's typed spans, where
    `spans.span_rows` already gave them."""
    if found is None:
        found = spans.span_rows(question, sentence)[0]
    typed = sorted((s.text for s in found), key=len)
    wider = next((t for t in typed if text in t and len(t) <= len(text) + 4), None)
    inside = [t for t in typed if t in text and t != text]
    if wider:
        return wider, True, True
    if len(inside) == 1:
        return inside[0], True, True
    return text, text in typed, bool(typed)


def features(
    question: str, sentence: str, text: str, p: float, support: float, chooser: spans.Picker
) -> tuple[str, np.ndarray]:
    """The span as shown and its FEATURES row."""
    found, x = spans.span_rows(question, sentence)
    shown, typed, typed_found = candidate(question, sentence, text, found)
    picked = chooser.pick_from(found, x)
    agrees = picked is not None and (text in picked.text or picked.text in text)
    united = spans.with_unit(question, sentence, shown)
    words = terms(united)
    asked = set(terms(question))
    kind = question_type(question)
    row = [
        _logit(p),
        _logit(support),
        float(agrees),
        float(picked is not None),
        float(typed),
        float(typed_found),
        float(np.log1p(len(united.split()))),
        sum(w in asked for w in words) / len(words) if words else 1.0,
        float(bool(re.search(r"\d", united))),
        float(united[:1].isupper()),
        len(united) / max(len(sentence), 1),
    ] + [float(kind == t) for t in QTYPES]
    return shown, np.array(row, dtype=np.float64)


@dataclass(frozen=True)
class Decider:
    """The fitted model: weights over FEATURES, a bias, and the probability (that the span
    is the answer) from which it is shown."""

    weights: np.ndarray
    bias: float
    threshold: float

    def probability(self, row: np.ndarray) -> float:
        return float(1.0 / (1.0 + np.exp(-(row @ self.weights + self.bias))))

    def shown(self, row: np.ndarray) -> bool:
        return self.probability(row) >= self.threshold


def decider(meta: dict[str, Any]) -> Decider | None:
    """The decider stored in reader.json's "short_model" (None for a reader fitted before
    it: the span probability alone decides, from "short_above")."""
    got = meta.get("short_model")
    if not got:
        return None
    if list(got["features"]) != list(FEATURES):
        raise ValueError(
            "the short-answer model was fitted on other features; run make train-reader"
        )
    return Decider(
        np.asarray(got["weights"], dtype=np.float64), float(got["bias"]), float(got["threshold"])
    )
