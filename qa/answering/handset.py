"""Today's hand-set scorer, kept as the baseline the learned one is measured against
(`QA_SCORER=handset`): sentences scored on similarity to the question, how much of its
rare words they hold, and whether they hold the kind of thing asked for, with weights
and a threshold set by hand on eval/questions.jsonl (eval/calibrate.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
from llama_index.core.schema import NodeWithScore

from ..reading.text import split_sentences, terms
from ..store.embedding import BundledEmbedding
from .answer import Idf, coverage, numbers_named, sentence_vectors, split_context

# Calibrated on eval/questions.jsonl with eval/calibrate.py.
W_SENTENCE, W_PARAGRAPH, W_COVER, W_COVER_PARA, W_TYPE = 0.45, 0.0, 0.30, 0.10, 0.0
# Confidence = score minus penalties for missing what the question asks for: an amount
# for "how much", a year the question names.
TYPE_MISSING_PENALTY, NUMBER_MISSING_PENALTY = 0.2, 0.4
ABSTAIN_BELOW = 0.34
SECOND_WITHIN = 0.06  # a second sentence is quoted only if nearly as good and adds words
CANDIDATE_PARAGRAPHS = 6


_NUMBER = re.compile(r"\d|\b(million|billion|thousand|hundred|half|dozen)\b", re.I)
_MONEY = re.compile(r"[$€£]\s?\d|\b\d[\d,.]*\s*(million|billion|dollars|euros)\b", re.I)
_DATE = re.compile(
    r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday|january|february|march|"
    r"april|may|june|july|august|september|october|november|december|yesterday|today|"
    r"(last|next|this) (week|month|year)|\d{4}|ago)\b",
    re.I,
)
_NAME = re.compile(r"(?<!^)(?<![.!?]\s)\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)+")


def expected_type(question: str) -> re.Pattern[str] | None:
    q = question.lower()
    if re.search(r"\bhow much\b|\bwhat (amount|sum)\b|\bhow large\b.*\b(reward|sum|fund)", q):
        return _MONEY
    if re.search(r"\bhow many\b|\bwhat number\b|\bwhat percentage\b", q):
        return _NUMBER
    if re.search(r"\bwhen\b|\bwhat (day|date|year|month)\b|\bwhich (day|year|month)\b", q):
        return _DATE
    if re.search(
        r"^\s*(who|whom|whose)\b|\b(which|what)\b[\w\s'’-]{0,40}\b(official|person|"
        r"secretary|minister|president|leader|spokes\w+|officer|head)\b",
        q,
    ):
        return _NAME
    return None


@dataclass
class Scored:
    sentence: str
    hit: NodeWithScore
    score: float
    covered: set[str]
    features: dict[str, float] = field(default_factory=dict)

    @property
    def confidence(self) -> float:
        f = self.features
        return (
            self.score
            - TYPE_MISSING_PENALTY * f.get("type_missing", 0.0)
            - NUMBER_MISSING_PENALTY * f.get("number_missing", 0.0)
        )


def score_sentences(
    question: str,
    q_vec: np.ndarray,
    hits: list[NodeWithScore],
    embedder: BundledEmbedding,
    idf: Idf,
) -> list[Scored]:
    """Every sentence of the top paragraphs, best first, with the evidence behind its
    score in `features`."""
    main, context = split_context(question)
    q_terms = {t: idf(t) for t in set(terms(main))}
    for t in set(terms(context)) - set(q_terms):
        q_terms[t] = 0.5 * idf(t)  # the earlier turn's words count, but less
    wanted = expected_type(main)
    numbers = numbers_named(main)
    rows: list[tuple[str, NodeWithScore, dict[str, float], set[str]]] = []
    for rank, hit in enumerate(hits[:CANDIDATE_PARAGRAPHS], start=1):
        meta = hit.node.metadata
        para_text = hit.node.get_content()
        context_text = " ".join(
            [str(meta.get("title", "")), str(meta.get("heading", "")), para_text]
        )
        cover_para, _ = coverage(q_terms, set(terms(context_text)))
        for sentence in split_sentences(para_text):
            cover, covered = coverage(q_terms, set(terms(sentence)))
            features = {
                "dense": float(meta.get("dense_score", 0.0)),
                "cover": cover,
                "cover_para": cover_para,
                "type_ok": 1.0 if wanted is not None and wanted.search(sentence) else 0.0,
                "type_missing": 1.0 if wanted is not None and not wanted.search(sentence) else 0.0,
                "number_missing": 1.0 if any(n not in para_text for n in numbers) else 0.0,
                "rank": float(rank),
            }
            rows.append((sentence, hit, features, covered))
    if not rows:
        return []
    sims = sentence_vectors(embedder, [r[0] for r in rows]) @ q_vec
    scored = []
    for (sentence, hit, f, covered), sim in zip(rows, sims, strict=False):
        f["sem"] = float(sim)
        score = (
            W_SENTENCE * f["sem"]
            + W_PARAGRAPH * f["dense"]
            + W_COVER * f["cover"]
            + W_COVER_PARA * f["cover_para"]
            + W_TYPE * f["type_ok"]
        )
        scored.append(Scored(sentence, hit, score, covered, f))
    scored.sort(key=lambda s: -s.score)
    return scored


def choose(scored: list[Scored]) -> list[Scored]:
    """The best sentence, plus a runner-up that is nearly as good and covers question
    words the best one does not."""
    if not scored:
        return []
    best = scored[0]
    picked = [best]
    for other in scored[1:4]:
        if other.score < best.score - SECOND_WITHIN:
            break
        if other.covered - best.covered and other.sentence != best.sentence:
            picked.append(other)
            break
    return picked
