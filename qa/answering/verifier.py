"""The claim verifier: whether a sentence supports a claim, refutes it, or neither, with a
confidence, and the verdict over several sentences.

A sibling of the reading model (`qa.answering.reader`): the bundled MiniLM fine-tuned
the same way (`qa.answering.verifier_training`) as a cross-encoder over
`[CLS] claim [SEP] sentence [SEP] title [SEP]` (the title of the sentence's article), with
one logit per verdict, run as int8 ONNX
(`models/verifier.onnx`). Its logits and the value comparisons of
`qa.answering.compare` ("more than 20" against "24", "the older" against "the
younger", "did not") go into a multinomial logistic stacker (`models/verifier.json`)
fitted on pages the model was not trained on.

Over several sentences the verdict is decided by one of them: the sentence with the
highest probability of supporting or of refuting the claim, whichever is higher. When
that probability is under the threshold chosen on the fit part (so that wrong
"supported" and wrong "contradicted" verdicts stay rare), the verdict is "neither", and
the sentences likeliest to bear on the claim are the related ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from . import compare
from .reader import MODEL_DIR, Reader, Window, encode

ONNX_PATH = MODEL_DIR / "verifier.onnx"
META_PATH = MODEL_DIR / "verifier.json"
BUDGET = (40, 72, 0)  # tokens of claim and of sentence (no sentence before)
LABELS = ("supports", "refutes", "neither")
SUPPORTS, REFUTES, NEITHER = LABELS


SHORT_PARAGRAPH = 400  # characters: a paragraph this short is also read whole


def read_whole(paragraph: str, sentences: list[str]) -> bool:
    """Whether a paragraph of these sentences is also read whole, beside them: it has
    more than one and is short (a claim may join two of its sentences)."""
    return len(sentences) > 1 and len(paragraph) <= SHORT_PARAGRAPH


def window(claim: str, sentence: str, title: str = "") -> Window:
    """`[CLS] claim [SEP] sentence [SEP] title [SEP]`: the article's title (at most
    `reader.T_TOKENS` of it) names what a sentence leaves unnamed ("The series premiered
    in 2014" on the page "Gotham (TV series)")."""
    return encode(claim, sentence, title=title, budget=BUDGET)


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    out: np.ndarray = e / e.sum(axis=-1, keepdims=True)
    return out


@dataclass
class Judged:
    """The verdict over a claim's sentences: which sentence decides it, how sure."""

    label: str  # one of LABELS
    confidence: float  # the deciding probability (of supports or refutes)
    index: int  # the deciding sentence (for "neither": the one likeliest to bear on it)
    probs: np.ndarray  # per sentence: P(supports), P(refutes), P(neither)


def aggregate(probs: np.ndarray, threshold: float) -> Judged:
    """The verdict decided by one sentence: the highest P(supports) or P(refutes) over
    the sentences, whichever is higher, when it reaches `threshold`; else neither."""
    if not len(probs):
        return Judged(NEITHER, 0.0, -1, probs)
    s, r = int(np.argmax(probs[:, 0])), int(np.argmax(probs[:, 1]))
    if probs[s, 0] >= probs[r, 1]:
        label, index, p = SUPPORTS, s, float(probs[s, 0])
    else:
        label, index, p = REFUTES, r, float(probs[r, 1])
    if p < threshold:
        return Judged(NEITHER, p, int(np.argmin(probs[:, 2])), probs)
    return Judged(label, p, index, probs)


class Verifier(Reader):
    """The int8 graph and its stacker."""

    def __init__(self, model: Path = ONNX_PATH, meta: Path | None = META_PATH) -> None:
        super().__init__(model, meta)

    def logits(
        self, claim: str, sentences: list[str], titles: list[str] | None = None
    ) -> np.ndarray:
        """The model's three logits per sentence (supports, refutes, neither); `titles`:
        each sentence's article title (none where not given)."""
        if not sentences:
            return np.zeros((0, 3), np.float32)
        named = titles or [""] * len(sentences)
        return self.raw_logits([window(claim, s, t) for s, t in zip(sentences, named, strict=True)])

    def raw_logits(self, windows: list[Window]) -> np.ndarray:
        """The three logits per window, each read alone (`Reader.each`)."""
        out = [o[0].reshape(3) for o in self.each(windows)]
        return np.array(out, np.float32).reshape(len(windows), 3)

    def probs(
        self, claim: str, sentences: list[str], titles: list[str] | None = None
    ) -> np.ndarray:
        """P(supports), P(refutes), P(neither) per sentence, from the stacker."""
        return stacked(self.meta, self.logits(claim, sentences, titles), claim, sentences)

    @property
    def threshold(self) -> float:
        return float(self.meta["confident_above"])

    def judge(self, claim: str, sentences: list[str], titles: list[str] | None = None) -> Judged:
        return aggregate(self.probs(claim, sentences, titles), self.threshold)


def stack_features(logits: np.ndarray, claim: str, sentences: list[str]) -> np.ndarray:
    """The stacker's inputs: the model's logits, then the value comparisons."""
    values = np.array([compare.features(claim, s) for s in sentences], np.float64)
    return np.hstack([logits.astype(np.float64), values.reshape(len(sentences), -1)])


def stacked(
    meta: dict[str, Any], logits: np.ndarray, claim: str, sentences: list[str]
) -> np.ndarray:
    if not sentences:
        return np.zeros((0, 3))
    x = stack_features(logits, claim, sentences)
    w = np.array(meta["stacker"]["coef"])
    b = np.array(meta["stacker"]["intercept"])
    mean, scale = np.array(meta["stacker"]["mean"]), np.array(meta["stacker"]["scale"])
    return _softmax(((x - mean) / scale) @ w.T + b)


@lru_cache(maxsize=1)
def verifier() -> Verifier | None:
    """The committed verifier, or None where it is missing (the rules judge alone)."""
    if not (ONNX_PATH.is_file() and META_PATH.is_file()):
        return None
    return Verifier()
