"""What an answer is made of: `Answer` and `Citation`, the sentences and words of a
paragraph, and the pieces both answerers share (term weights, sentence vectors)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
from llama_index.core.schema import NodeWithScore

from .embedding import BundledEmbedding

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
    short: str = ""  # the asked fact, verbatim from the cited sentence ("" when none)
    # Sentences of a model's answer that their citations do not support (qa.grounding).
    flags: list[dict[str, object]] = field(default_factory=list)
    prompt_tokens: int = 0
    retrieved: list[tuple[str, int]] = field(default_factory=list)  # (source, paragraph)
    # The articles the question was restricted to (qa.scope: sources, since, until, site,
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
    )


# --- shared by the scorers -------------------------------------------------------


class Idf:
    """Inverse document frequency of stemmed terms over the stored paragraphs."""

    def __init__(self, doc_freq: dict[str, int], docs: int) -> None:
        self.doc_freq = doc_freq
        self.docs = max(docs, 1)

    def __call__(self, term: str) -> float:
        df = self.doc_freq.get(term, 0)
        return math.log(1 + (self.docs - df + 0.5) / (df + 0.5))


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
