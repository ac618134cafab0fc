"""The offline answerer: quote the sentence(s) that best answer the question, cite
each, or say plainly that the articles don't answer it.

Each sentence of the retrieved paragraphs is scored on semantic similarity to the
question (the same bundled embedder), on how much of the question's rare words it
contains, on the strength of its paragraph, and on whether it holds the kind of thing
asked for (an amount for "how much", a name for "who"). The weights and the abstention
threshold are calibrated on eval/questions.jsonl (see eval/calibrate.py).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
from llama_index.core.schema import NodeWithScore

from .embedding import BundledEmbedding

# Calibrated on eval/questions.jsonl with eval/calibrate.py.
W_SENTENCE, W_PARAGRAPH, W_COVER, W_COVER_PARA, W_TYPE = 0.45, 0.0, 0.30, 0.10, 0.0
# Confidence = score minus penalties for missing what the question asks for: an amount
# for "how much", a year the question names.
TYPE_MISSING_PENALTY, NUMBER_MISSING_PENALTY = 0.2, 0.4
ABSTAIN_BELOW = 0.34
SECOND_WITHIN = 0.06  # a second sentence is quoted only if nearly as good and adds words
CANDIDATE_PARAGRAPHS = 6

ABSTAIN_TEXT = "The articles don't answer this question."

_ABBREV = set(
    "mr mrs ms dr st jr sr gen gov sen rep lt col sgt capt prof inc corp ltd co no vs "
    "jan feb mar apr jun jul aug sep sept oct nov dec approx est".split()
)
_SPLIT = re.compile(r"(?<=[.!?])([”\"’')\]]*)\s+(?=[“\"‘'(\[]?[A-Z0-9¿¡])")


def split_sentences(text: str) -> list[str]:
    """Sentences of a paragraph, verbatim; no split after abbreviations or initials."""
    pieces: list[str] = []
    start = 0
    for m in _SPLIT.finditer(text):
        head = text[start : m.start()]
        last = re.findall(r"([\w.]+)\.$", head)
        word = last[0].lower() if last else ""
        if word and (word in _ABBREV or len(word) == 1 or re.fullmatch(r"(\w\.)+\w", word)):
            continue
        pieces.append(text[start : m.start() + len(m.group(1))].strip())
        start = m.end()
    pieces.append(text[start:].strip())
    return [p for p in pieces if p]


# --- words -----------------------------------------------------------------------

_STOP = set(
    [
        "a",
        "an",
        "the",
        "of",
        "to",
        "in",
        "on",
        "for",
        "and",
        "or",
        "but",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "by",
        "with",
        "at",
        "from",
        "as",
        "that",
        "this",
        "these",
        "those",
        "it",
        "its",
        "he",
        "she",
        "they",
        "them",
        "his",
        "her",
        "their",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "how",
        "when",
        "where",
        "why",
        "did",
        "does",
        "do",
        "done",
        "has",
        "have",
        "had",
        "will",
        "would",
        "can",
        "could",
        "should",
        "may",
        "might",
        "about",
        "into",
        "than",
        "then",
        "there",
        "here",
        "so",
        "such",
        "not",
        "no",
        "any",
        "some",
        "much",
        "many",
        "more",
        "most",
        "also",
        "just",
        "us",
        "me",
        "my",
        "we",
        "our",
        "you",
        "your",
        "i",
        "said",
        "say",
        "says",
        "according",
    ]
)
_WORD = re.compile(r"[\w$€£%’'-]+", re.UNICODE)


def _stemmer():  # type: ignore[no-untyped-def]
    import Stemmer

    return Stemmer.Stemmer("english")


_STEM = _stemmer()


def terms(text: str) -> list[str]:
    words = [w.strip("'’-").lower() for w in _WORD.findall(text)]
    words = [w for w in words if w and w not in _STOP and not w.startswith("$")]
    return list(_STEM.stemWords(words))


# --- what kind of thing the question asks for -------------------------------------

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
    prompt_tokens: int = 0
    retrieved: list[tuple[str, int]] = field(default_factory=list)  # (source, paragraph)

    def as_dict(self) -> dict[str, object]:
        return {
            "question": self.question,
            "answer": self.text,
            "abstained": self.abstained,
            "citations": [c.as_dict() for c in self.citations],
            "related": [c.as_dict() for c in self.related],
            "standalone_question": self.standalone_question,
            "confidence": round(self.confidence, 4),
            "notes": self.notes,
            "answerer": self.answerer,
            "fallback": self.fallback,
            "prompt_tokens": self.prompt_tokens,
            "retrieved": [list(r) for r in self.retrieved],
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
    )


# --- scoring ----------------------------------------------------------------------


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


class Idf:
    """Inverse document frequency of stemmed terms over the stored paragraphs."""

    def __init__(self, doc_freq: dict[str, int], docs: int) -> None:
        self.doc_freq = doc_freq
        self.docs = max(docs, 1)

    def __call__(self, term: str) -> float:
        df = self.doc_freq.get(term, 0)
        return math.log(1 + (self.docs - df + 0.5) / (df + 0.5))


def _coverage(q_terms: dict[str, float], words: set[str]) -> tuple[float, set[str]]:
    total = sum(q_terms.values()) or 1.0
    hit = {t for t in q_terms if t in words}
    return sum(q_terms[t] for t in hit) / total, hit


def sub_questions(question: str) -> list[str]:
    """'How much X, and how many Y?' asks two things; answer each from its own evidence."""
    parts = re.split(
        r",?\s+and\s+(?=(?:how|what|which|who|whom|whose|when|where|why)\b)", question, flags=re.I
    )
    return [p.strip() for p in parts if len(p.split()) >= 3] if len(parts) > 1 else [question]


_YEARLIKE = re.compile(r"\b\d[\d,.]*\b")
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


def split_context(question: str) -> tuple[str, str]:
    """'Q (context: C)' from follow-up rewriting -> (Q, C)."""
    m = _CONTEXT.search(question)
    return (question[: m.start()], m.group(1)) if m else (question, "")


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
    numbers = set(_YEARLIKE.findall(main))
    rows: list[tuple[str, NodeWithScore, dict[str, float], set[str]]] = []
    for rank, hit in enumerate(hits[:CANDIDATE_PARAGRAPHS], start=1):
        meta = hit.node.metadata
        para_text = hit.node.get_content()
        context_text = " ".join(
            [str(meta.get("title", "")), str(meta.get("heading", "")), para_text]
        )
        cover_para, _ = _coverage(q_terms, set(terms(context_text)))
        for sentence in split_sentences(para_text):
            cover, covered = _coverage(q_terms, set(terms(sentence)))
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
