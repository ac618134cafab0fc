"""What an answer is made of: `Answer` and `Citation`, and the pieces both answerers
share (the question checked, term weights, sentence vectors, citations numbered)."""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np
from llama_index.core.schema import NodeWithScore
from llama_index.retrievers.bm25 import BM25Retriever

from ..errors import QuestionError
from ..settings import MAX_QUESTION_CHARS
from ..store.embedding import BundledEmbedding

ABSTAIN_TEXT = "The articles don't answer this question."
RELATED = 3  # paragraphs shown as related when nothing is cited


def check_question(question: object, noun: str = "question") -> str:
    """The question (or claim: `noun`) with its spaces tidied; empty or too long is an
    error the user can act on."""
    if not isinstance(question, str) or not question.strip():
        raise QuestionError(f"The {noun} is empty: type a {noun} about the articles.")
    question = " ".join(question.split())
    if len(question) > MAX_QUESTION_CHARS:
        raise QuestionError(
            f"The {noun} is {len(question):,} characters long; the limit is "
            f"{MAX_QUESTION_CHARS:,}. {'Ask' if noun == 'question' else 'Write'} something shorter."
        )
    return question


# --- results ----------------------------------------------------------------------


@dataclass
class Citation:
    n: int
    source: str
    paragraph: int
    text: str
    score: float
    title: str = ""
    sentence: str = ""
    heading: str = ""
    # What the article says about itself ("" when unknown), and a PDF's page (0 if none).
    date: str = ""
    author: str = ""
    site: str = ""
    url: str = ""
    page: int = 0
    # The same paragraph in other articles (qa.store.copies): each {"source", "paragraph",
    # "date", "site"}; this citation is the earliest published copy in scope.
    also_in: list[dict[str, object]] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "n": self.n,
            "source": self.source,
            "paragraph": self.paragraph,
            "text": self.text,
            "score": round(self.score, 4),
            "title": self.title,
            "sentence": self.sentence,
            "date": self.date,
            "author": self.author,
            "site": self.site,
            "url": self.url,
            "page": self.page,
            "also_in": self.also_in,
        }


@dataclass
class Answer:
    text: str
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    related: list[Citation] = field(default_factory=list)
    question: str = ""
    standalone_question: str = ""
    confidence: float = 0.0
    notes: list[str] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    # "extractive" or the model's name; `fallback` is True when a model was configured but
    # its reply could not be used (unreachable, failing, or no valid citation), so the
    # extractive answer was returned instead; `notes` then says why.
    answerer: str = "extractive"
    fallback: bool = False
    short: str = ""  # the asked fact, verbatim from the cited sentence ("" when none)
    # Sentences of a model's answer that their citations do not support (qa.answering.grounding).
    flags: list[dict[str, object]] = field(default_factory=list)
    prompt_tokens: int = 0
    retrieved: list[tuple[str, int]] = field(default_factory=list)  # (source, paragraph)
    # The articles the question was restricted to (qa.search.scope: sources, since, until, site,
    # articles, text); None when it was asked of every article.
    scope: dict[str, object] | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "question": self.question,
            "answer": self.text,
            "short": self.short,
            "abstained": self.abstained,
            "citations": [c.as_dict() for c in self.citations],
            "related": [c.as_dict() for c in self.related],
            "standalone_question": self.standalone_question,
            "confidence": round(self.confidence, 4),
            "notes": self.notes,
            "flags": self.flags,
            "answerer": self.answerer,
            "fallback": self.fallback,
            "prompt_tokens": self.prompt_tokens,
            "retrieved": [list(r) for r in self.retrieved],
            "scope": self.scope,
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
        }


def citation_from_hit(hit: NodeWithScore, n: int, score: float, sentence: str = "") -> Citation:
    meta = hit.node.metadata
    return Citation(
        n=n,
        source=str(meta.get("source", "")),
        paragraph=int(meta.get("paragraph", 0)),
        text=hit.node.get_content(),
        score=float(score),
        title=str(meta.get("title", "")),
        sentence=sentence,
        heading=str(meta.get("heading", "")),
        date=str(meta.get("date", "")),
        author=str(meta.get("author", "")),
        site=str(meta.get("site", "")),
        url=str(meta.get("url", "")),
        page=int(meta.get("page", 0) or 0),
        also_in=list(meta.get("also_in", []) or []),
    )


def at_cosine(hit: NodeWithScore, n: int) -> Citation:
    """A retrieved paragraph as citation n, scored by its cosine to the question."""
    return citation_from_hit(hit, n, float(hit.node.metadata.get("dense_score", 0.0)))


def related_citations(hits: Sequence[NodeWithScore]) -> list[Citation]:
    """The closest paragraphs, shown beside an abstention or a verdict with no citation."""
    return [at_cosine(h, n) for n, h in enumerate(hits[:RELATED], start=1)]


class Numbering:
    """Citation numbers as an answer shows them: one [n] per paragraph, however often it
    is quoted, numbered in order of first use. `citations` holds each paragraph once,
    as first cited."""

    def __init__(self) -> None:
        self.citations: list[Citation] = []
        self._numbers: dict[tuple[str, int, str], int] = {}

    def add(self, citation: Citation) -> Citation:
        """`citation` with its paragraph's number (a new number on first use)."""
        key = (citation.source, citation.paragraph, citation.text)
        n = self._numbers.get(key)
        if n is None:
            n = self._numbers[key] = len(self.citations) + 1
            self.citations.append(replace(citation, n=n))
        return replace(citation, n=n)

    def cite(self, hit: NodeWithScore, score: float, sentence: str = "") -> Citation:
        return self.add(citation_from_hit(hit, 0, score, sentence))


# --- shared by the scorers -------------------------------------------------------


class Idf:
    """Inverse document frequency of stemmed terms over the stored paragraphs."""

    def __init__(self, doc_freq: dict[str, int], docs: int) -> None:
        self.doc_freq = doc_freq
        self.docs = max(docs, 1)

    def __call__(self, term: str) -> float:
        df = self.doc_freq.get(term, 0)
        return math.log(1 + (self.docs - df + 0.5) / (df + 0.5))


class WordIndexed(Protocol):
    """A store, or better the question's retriever (qa.search.retrieve.HybridRetriever),
    which keeps the word index its hits came from."""

    def lexical(self) -> BM25Retriever | None: ...


IDF_KEPT = 4  # the term weights of this many word indexes are kept (an ingest replaces one)
_IDF: list[tuple[BM25Retriever, Idf]] = []
_IDF_LOCK = threading.Lock()


def idf_for(source: WordIndexed) -> Idf:
    """Document frequencies straight from the BM25 index (same stemmer, same corpus).
    Given the question's retriever, they are those of the word index it retrieved with,
    even if an ingest elsewhere has replaced the index since."""
    lexical = source.lexical()
    if lexical is None:
        return Idf({}, 1)
    with _IDF_LOCK:
        for held, weights in _IDF:
            if held is lexical:
                return weights
    bm25 = lexical.bm25
    indptr = np.asarray(bm25.scores["indptr"])
    doc_freq = {
        token: int(indptr[i + 1] - indptr[i])
        for token, i in bm25.vocab_dict.items()
        if i + 1 < len(indptr)
    }
    idf = Idf(doc_freq, int(bm25.scores["num_docs"]))
    with _IDF_LOCK:
        _IDF.insert(0, (lexical, idf))
        del _IDF[IDF_KEPT:]
    return idf


_NUMBER_TOKEN = re.compile(r"\b\d[\d,.]*\b")


def numbers_named(text: str) -> set[str]:
    """The figures a question names ("2023", "6,000,000"), as written."""
    return set(_NUMBER_TOKEN.findall(text))


def coverage(weights: dict[str, float], words: set[str]) -> tuple[float, set[str]]:
    """The weighted share of the question's terms among `words`, and which they are."""
    total = sum(weights.values()) or 1.0
    hit = {t for t in weights if t in words}
    return sum(weights[t] for t in hit) / total, hit


def sub_questions(question: str) -> list[str]:
    """'How much X, and how many Y?' asks two things; answer each from its own evidence."""
    parts = re.split(
        r",?\s+and\s+(?=(?:how|what|which|who|whom|whose|when|where|why)\b)", question, flags=re.I
    )
    return [p.strip() for p in parts if len(p.split()) >= 3] if len(parts) > 1 else [question]


_CONTEXT = re.compile(r"\s*\(context: (.*)\)\s*$")


_SENTENCE_CACHE: dict[tuple[str, str], np.ndarray] = {}
_SENTENCE_CACHE_MAX = 50_000


def sentence_vectors(embedder: BundledEmbedding, sentences: list[str]) -> np.ndarray:
    """Sentence vectors, cached: follow-ups and popular paragraphs come back often."""
    name = f"{embedder.model_name}:{getattr(embedder, 'variant', '')}"
    todo = sorted({s for s in sentences if (name, s) not in _SENTENCE_CACHE})
    if todo:
        if len(_SENTENCE_CACHE) + len(todo) > _SENTENCE_CACHE_MAX:
            _SENTENCE_CACHE.clear()
        for sentence, vector in zip(todo, embedder.embed_passages(todo), strict=False):
            _SENTENCE_CACHE[(name, sentence)] = vector
    return np.stack([_SENTENCE_CACHE[(name, s)] for s in sentences])


def forget_sentence_vectors() -> None:
    _SENTENCE_CACHE.clear()


def split_context(question: str) -> tuple[str, str]:
    """'Q (context: C)' from follow-up rewriting -> (Q, C)."""
    m = _CONTEXT.search(question)
    return (question[: m.start()], m.group(1)) if m else (question, "")
