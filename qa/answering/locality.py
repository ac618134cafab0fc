"""Where a follow-up's answer stands: near the sentence the conversation last quoted.

A conversation about an article walks through it. In CoQA's conversations (fit part,
2,824 follow-ups with both rationales) the next answer is in the same sentence as the
last one 37% of the time, in the next sentence 22%, two sentences on 10%; it is more
than five sentences away, or back, about a quarter of the time. The offline answerer's
scores are the probability that a sentence states the answer to the question alone;
here, in a conversation, where the sentence stands from the last quoted one is evidence
too. Each candidate's log-odds is moved by an offset for its distance (in sentences of
the article) from the anchor, the first sentence the latest answer quoted:

    logit(p') = logit(p) + offset[bucket(distance)]

The offsets are fitted by maximum likelihood (the candidate's own score a fixed part of
the log-odds, a small L2 pull to 0) on the candidates the answerer met, turn by turn,
in the conversations of CoQA's fit stories (sha256 of the story id, first hex digit
even; `python -m qa.evaluation.locality_fit`, make train-locality). The held-out stories are
only measured on (bench/coqa_conversations.py). A candidate in another article, or a
question with no anchor, keeps its score, and the answerer's threshold is unchanged.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..reading.text import split_sentences
from . import support

MODEL_PATH = Path(__file__).parent / "models" / "locality.json"
BUCKETS = ("back 2+", "back 1", "same", "next", "next 2", "next 3-5", "on 6+")
L2 = 1.0
SLICE_STORIES = 6
_EPS = 1e-6

Near = Callable[[support.Candidate], "int | None"]


def bucket(distance: int) -> int:
    """BUCKETS' index for a distance in sentences (negative: before the anchor)."""
    if distance <= -2:
        return 0
    if distance <= 2:
        return distance + 2
    return 5 if distance <= 5 else 6


@dataclass(frozen=True)
class Anchor:
    """The sentence the latest answer quoted first: its article, paragraph and number
    in that paragraph (from 0)."""

    path: str
    paragraph: int
    index: int


def near_anchor(anchor: Anchor, paragraphs: Sequence[tuple[int, str]]) -> Near:
    """A candidate's distance in sentences from the anchor, None in another article.
    `paragraphs`: (number, text) of the anchor's article."""
    before: dict[int, int] = {}
    count = 0
    for number, text in sorted(paragraphs):
        before[number] = count
        count += len(split_sentences(text))
    start = before.get(anchor.paragraph, 0) + anchor.index

    def distance(c: support.Candidate) -> int | None:
        meta = c.hit.node.metadata
        if str(meta.get("path", "")) != anchor.path:
            return None
        number = int(meta.get("paragraph", 0))
        if number not in before:
            return None
        return before[number] + c.index - start

    return distance


@dataclass(frozen=True)
class Locality:
    offsets: tuple[float, ...]

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> Locality:
        data = json.loads(path.read_text(encoding="utf-8"))
        assert tuple(data["buckets"]) == BUCKETS, "locality.json is of other buckets"
        return cls(tuple(float(x) for x in data["offsets"]))

    def moved(self, score: float, distance: int | None) -> float:
        if distance is None:
            return score
        p = min(max(score, _EPS), 1 - _EPS)
        z = math.log(p / (1 - p)) + self.offsets[bucket(distance)]
        return 1.0 / (1.0 + math.exp(-z))


_MODEL: list[Locality] = []
# Set by the fitting: each adjust() call appends its candidates' (score, distance,
# sentence) before they are moved.
RECORD: list[list[tuple[float, int | None, str]]] | None = None


def model() -> Locality:
    if not _MODEL:
        _MODEL.append(Locality.load())
    return _MODEL[0]


def adjust(rows: list[support.Candidate], near: Near) -> list[support.Candidate]:
    """The candidates rescored for where they stand from the anchor, best first."""
    if RECORD is not None:
        RECORD.append([(c.score, near(c), c.sentence) for c in rows])
    m = model()
    for c in rows:
        c.score = m.moved(c.score, near(c))
    return support.ranked(rows)


# --- fitting -----------------------------------------------------------------------------


def fit_offsets(rows: Sequence[tuple[float, int, bool]], l2: float = L2) -> list[float]:
    """Offsets by Newton's method: log-odds logit(score) + offset[bucket], the score's
    part fixed; rows are (score, bucket, is the answer)."""
    import numpy as np

    p0 = np.clip(np.array([r[0] for r in rows]), _EPS, 1 - _EPS)
    base = np.log(p0 / (1 - p0))
    b = np.array([r[1] for r in rows])
    y = np.array([float(r[2]) for r in rows])
    onehot = np.eye(len(BUCKETS))[b]
    w = np.zeros(len(BUCKETS))
    for _ in range(50):
        p = 1 / (1 + np.exp(-(base + onehot @ w)))
        grad = onehot.T @ (p - y) + l2 * w
        hess = onehot.T @ (onehot * (p * (1 - p))[:, None]) + l2 * np.eye(len(BUCKETS))
        step = np.linalg.solve(hess, grad)
        w -= step
        if float(np.abs(step).max()) < 1e-9:
            break
    return [round(float(x), 4) for x in w]


Group = list[tuple[float, int | None, bool]]


def anchored(groups: Sequence[Group]) -> list[tuple[float, int, bool]]:
    """The candidates in the anchor's article, as fit_offsets takes them."""
    return [(s, b, y) for g in groups for s, b, y in g if b is not None]
