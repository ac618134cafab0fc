"""The support scorer: how likely a sentence of a retrieved paragraph is to state the
answer to a question (or the claim of a model's sentence), learned from data.

Every sentence of the top paragraphs becomes a row of features: its meaning's nearness
to the question (the bundled embedder), how much of the question's rare words it and its
paragraph hold, which of those are missing, whether it holds the kind of thing asked
for (an amount, a date, a name) that the question does not already say, and its
paragraph's retrieval scores and ranks. A gradient-boosted tree model, fitted by
`qa.answering.training` on SQuAD questions with near misses and out-of-corpus questions, turns
the row into a probability. The model is a small `.npz` of trees read with numpy.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from llama_index.core.schema import NodeWithScore

from ..reading.text import split_sentences, terms
from ..store.embedding import BundledEmbedding
from .answer import Idf, coverage, numbers_named, sentence_vectors, split_context
from .qtype import QTYPES, question_type, typed_spans

MODEL_PATH = Path(__file__).parent / "models" / "support.npz"
CANDIDATE_PARAGRAPHS = 6

FEATURES = (
    [f"q_{t}" for t in QTYPES]
    + ["q_terms", "q_has_number"]
    + ["sem", "sem_gap", "sem_rank", "sem_ctx"]
    + ["cover", "cover_gap", "cover_ctx", "cover_prev", "cover_para", "cover_rare", "cover_title"]
    + ["bigram", "bigram_gap", "pronoun"]
    + ["miss_sent_max", "miss_para_max", "miss_para_count", "number_missing"]
    + ["type_ok", "type_count", "type_near"]
    + ["dense", "dense_gap", "bm25", "bm25_gap", "rank", "dense_rank", "bm25_rank"]
    + ["position", "first", "words", "new_words", "sentences"]
)


@dataclass
class Candidate:
    """One sentence of one retrieved paragraph, with its features and (once scored) the
    probability that it states the answer."""

    sentence: str
    hit: NodeWithScore
    index: int  # sentence number in its paragraph, from 0
    rank: int  # the paragraph's rank in retrieval, from 1
    covered: set[str]
    features: dict[str, float] = field(default_factory=dict)
    score: float = 0.0


def _bigrams(seq: list[str]) -> set[tuple[str, str]]:
    return set(zip(seq, seq[1:], strict=False))


# A sentence that opens by referring back ("He was also accompanied by ...").
_PRONOUN = re.compile(r"[“\"']?(he|she|they|it|his|her|their|its|this|these|those|there)\b", re.I)


@lru_cache(maxsize=8192)
def _read(
    text: str, head: str
) -> tuple[list[str], list[list[str]], frozenset[str], frozenset[str]]:
    """A paragraph's sentences, their terms, its title's terms and all its terms; kept,
    since the same paragraphs come back question after question."""
    sentences = split_sentences(text)
    title_terms = frozenset(terms(head))
    return (
        sentences,
        [terms(s) for s in sentences],
        title_terms,
        title_terms | frozenset(terms(text)),
    )


def candidates(
    question: str,
    q_vec: np.ndarray,
    hits: list[NodeWithScore],
    embedder: BundledEmbedding,
    idf: Idf,
    paragraphs: int = CANDIDATE_PARAGRAPHS,
) -> list[Candidate]:
    """Every sentence of the top paragraphs, with features (not yet scored)."""
    main, context = split_context(question)
    q_seq = terms(main)
    weights = {t: idf(t) for t in set(q_seq)}
    for t in set(terms(context)) - set(weights):
        weights[t] = 0.5 * idf(t)  # an earlier turn's words count, but less
    top_idf = max(weights.values(), default=1.0) or 1.0
    rare = dict(sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[:2])  # most specific
    q_bigrams = _bigrams(q_seq)
    qtype = question_type(main)
    q_words = set(re.findall(r"\w+", main.lower()))
    numbers = numbers_named(main)
    hits = hits[:paragraphs]
    dense_top = max((float(h.node.metadata.get("dense_score", 0.0)) for h in hits), default=0.0)
    bm25_top = max((float(h.node.metadata.get("bm25_score", 0.0)) for h in hits), default=0.0)

    rows: list[Candidate] = []
    for rank, hit in enumerate(hits, start=1):
        meta = hit.node.metadata
        text = hit.node.get_content()
        head = " ".join([str(meta.get("title", "")), str(meta.get("heading", ""))])
        sentences, sent_terms, title_terms, para_terms = _read(text, head)
        cover_title, _ = coverage(weights, set(title_terms))
        cover_para, _ = coverage(weights, set(para_terms))
        missing_para = [weights[t] for t in weights if t not in para_terms]
        dense = float(meta.get("dense_score", 0.0))
        bm25 = float(meta.get("bm25_score", 0.0))
        for i, sentence in enumerate(sentences):
            words = set(sent_terms[i])
            cover, covered = coverage(weights, words)
            ctx_words = set(words)
            for j in (i - 1, i + 1):
                if 0 <= j < len(sentences):
                    ctx_words |= set(sent_terms[j])
            cover_ctx, _ = coverage(weights, ctx_words)
            prev_words = set(sent_terms[i - 1]) if i > 0 else set()
            cover_prev, _ = coverage(weights, words | prev_words)
            cover_rare, _ = coverage(rare, words)
            missing = [weights[t] for t in weights if t not in words]
            spans = typed_spans(sentence, qtype, q_words)
            near = 0.0
            if spans and covered:
                lowered = sentence.lower()
                anchors = [
                    m.start() for t in covered for m in re.finditer(re.escape(t[:4]), lowered)
                ]
                if anchors:
                    gap = min(abs(s.start - a) for s in spans for a in anchors)
                    near = 1.0 / (1.0 + gap / 40.0)
            n_words = len(sentence.split())
            f = {f"q_{t}": 1.0 if qtype == t else 0.0 for t in QTYPES}
            f.update(
                q_terms=float(len(weights)),
                q_has_number=1.0 if numbers else 0.0,
                cover=cover,
                cover_ctx=cover_ctx,
                cover_prev=cover_prev,
                cover_rare=cover_rare,
                cover_title=cover_title,
                pronoun=1.0 if _PRONOUN.match(sentence) else 0.0,
                cover_para=cover_para,
                bigram=len(_bigrams(sent_terms[i]) & q_bigrams) / max(len(q_bigrams), 1),
                miss_sent_max=max(missing, default=0.0) / top_idf,
                miss_para_max=max(missing_para, default=0.0) / top_idf,
                miss_para_count=float(sum(1 for w in missing_para if w >= 0.5 * top_idf)),
                number_missing=1.0 if any(n not in text for n in numbers) else 0.0,
                type_ok=1.0 if spans else 0.0,
                type_count=float(len(spans)),
                type_near=near,
                dense=dense,
                dense_gap=dense_top - dense,
                bm25=bm25 / bm25_top if bm25_top > 0 else 0.0,
                bm25_gap=(bm25_top - bm25) / bm25_top if bm25_top > 0 else 0.0,
                rank=float(rank),
                dense_rank=float(meta.get("dense_rank", 99)),
                bm25_rank=float(meta.get("bm25_rank", 99)),
                position=float(i),
                first=1.0 if i == 0 else 0.0,
                words=float(n_words),
                new_words=len(words - set(weights)) / max(len(words), 1),
                sentences=float(len(sentences)),
            )
            rows.append(Candidate(sentence, hit, i, rank, covered, f))
    if not rows:
        return rows
    sims = sentence_vectors(embedder, [c.sentence for c in rows]) @ q_vec
    for c, sim in zip(rows, sims, strict=False):
        c.features["sem"] = float(sim)
    by_para: dict[str, list[Candidate]] = {}
    for c in rows:
        by_para.setdefault(c.hit.node.node_id, []).append(c)
    for group in by_para.values():
        for c in group:
            near_sims = [o.features["sem"] for o in group if abs(o.index - c.index) == 1]
            c.features["sem_ctx"] = max([c.features["sem"], *near_sims])
    best_sem = max(c.features["sem"] for c in rows)
    best_cover = max(c.features["cover"] for c in rows)
    best_bigram = max(c.features["bigram"] for c in rows)
    order = sorted(rows, key=lambda c: -c.features["sem"])
    for n, c in enumerate(order, start=1):
        c.features["sem_rank"] = float(n)
        c.features["sem_gap"] = best_sem - c.features["sem"]
        c.features["cover_gap"] = best_cover - c.features["cover"]
        c.features["bigram_gap"] = best_bigram - c.features["bigram"]
    return rows


def matrix(rows: list[Candidate]) -> np.ndarray:
    return np.array([[c.features[name] for name in FEATURES] for c in rows], dtype=np.float64)


class Forest:
    """Gradient-boosted trees (scikit-learn's HistGradientBoostingClassifier, exported as
    arrays) evaluated with numpy: no scikit-learn at question time."""

    def __init__(self, arrays: dict[str, np.ndarray], meta: dict[str, object]) -> None:
        self.feature = arrays["feature"]  # (trees, nodes)
        self.threshold = arrays["threshold"]
        self.left = arrays["left"]
        self.right = arrays["right"]
        self.leaf = arrays["leaf"]  # bool
        self.value = arrays["value"]
        self.missing_left = arrays["missing_left"]
        self.baseline = float(arrays["baseline"])
        self.meta = meta
        if meta.get("features") != FEATURES:
            raise ValueError(
                f"{MODEL_PATH.name} was fitted on other features; run make train-answerer"
            )

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> Forest:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        meta = json.loads(str(arrays.pop("meta")))
        return cls(arrays, meta)

    def raw(self, x: np.ndarray) -> np.ndarray:
        """The sum of the trees' leaf values: every row walks every tree at once, one
        level per step (trees are flattened into one node table)."""
        trees, width = self.feature.shape
        offset = (np.arange(trees) * width)[None, :]  # (1, trees)
        feature, threshold = self.feature.ravel(), self.threshold.ravel()
        left, right = self.left.ravel(), self.right.ravel()
        leaf, missing_left = self.leaf.ravel(), self.missing_left.ravel()
        node = np.repeat(offset, len(x), axis=0)  # (rows, trees), flat node ids
        rows = np.arange(len(x))[:, None]
        active = ~leaf[node]
        while active.any():
            v = x[rows, feature[node]]
            go_left = np.where(np.isnan(v), missing_left[node], v <= threshold[node])
            child = np.where(go_left, left[node], right[node]) + offset
            node = np.where(active, child, node)
            active = ~leaf[node]
        out: np.ndarray = self.baseline + self.value.ravel()[node].sum(axis=1)
        return out

    def predict(self, x: np.ndarray) -> np.ndarray:
        if len(x) == 0:
            return np.zeros(0)
        out: np.ndarray = 1.0 / (1.0 + np.exp(-self.raw(x)))
        return out

    @property
    def threshold_answer(self) -> float:
        return float(self.meta["abstain_below"])  # type: ignore[arg-type]


@lru_cache(maxsize=2)
def forest(path: Path = MODEL_PATH) -> Forest:
    return Forest.load(path)


# A question that asks for an amount or a number is not answered by a sentence without
# one, nor is a question that names a number (a year) by a paragraph that lacks it: the
# score is cut to this share. (SQuAD has too few money questions for the model to learn
# the first: a news question "How much did X give?" met an on-topic sentence with no
# figure and was answered. Of the fit part's sentences that answer a "how many" question,
# 3.7% hold no number that qa.answering.qtype finds; of all its answering sentences, 0.2% sit in a
# paragraph that lacks a number the question names, against 8% of all sentences.)
WITHOUT_NUMBER = 0.2
_ANY_NUMBER = re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
                         r"twenty|thirty|forty|fifty|hundred|thousand|million|billion|dozen|half|"
                         r"once|twice)\b", re.I)  # fmt: skip


def score(rows: list[Candidate], model: Forest | None = None) -> list[Candidate]:
    """The rows with `score` set, best first."""
    model = model or forest()
    for c, p in zip(rows, model.predict(matrix(rows)), strict=False):
        c.score = float(p) * penalty(c)
    return ranked(rows)


def penalty(c: Candidate) -> float:
    """WITHOUT_NUMBER for a sentence without the number asked for, 1 otherwise."""
    numeric = c.features["q_money"] or c.features["q_number"]
    if numeric and not _ANY_NUMBER.search(c.sentence) or c.features["number_missing"]:
        return WITHOUT_NUMBER
    return 1.0


def ranked(rows: list[Candidate]) -> list[Candidate]:
    """Best score first; ties by retrieval rank, then position in the paragraph."""
    return sorted(rows, key=lambda c: (-c.score, c.rank, c.index))
